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

from ._transport import map_errors
from .exceptions import ConnectError
from .protocol.base import Model

__all__ = ["CustomerTokenProvider", "Token", "TokenProvider"]


class Token(Model):
    """A customer access token, as the Accounts API issues it."""

    access_token: str
    entity_id: str = ""
    """The customer's id."""
    expires_in: int = 28800
    """Lifetime in seconds, counted from :attr:`created_at`."""
    token_type: str = "Bearer"
    organization_id: str | None = None
    created_at: datetime.datetime = msgspec.field(
        default_factory=lambda: datetime.datetime.now(datetime.UTC)
    )

    @property
    def expires_at(self) -> datetime.datetime:
        """When the token stops working."""
        return self.created_at + datetime.timedelta(seconds=self.expires_in)

    @property
    def authorization(self) -> str:
        """The value for ``Authorization`` headers and the login ``token`` field."""
        return f"{self.token_type} {self.access_token}"

    def __repr__(self) -> str:  # never show the secret
        return f"Token(entity_id={self.entity_id!r}, expires_at={self.expires_at})"


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
    """

    def __init__(
        self,
        http: aiohttp.ClientSession,
        *,
        accounts_url: str,
        client_id: str,
        organization_id: str,
        refresh_before: datetime.timedelta = datetime.timedelta(minutes=5),
    ) -> None:
        self._http = http
        self._url = f"{accounts_url.rstrip('/')}/v2/customer/token"
        self._client_id = client_id
        self._organization_id = organization_id
        self._refresh_before = refresh_before
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
            async with self._http.post(self._url, json=body) as response:
                data = await response.read()
                status = response.status
        if status != 200:
            raise ConnectError(
                f"the accounts API refused a customer token (HTTP {status}): "
                f"{data[:200].decode(errors='replace')}"
            )
        try:
            return msgspec.json.decode(data, type=Token)
        except msgspec.ValidationError as exc:
            raise ConnectError(f"unexpected token response: {exc}") from None
