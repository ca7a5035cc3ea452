"""The Accounts API's customer token, as both sides of the wire see it (digest §7).

``POST <accounts_url>/v2/customer/token`` answers a :class:`Token`; a refusal is
an :class:`OAuthError`. The client decodes these and the sandbox encodes them, so
the shapes and their limits live here, once.
"""

from __future__ import annotations

import datetime
from typing import Annotated

import msgspec

from .base import Model

__all__ = ["MAX_EXPIRES_IN", "OAuthError", "Token"]

MAX_EXPIRES_IN = 10 * 365 * 24 * 3600
"""The longest token lifetime accepted, in seconds (ten years): anything longer
is a broken or hostile answer, not a token."""


class Token(Model):
    """A customer access token, as the Accounts API issues it."""

    access_token: str
    entity_id: str = ""
    """The customer's id."""
    expires_in: Annotated[int, msgspec.Meta(ge=0, le=MAX_EXPIRES_IN)] = 28800
    """Lifetime in seconds, counted from :attr:`created_at`."""
    token_type: str = "Bearer"
    organization_id: str | None = None
    client_id: str | None = None
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
        return f"Token(entity_id={self.entity_id!r}, expires_in={self.expires_in})"


class OAuthError(msgspec.Struct):
    """The Accounts API's refusal: ``{"error", "error_description"}``."""

    error: str
    error_description: str = ""
