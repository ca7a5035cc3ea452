"""What the seed (v1) methods return, built from v3.6 replies (docs/protocol.md §6.1).

Each Struct carries the v1 "Returned value" fields in snake_case. Times are
timezone-aware ``datetime``s, where v1 used epoch milliseconds.
"""

from __future__ import annotations

import datetime

import msgspec

from .protocol.base import Model
from .protocol.models import ChatSummary, Event, Thread, capped_repr

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
    """``close_thread``: whether the thread was closed.

    Attributes:
        success: ``True`` (a failure errors instead).
    """

    success: bool


class ChatsSummaryItem(Model):
    """One chat of ``get_chats_summary`` and of the ``connected`` event.

    Attributes:
        id: the chat.
        active: whether a thread is open.
        users: the ids of the chat's users.
        last_thread: the id of the chat's latest thread.
        last_event: the chat's latest event.
        last_events_per_type: the latest event of each type, by type.
        last_seen_timestamps: when each user (by id) last saw the chat.
    """

    id: str
    active: bool
    users: list[str]
    last_thread: str | None = None
    last_event: Event | None = None
    last_events_per_type: dict[str, Event] | None = None
    last_seen_timestamps: dict[str, datetime.datetime | None] | None = None


class ChatsSummary(Model):
    """``get_chats_summary``: a page of the customer's chats, and how many there are.

    Attributes:
        chats_summary: the page's chats, newest first.
        total_chats: how many chats the customer has.
    """

    chats_summary: list[ChatsSummaryItem]
    total_chats: int


class ChatThread(Model):
    """``get_chat_threads``: one thread with its events (v1 shape).

    Attributes:
        id: the thread.
        chat: the thread's chat.
        active: whether the thread is open.
        order: v1's order (see :func:`thread_order`).
        users: the ids of the thread's users.
        events: its events, oldest first, each with ``thread_id`` set.
        created_at: when the thread started.
    """

    id: str
    chat: str
    active: bool
    order: int
    users: list[str]
    events: list[Event]
    created_at: datetime.datetime

    __repr__ = capped_repr  # its events, first and last: see capped_repr


class ThreadSummaryItem(Model):
    """One thread of ``get_chat_threads_summary``.

    Attributes:
        id: the thread.
        order: v1's order (see :func:`thread_order`).
        total_events: how many events the thread holds.
    """

    id: str
    order: int
    total_events: int


class ThreadsSummary(Model):
    """``get_chat_threads_summary``: a page of a chat's threads, and how many.

    Attributes:
        threads_summary: the page's threads, oldest first.
        total_threads: how many threads the chat has.
    """

    threads_summary: list[ThreadSummaryItem]
    total_threads: int

    __repr__ = capped_repr  # up to 1,000 threads


class RateChatResult(Model):
    """``rate_chat``: the rated thread (v3.6 returns no rating event).

    Attributes:
        id: the rated thread.
    """

    id: str


class SendFileResult(Model):
    """``send_file``: the file's permanent URL.

    Attributes:
        url: the file on LiveChat's CDN.
    """

    url: str


class LastSeenTimestamp(Model):
    """``update_last_seen_timestamp``: the time now marked as seen.

    Attributes:
        timestamp: the time sent (timezone-aware).
    """

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

    # The events are in ``value`` and again in ``threads``: without the cap, a
    # 50,000-event page was a 22 MB repr (Jupyter's text/plain).
    __repr__ = capped_repr
