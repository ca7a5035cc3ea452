"""The Customer Chat API versions the sandbox serves side by side: 3.5, 3.6, 3.7.

The official JS Customer SDK 4.0.2 speaks 3.5 (``/v3.5/customer/rtm/ws``, login
``"version": "3.5"``, ``"pushes": {"3.5": [...]}``); our SDK and lc-sdk-python
speak 3.6 by default, 3.5 and 3.7 when asked. Which actions and pushes each
version has is :mod:`rxlivechat.protocol.versions`' one table (the SDK reads
it too); a request for an action its version lacks is ``validation``, naming
the replacement (``get_predicted_agent`` in 3.7: ``request_welcome_message``).
What differs besides, from the docs' changelog:

* replies: ``update_customer_page`` carries ``groups`` only from 3.6, and
  ``get_dynamic_configuration`` has the flat 3.5 shape in 3.5; 3.7's
  ``list_chats`` answers ``chats_info`` (``last_event_per_type`` inside
  ``last_thread_info``) where 3.5 and 3.6 answer ``chats_summary``;
* 3.5 responses carry the ``Legacy: YYYY-MM-DD`` header (the legacy stage's end).

Kept the same in all (the sandbox's choice, ``docs/sandbox-choices.md``): the
new 3.6 fields of shared structures (customer ``phone_number``, ``omnichannel``,
``address``; rich message ``ecommerce``; postback ``button_type``...), which a
3.5 client ignores.

Rules: pure (no I/O); a request's version is its own ``version`` or its
connection's, and may not be lower than the connection's (docs/protocol.md §1.4); each
push is stamped with the version it is delivered in (§1.5).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..exceptions import UnsupportedVersionError
from ..protocol import methods as m
from ..protocol.models import ChatInfo, ChatSummary, LastEventInThread, LastThreadInfo
from ..protocol.versions import (
    API_VERSIONS,
    LEGACY_VERSIONS,
    knows_action,
    knows_push,
    missing_action,
    rank,
)

__all__ = [
    "LEGACY_UNTIL",
    "SUPPORTED_VERSIONS",
    "Subscription",
    "adapt_result",
    "knows_action",
    "knows_push",
    "missing_action",
    "request_version",
]

SUPPORTED_VERSIONS = API_VERSIONS
"""The versions served, oldest first."""

LEGACY_UNTIL = dict.fromkeys(LEGACY_VERSIONS, "2027-02-07")
"""The ``Legacy`` header of each legacy version (no date in the docs: a placeholder)."""


def request_version(requested: str | None, connection: str) -> str:
    """The version a request runs in: its own, or its connection's.

    Raises:
        UnsupportedVersionError: a version the sandbox does not serve, or one
            lower than the connection's (§1.4).
    """
    if requested is None:
        return connection
    if requested not in SUPPORTED_VERSIONS or rank(requested) < rank(connection):
        raise UnsupportedVersionError("Cannot call unsupported API versions.")
    return requested


def adapt_result(action: str, result: Any, version: str) -> Any:
    """A 3.6 result in the shape ``version`` documents for ``action``."""
    if version == "3.7" and isinstance(result, m.ListChatsResult):
        return m.ListChatsInfoResult(
            chats_info=[_chat_info(chat) for chat in result.chats_summary],
            total_chats=result.total_chats,
            next_page_id=result.next_page_id,
            previous_page_id=result.previous_page_id,
        )
    if version != "3.5":
        return result
    if isinstance(result, m.UpdateCustomerPageResult):
        return m.UpdateCustomerPageResult()  # `groups` is new in 3.6
    if isinstance(result, m.GetDynamicConfigurationResult):
        livechat = result.livechat or m.DynamicLivechatConfiguration()
        return {  # the flat 3.5 shape (v3.5 Web reference)
            "group_id": livechat.group_id,
            "organization_id": result.organization_id,
            "client_limit_exceeded": livechat.client_limit_exceeded,
            "domain_allowed": livechat.domain_allowed,
            "online_group_ids": livechat.online_group_ids,
            "config_version": livechat.config_version,
            "localization_version": livechat.localization_version,
            "language": livechat.language,
        }
    return result


def _chat_info(chat: ChatSummary) -> ChatInfo:
    """A chat summary in 3.7's shape: the newest events moved inside the last thread.

    Every entry moves, whichever thread it came from, as the docs' 3.7 sample
    shows (docs/sandbox-choices.md).
    """
    last: LastThreadInfo | None = None
    if chat.last_thread_id is not None and chat.last_thread_created_at is not None:
        per_type = {
            kind: LastEventInThread(event=newest.event)
            for kind, newest in (chat.last_event_per_type or {}).items()
        }
        last = LastThreadInfo(
            id=chat.last_thread_id,
            created_at=chat.last_thread_created_at,
            last_event_per_type=per_type or None,
        )
    return ChatInfo(
        id=chat.id,
        users=chat.users,
        active=chat.active,
        last_thread_info=last,
        access=chat.access,
        properties=chat.properties,
    )


class Subscription:
    """Which pushes a connection gets, and the version each is stamped with.

    Without a ``pushes`` field at login, a connection gets every push of its own
    version (§1.5). With one, it gets the pushes listed (``"all"``: every push
    of that version) in the version they are listed under; a push listed under
    two versions comes in the higher one. A name a version does not have (the
    JS SDK 4.0.2 still lists ``customer_page_updated``) is accepted and never
    sent.

    Args:
        version: the connection's version.
        pushes: the login's ``pushes`` field, if any; versions the sandbox
            does not serve are ignored.
    """

    def __init__(
        self, version: str, pushes: Mapping[str, Sequence[str]] | None = None
    ) -> None:
        self.version = version
        """The connection's version."""
        self._every: list[str] = [] if pushes is not None else [version]
        self._listed: dict[str, str] = {}
        lists = dict(pushes or {})
        for listed_in in sorted(lists, key=rank):
            if listed_in not in SUPPORTED_VERSIONS:
                continue  # a version the sandbox does not serve: ignored
            for name in lists[listed_in]:
                if name == "all":
                    self._every.append(listed_in)
                else:
                    self._listed[name] = listed_in

    def version_of(self, push: str) -> str | None:
        """The version to deliver ``push`` in; ``None``: not subscribed."""
        candidates = [v for v in self._every if knows_push(v, push)]
        listed = self._listed.get(push)
        if listed is not None and knows_push(listed, push):
            candidates.append(listed)
        return max(candidates, key=rank) if candidates else None
