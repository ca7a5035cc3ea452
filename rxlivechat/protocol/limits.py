"""The API's limits (docs/protocol.md §10), written once for both sides of the wire.

The method Structs carry the numeric ones as msgspec constraints (so decoding a
request refuses them, and the client's ``validate`` checks them before sending);
the rest are read from :data:`LIMITS` by the client's checks and the sandbox's
handlers alike.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

__all__ = [
    "LIMITS",
    "ChatsPageLimit",
    "Limits",
    "MinEventsCount",
    "ThreadsPageLimit",
]


class Limits(msgspec.Struct, frozen=True):
    """The limits of the Customer Chat API v3.6."""

    list_chats_default: int = 10
    list_chats_max: int = 25
    list_threads_default: int = 3
    list_threads_max: int = 100
    min_events_count_max: int = 100
    text_bytes: int = 16 * 1024
    """A message text, in bytes of UTF-8 (§4.3)."""
    session_fields: int = 100
    rich_message_elements: int = 10
    rich_message_buttons: int = 13
    upload_bytes: int = 10 * 1024 * 1024
    """``upload_file``'s limit (10 MB)."""


LIMITS = Limits()
"""The limits of the Customer Chat API v3.6."""

ChatsPageLimit = Annotated[int, msgspec.Meta(ge=1, le=LIMITS.list_chats_max)]
"""``list_chats``' ``limit``: 1 to 25."""

ThreadsPageLimit = Annotated[int, msgspec.Meta(ge=1, le=LIMITS.list_threads_max)]
"""``list_threads``' ``limit``: 1 to 100."""

MinEventsCount = Annotated[int, msgspec.Meta(ge=1, le=LIMITS.min_events_count_max)]
"""``list_threads``' ``min_events_count``: 1 to 100."""
