"""The API versions spoken, and what each adds or drops (docs/protocol.md §1.1).

One table for both sides: the SDK refuses an action its version lacks before
anything is sent, and the sandbox answers it ``validation``, naming the same
replacement.

.. code-block:: text

    3.5 (legacy)   the base; its replies carry a ``Legacy: YYYY-MM-DD`` header
    3.6 (stable)   + delete_event, request_welcome_message,
                     send_greeting_button_clicked
                   + event_deleted, incoming_event_preview,
                     incoming_thinking_indicator, incoming_welcome_message
    3.7 (preview)  - get_predicted_agent (request_welcome_message replaces it)
                   list_chats replies chats_info (ListChatsInfoResult)

Pure: no I/O.
"""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

import msgspec

from ..exceptions import InvalidArgumentError
from .base import METHODS, VERSIONED, Method
from .frames import API_VERSION

__all__ = [
    "API_VERSIONS",
    "LEGACY_VERSIONS",
    "ApiVersion",
    "check_api_version",
    "for_version",
    "knows_action",
    "knows_push",
    "missing_action",
    "rank",
    "refuse_missing",
]

ApiVersion: TypeAlias = Literal["3.5", "3.6", "3.7"]
"""A version spoken (``init(api_version=...)``)."""

API_VERSIONS: tuple[ApiVersion, ...] = ("3.5", "3.6", "3.7")
"""The versions spoken, oldest first; :data:`~.frames.API_VERSION` is the default."""

LEGACY_VERSIONS = frozenset({"3.5"})
"""Versions in LiveChat's legacy stage: their replies carry a ``Legacy`` header."""

_ACTIONS_ADDED = {
    "3.6": frozenset(
        {"delete_event", "request_welcome_message", "send_greeting_button_clicked"}
    ),
}
_ACTIONS_REMOVED = {
    "3.7": {"get_predicted_agent": "request_welcome_message"},
}
"""Version → action removed in it → what replaces it."""
_PUSHES_ADDED = {
    "3.6": frozenset(
        {
            "event_deleted",
            "incoming_event_preview",
            "incoming_thinking_indicator",
            "incoming_welcome_message",
        }
    ),
}


def rank(version: str) -> tuple[int, ...]:
    """``"3.10"`` after ``"3.9"``: a version as a tuple of numbers."""
    return tuple(int(part) for part in version.split("."))


def check_api_version(version: object) -> ApiVersion:
    """``version`` if it is one of :data:`API_VERSIONS`.

    Raises:
        InvalidArgumentError: any other value.
    """
    if version not in API_VERSIONS:
        raise InvalidArgumentError(
            f"api_version must be one of {', '.join(API_VERSIONS)}, not {version!r}"
        )
    return version


def _absent(version: str, added: dict[str, frozenset[str]], name: str) -> bool:
    """Whether ``name`` came in a version after ``version``."""
    return any(name in names and rank(version) < rank(v) for v, names in added.items())


def knows_push(version: str, push: str) -> bool:
    """Whether the push ``push`` exists in ``version``."""
    return not _absent(version, _PUSHES_ADDED, push)


def missing_action(version: str, action: str) -> str | None:
    """Why ``action`` does not exist in ``version``; ``None`` if it does."""
    if _absent(version, _ACTIONS_ADDED, action):
        return f"{action} is not in API v{version} (new in v3.6)"
    for removed_in, removed in _ACTIONS_REMOVED.items():
        if action in removed and rank(version) >= rank(removed_in):
            return (
                f"{action} was removed in API v{removed_in}: "
                f"use {removed[action]} instead"
            )
    return None


def knows_action(version: str, action: str) -> bool:
    """Whether ``action`` exists in ``version``."""
    return missing_action(version, action) is None


def refuse_missing(method: Method[Any], version: str) -> None:
    """Refuse, before sending, an action ``version`` does not have.

    Raises:
        InvalidArgumentError: naming the version, and the replacement if any.
    """
    if version != API_VERSION:  # the default has every action declared
        why = missing_action(version, method.action)
        if why is not None:
            raise InvalidArgumentError(why)


def for_version(method: Method[Any], version: str) -> Method[Any]:
    """``method`` as sent in ``version``, as the Struct of that version's reply.

    ``ListChats`` is sent as ``ListChatsInfo`` in 3.7, and ``ListChatsInfo`` as
    ``ListChats`` in 3.5 and 3.6; an action ``version`` lacks is refused.

    Raises:
        InvalidArgumentError: ``version`` has no such action.
    """
    kind = type(method)
    if version == API_VERSION and kind.in_version is None:
        return method
    refuse_missing(method, version)
    shape = VERSIONED.get((version, method.action)) or METHODS[method.action]
    if kind is shape:
        return method
    return shape(**msgspec.structs.asdict(method))
