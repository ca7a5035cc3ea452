"""Customer access tokens: the sandbox's side of the Accounts API (docs/protocol.md §7).

Pure bookkeeping, no I/O: :class:`TokenRegistry` issues tokens that expire and
answers "whose token is this, and is it still valid?". It also keeps the two
other secrets the Accounts API checks: each customer's identity secret (the
``__lc_cst`` cookie, without which the cookie grant does not hand out that
customer) and the tokens of the sandbox's own agents (the only ones the
``agent_token`` grant accepts). Every secret comes from :mod:`secrets`.
:mod:`rxlivechat.sandbox.http.accounts` serves it as ``POST /v2/customer/token``.
"""

from __future__ import annotations

import datetime
import hmac
from collections.abc import Callable
from typing import Any

import msgspec

from ..protocol.tokens import TokenReply
from .ids import IdFactory, utc_now

__all__ = ["IssuedToken", "TokenRegistry", "strip_bearer"]


IssuedToken = TokenReply
"""The Accounts API's token response (the protocol's :class:`TokenReply`)."""


class _Grant(msgspec.Struct, kw_only=True):
    customer_id: str
    organization_id: str
    expires_at: datetime.datetime


def strip_bearer(token: str) -> str:
    """The token without a leading ``Bearer `` (any case), and without spaces."""
    token = token.strip()
    scheme, _, rest = token.partition(" ")
    if rest and scheme.lower() == "bearer":
        return rest.strip()
    return token


class TokenRegistry:
    """Issues customer access tokens and checks them.

    Args:
        ids: where token secrets come from.
        ttl: default lifetime in seconds (LiveChat: 28 800, 8 h).
        max_ttl: the longest lifetime a token request may ask for (30 days).
        now: the clock (the wall clock by default).
        max_tokens: customer tokens kept; the oldest are forgotten first.
        max_identities: identity secrets kept (one per customer who got the
            cookies); the oldest are forgotten first (that customer's cookies
            then get a new customer).
    """

    def __init__(
        self,
        ids: IdFactory,
        *,
        ttl: float = 28800,
        max_ttl: int = 30 * 24 * 3600,
        now: Callable[[], datetime.datetime] = utc_now,
        max_tokens: int = 100_000,
        max_identities: int = 50_000,
    ) -> None:
        self.ttl = ttl
        self.max_tokens = max_tokens
        """Customer tokens kept at most (the oldest are forgotten first)."""
        self.max_identities = max_identities
        """Identity secrets kept at most (the oldest are forgotten first)."""
        """Lifetime of new tokens, in seconds."""
        self.max_ttl = max_ttl
        """The largest ``expires_in`` a token request may ask for, in seconds."""
        self._ids = ids
        self._now = now
        self._grants: dict[str, _Grant] = {}
        self._identity_secrets: dict[str, str] = {}
        self._agents_by_token: dict[str, str] = {}
        self._agent_tokens: dict[str, str] = {}
        self._issued_since_sweep = 0

    # Public methods -----------------------------------------------------------------

    def issue(
        self,
        customer_id: str,
        organization_id: str,
        *,
        ttl: float | None = None,
        client_id: str | None = None,
    ) -> IssuedToken:
        """Issue a new token for ``customer_id``.

        Args:
            customer_id: the customer the token stands for (``entity_id``).
            organization_id: the organization the customer belongs to.
            ttl: lifetime in seconds; the registry's default when ``None``.
            client_id: echoed in the response when given.

        Returns:
            The Accounts API response.
        """
        lifetime = self.ttl if ttl is None else ttl
        if lifetime > self.max_ttl:
            raise ValueError(f"a token lives at most {self.max_ttl} s")
        self._sweep()
        token = self._ids.access_token()
        self._make_room(self._grants, self.max_tokens)
        self._grants[token] = _Grant(
            customer_id=customer_id,
            organization_id=organization_id,
            expires_at=self._now() + datetime.timedelta(seconds=lifetime),
        )
        return IssuedToken(
            access_token=token,
            entity_id=customer_id,
            # The wire field is whole seconds; a sub-second test ttl reads as 0.
            expires_in=int(lifetime),
            token_type="Bearer",
            organization_id=organization_id,
            client_id=client_id,
        )

    def register(
        self,
        token: str,
        customer_id: str,
        organization_id: str,
        *,
        ttl: float | None = None,
    ) -> None:
        """Accept a token chosen by the caller (e.g. one printed in the docs)."""
        lifetime = self.ttl if ttl is None else ttl
        self._make_room(self._grants, self.max_tokens)
        self._grants[strip_bearer(token)] = _Grant(
            customer_id=customer_id,
            organization_id=organization_id,
            expires_at=self._now() + datetime.timedelta(seconds=lifetime),
        )

    def check(self, token: str, organization_id: str | None = None) -> str | None:
        """The customer id of a valid token, or ``None``.

        Args:
            token: the token, with or without a ``Bearer`` prefix.
            organization_id: when given, the token must belong to it.

        Returns:
            The customer id, or ``None`` for an unknown, expired, revoked or
            foreign token.
        """
        grant = self._grants.get(strip_bearer(token))
        if grant is None or grant.expires_at <= self._now():
            return None
        if organization_id is not None and grant.organization_id != organization_id:
            return None
        return grant.customer_id

    def expires_at(self, token: str) -> datetime.datetime | None:
        """When a known token expires (``None`` for an unknown one)."""
        grant = self._grants.get(strip_bearer(token))
        return None if grant is None else grant.expires_at

    def revoke(self, token: str) -> bool:
        """Forget a token; returns whether it was known."""
        return self._grants.pop(strip_bearer(token), None) is not None

    # Identity secrets and agent tokens ---------------------------------------------

    def identity_secret(self, customer_id: str) -> str:
        """The customer's identity secret (the ``__lc_cst`` cookie), made once."""
        secret = self._identity_secrets.get(customer_id)
        if secret is None:
            self._make_room(self._identity_secrets, self.max_identities)
            secret = self._identity_secrets[customer_id] = self._ids.secret()
        return secret

    def check_identity(self, customer_id: str | None, secret: str | None) -> bool:
        """Whether ``secret`` is the identity secret handed out for ``customer_id``."""
        known = self._identity_secrets.get(customer_id or "")
        return (
            known is not None
            and secret is not None
            and hmac.compare_digest(known.encode(), secret.encode())
        )

    def agent_token(self, agent_id: str) -> str:
        """The access token of one of the sandbox's agents (made on first use)."""
        token = self._agent_tokens.get(agent_id)
        if token is None:
            token = self._agent_tokens[agent_id] = self._ids.access_token()
            self._agents_by_token[token] = agent_id
        return token

    def check_agent(self, token: str) -> str | None:
        """The agent id of an agent token the sandbox issued, or ``None``."""
        return self._agents_by_token.get(strip_bearer(token))

    # Private methods ----------------------------------------------------------------

    @staticmethod
    def _make_room(kept: dict[str, Any], limit: int) -> None:
        """Forget the oldest entries (dicts keep insertion order) below ``limit``."""
        while len(kept) >= limit:
            del kept[next(iter(kept))]

    def _sweep(self) -> None:
        """Now and then, forget expired tokens (a token per request adds up)."""
        self._issued_since_sweep += 1
        if self._issued_since_sweep < 1024:
            return
        self._issued_since_sweep = 0
        now = self._now()
        expired = [t for t, g in self._grants.items() if g.expires_at <= now]
        for token in expired:
            del self._grants[token]
