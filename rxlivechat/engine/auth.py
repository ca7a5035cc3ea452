"""Customer access tokens: the Accounts API token endpoint, cached (digest §7).

A *token provider* is any ``async () -> Token`` callable. The SDK calls it before
every login; :class:`CustomerTokenProvider` (the default) answers from its cache
until the token is close to expiry, and :meth:`~CustomerTokenProvider.invalidate`
makes the next call fetch a fresh one (after ``access_token_expired``). Pass your
own callable as ``token_provider=`` to bring tokens from your backend (the
identity-provider hook of the JS SDK).
"""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable
from typing import TypeAlias

import aiohttp
import msgspec

from ..exceptions import ConnectError, TokenRefusedError
from ..protocol.tokens import Token
from .transport import MAX_HTTP_BODY, map_errors, read_limited

__all__ = ["CustomerTokenProvider", "TokenProvider"]


TokenProvider: TypeAlias = Callable[[], Awaitable[Token]]
"""An async callable that returns a valid customer :class:`Token`."""


class CustomerTokenProvider:
    """Fetches customer tokens from ``<accounts_url>/v2/customer/token``, cached.

    The first call creates a customer (``grant_type: cookie``); later fetches keep
    the same identity, through the cookies the Accounts API sets and by naming the
    ``entity_id`` already issued.

    Args:
        http: the aiohttp session to use (its cookie jar keeps the identity).
        accounts_url: e.g. ``"https://accounts.livechat.com"``.
        client_id: the application's client id.
        organization_id: the LiveChat organization.
        refresh_before: a cached token this close to expiry is replaced.
        timeout: seconds the token request may take.
    """

    def __init__(
        self,
        http: aiohttp.ClientSession,
        *,
        accounts_url: str,
        client_id: str,
        organization_id: str,
        refresh_before: datetime.timedelta = datetime.timedelta(minutes=5),
        timeout: float = 15.0,
    ) -> None:
        self._http = http
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
        self.fetches += 1
        with map_errors("cannot fetch a customer token"):
            async with self._http.post(
                self._url, json=body, timeout=self._timeout
            ) as response:
                data = await read_limited(response, MAX_HTTP_BODY)
                status = response.status
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
