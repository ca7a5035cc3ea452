"""Customer access tokens: the Accounts API token endpoint, cached.

The protocol: docs/protocol.md §7.

A *token provider* is any ``async () -> Token`` callable. The SDK calls it before
every login; :class:`CustomerTokenProvider` (the default) answers from its cache
until the token is close to expiry, and :meth:`~CustomerTokenProvider.invalidate`
makes the next call fetch a fresh one (after ``access_token_expired``). Pass your
own callable as ``token_provider=`` to bring tokens from your backend (the
identity-provider hook of the JS SDK).

The customer's identity is two accounts cookies (``__lc_cid``, ``__lc_cst``): the
provider keeps them in a plain dict of its own, not in the HTTP session's cookie
jar, so one session (and one connector) serves every customer of a pool.
"""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable
from email.utils import parsedate_to_datetime
from http.cookies import BaseCookie, SimpleCookie
from typing import TypeAlias

import aiohttp
import msgspec

from ..exceptions import ConnectError, TokenRefusedError
from ..protocol.tokens import Token
from .transport import MAX_HTTP_BODY, map_errors, read_limited
from .web import HttpTap

__all__ = ["CustomerTokenProvider", "TokenProvider"]


TokenProvider: TypeAlias = Callable[[], Awaitable[Token]]
"""An async callable that returns a valid customer :class:`Token`."""


class CustomerTokenProvider:
    """Fetches customer tokens from ``<accounts_url>/v2/customer/token``, cached.

    The first call creates a customer (``grant_type: cookie``); later fetches keep
    the same identity, through the cookies the Accounts API sets (kept in
    :attr:`cookies` and sent back with every token request) and by naming the
    ``entity_id`` already issued.

    Args:
        http: the aiohttp session to use, or a callable returning it; its cookie
            jar plays no part (it may be shared by many customers).
        accounts_url: e.g. ``"https://accounts.livechat.com"``.
        client_id: the application's client id.
        organization_id: the LiveChat organization.
        refresh_before: a cached token this close to expiry is replaced.
        timeout: seconds the token request may take.
        cookies: the accounts cookies to start from (a stored identity). The
            provider keeps this very dict and updates it in place, so whoever
            passed it sees every change.
        record: told of each token exchange (a cassette's recorder; the
            cookies are never passed to it).
    """

    def __init__(
        self,
        http: aiohttp.ClientSession | Callable[[], aiohttp.ClientSession],
        *,
        accounts_url: str,
        client_id: str,
        organization_id: str,
        refresh_before: datetime.timedelta = datetime.timedelta(minutes=5),
        timeout: float = 15.0,
        cookies: dict[str, str] | None = None,
        record: HttpTap | None = None,
    ) -> None:
        self._http = http
        self._record = record
        self.cookies: dict[str, str] = {} if cookies is None else cookies
        """The accounts cookies, name → value: the customer's identity."""
        self._url = f"{accounts_url.rstrip('/')}/v2/customer/token"
        self._client_id = client_id
        self._organization_id = organization_id
        self._refresh_before = refresh_before
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._token: Token | None = None
        self.fetches = 0
        """How many times a token was fetched (not served from the cache)."""

    async def __call__(self) -> Token:
        """The cached token, or a fresh one when it is missing or about to expire."""
        token = self._token
        now = datetime.datetime.now(datetime.UTC)
        if token is None or token.expires_at - self._refresh_before <= now:
            token = self._token = await self._fetch()
        return token

    def invalidate(self) -> None:
        """Drop the cached token; the next call fetches a new one."""
        self._token = None

    async def _fetch(self) -> Token:
        body: dict[str, str] = {
            "grant_type": "cookie",
            "response_type": "token",
            "client_id": self._client_id,
            "organization_id": self._organization_id,
        }
        if self._token is not None and self._token.entity_id:
            body["entity_id"] = self._token.entity_id
        http = self._http
        session = http if isinstance(http, aiohttp.ClientSession) else http()
        headers = {"Cookie": _cookie_header(self.cookies)} if self.cookies else None
        self.fetches += 1
        with map_errors("cannot fetch a customer token"):
            async with session.post(
                self._url, json=body, headers=headers, timeout=self._timeout
            ) as response:
                data = await read_limited(response, MAX_HTTP_BODY)
                status = response.status
                # Any reply may set or delete them, as a browser's jar would take it.
                _keep_cookies(self.cookies, response.cookies)
        if self._record is not None:
            self._record("POST", self._url, body, status, data)
        if status != 200:
            raise TokenRefusedError(
                f"the accounts API refused a customer token (HTTP {status}): "
                f"{data[:200].decode(errors='replace')}",
                status=status,
            )
        try:
            return msgspec.json.decode(data, type=Token)
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as exc:
            raise ConnectError(f"unexpected token response: {exc}") from None


_ENCODE = SimpleCookie().value_encode
"""Quotes a cookie value for a ``Cookie`` header when it needs quoting."""


def _cookie_header(cookies: dict[str, str]) -> str:
    """The ``Cookie`` header that sends ``cookies``."""
    return "; ".join(f"{name}={_ENCODE(value)[1]}" for name, value in cookies.items())


def _keep_cookies(cookies: dict[str, str], received: BaseCookie[str]) -> None:
    """Update ``cookies`` from a reply's ``Set-Cookie`` headers, in place.

    A cookie the server deletes (``Max-Age`` of 0 or less, or an ``Expires`` in
    the past) is removed; any other replaces its old value. Domain and path play
    no part: these cookies are only ever sent to the token endpoint.
    """
    for name, morsel in received.items():
        if _deleted(morsel["max-age"], morsel["expires"]):
            cookies.pop(name, None)
        else:
            cookies[name] = morsel.value


def _deleted(max_age: str, expires: str) -> bool:
    if max_age:  # it wins over Expires (RFC 6265 §5.3); a bad one is ignored
        try:
            return int(max_age) <= 0
        except ValueError:
            pass
    if expires:
        try:
            when = parsedate_to_datetime(expires)
        except ValueError:  # an unreadable date is ignored (RFC 6265 §5.2.1)
            return False
        if when.tzinfo is None:  # the asctime form: GMT
            when = when.replace(tzinfo=datetime.UTC)
        return when <= datetime.datetime.now(datetime.UTC)
    return False
