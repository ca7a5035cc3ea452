"""The Accounts API's customer token, seen from both sides (docs/protocol.md §7).

``POST <accounts_url>/v2/customer/token`` answers a :class:`Token`; a refusal is
an :class:`OAuthError`. The client decodes these and the sandbox encodes them, so
the shapes and their limits live here, once.
"""

from __future__ import annotations

import datetime
from typing import Annotated

import msgspec

from .base import Model

__all__ = ["MAX_EXPIRES_IN", "OAuthError", "Token", "TokenReply"]

MAX_EXPIRES_IN = 10 * 365 * 24 * 3600
"""The longest token lifetime accepted, in seconds (ten years): anything longer
is a broken or hostile answer, not a token."""


class TokenReply(Model):
    """The Accounts API's answer to ``POST /v2/customer/token``: the wire shape."""

    access_token: str
    entity_id: str
    """The customer's id."""
    expires_in: Annotated[int, msgspec.Meta(ge=0, le=MAX_EXPIRES_IN)]
    """Lifetime in seconds."""
    token_type: str
    organization_id: str | None = None
    client_id: str | None = None


class Token(TokenReply):
    """A customer access token as the SDK holds it: the reply, and when it came.

    ``Token(access_token=...)`` makes one by hand (a token provider of your own).
    """

    entity_id: str = ""
    expires_in: Annotated[int, msgspec.Meta(ge=0, le=MAX_EXPIRES_IN)] = 28800
    token_type: str = "Bearer"
    created_at: datetime.datetime = msgspec.field(
        default_factory=lambda: datetime.datetime.now(datetime.UTC)
    )
    """When the token was received (its lifetime counts from here)."""

    @property
    def expires_at(self) -> datetime.datetime:
        """When the token stops working."""
        return self.created_at + datetime.timedelta(seconds=self.expires_in)

    @property
    def authorization(self) -> str:
        """The value for ``Authorization`` headers and the login ``token`` field."""
        return f"{self.token_type} {self.access_token}"

    def __repr__(self) -> str:  # never show the secret
        return f"Token(entity_id={self.entity_id!r}, expires_in={self.expires_in})"


class OAuthError(msgspec.Struct):
    """The Accounts API's refusal: ``{"oauth_exception", "exception_description"}``."""

    oauth_exception: str
    exception_description: str = ""
