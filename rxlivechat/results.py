"""What the seed (v1) methods return, built from v3.6 replies (digest §6.1).

Each Struct carries the v1 "Returned value" fields in snake_case. Times are
timezone-aware ``datetime``s, where v1 used epoch milliseconds.
"""

from __future__ import annotations

import datetime

import msgspec

from .protocol.base import Model
from .protocol.models import ChatSummary, Event, Thread

__all__ = [
    "ChatThread",
    "ChatsSummary",
    "ChatsSummaryItem",
    "CloseThreadResult",
    "HistoryPage",
    "LastSeenTimestamp",
    "RateChatResult",
    "SendFileResult",
    "ThreadSummaryItem",
    "ThreadsSummary",
    "chats_summary_item",
]


class CloseThreadResult(Model):
    """``close_thread``: whether the thread was closed."""

    success: bool


class ChatsSummaryItem(Model):
    """One chat of ``get_chats_summary`` and of the ``connected`` event."""

    id: str
    active: bool
    users: list[str]
    last_thread: str | None = None
    last_event: Event | None = None
    last_events_per_type: dict[str, Event] | None = None
    last_seen_timestamps: dict[str, datetime.datetime | None] | None = None


class ChatsSummary(Model):
    """``get_chats_summary``: a page of the customer's chats, and how many there are."""

    chats_summary: list[ChatsSummaryItem]
    total_chats: int


class ChatThread(Model):
    """``get_chat_threads``: one thread with its events (v1 shape)."""

    id: str
    chat: str
    active: bool
    order: int
    users: list[str]
    events: list[Event]
    created_at: datetime.datetime


class ThreadSummaryItem(Model):
    """One thread of ``get_chat_threads_summary``."""

    id: str
    order: int
    total_events: int


class ThreadsSummary(Model):
    """``get_chat_threads_summary``: a page of a chat's threads, and how many."""

    threads_summary: list[ThreadSummaryItem]
    total_threads: int


class RateChatResult(Model):
    """``rate_chat``: ``id`` is the rated thread (v3.6 returns no rating event)."""

    id: str


class SendFileResult(Model):
    """``send_file``: the file's permanent URL."""

    url: str


class LastSeenTimestamp(Model):
    """``update_last_seen_timestamp``: the time now marked as seen."""

    timestamp: datetime.datetime


def thread_order(created_at: datetime.datetime) -> int:
    """v1's thread ``order``, which v3.6 dropped: microseconds since the epoch."""
    return int(created_at.timestamp() * 1_000_000)


def chats_summary_item(chat: ChatSummary) -> ChatsSummaryItem:
    """The v1 summary of a v3.6 ``list_chats`` entry."""
    last_per_type = {
        kind: last.event for kind, last in (chat.last_event_per_type or {}).items()
    }
    stamped = [e for e in last_per_type.values() if e.created_at is not None]
    last_event = max(stamped, key=lambda e: e.created_at or _EPOCH, default=None)
    return ChatsSummaryItem(
        id=chat.id,
        active=chat.active,
        users=[user.id for user in chat.users],
        last_thread=chat.last_thread_id,
        last_event=last_event,
        last_events_per_type=last_per_type,
        last_seen_timestamps={user.id: user.events_seen_up_to for user in chat.users},
    )


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


class HistoryPage(Model):
    """One page of a chat's history, and the seed iterator's ``{done, value}``.

    Attributes:
        done: no older page exists. The last page carries ``done=True`` *and* its
            data (as in the JS SDK); ``next()`` then answers ``done=True`` with
            empty lists.
        value: the page's events, oldest first, each with ``thread_id`` set
            (the seed v1's flat ``Event[]``).
        threads: the page's threads, oldest first, holding the same events
            (the JS SDK v2+ ``{threads}`` shape).
    """

    done: bool
    value: list[Event] = msgspec.field(default_factory=list)
    threads: list[Thread] = msgspec.field(default_factory=list)
