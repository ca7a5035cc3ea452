"""Chat state and recovery: what the customer's chats are and what it was shown.

Pushes are delivered once, on the socket of the moment (docs/protocol.md §1.3:
"no retries"), so events sent while the SDK was reconnecting never arrive as
pushes. After every reconnect the SDK asks each chat it knows for its newest
events, back to the last one it had seen, and emits those it missed as
``new_event``, in order, before any live event that arrived meanwhile (those
are deferred).

Rules:

1. Every ``new_event`` the SDK emits goes through :meth:`EventLedger.admit`, so an
   event is emitted at most once, whichever way (live push or recovery) it came.
2. The ledger remembers, per chat, the newest event seen (the high-water mark,
   in server time) and the ids of the last :data:`REMEMBERED_IDS` events.
3. :class:`Chats` alone writes what is known of the chats (active or not, the
   ledger, the deferred live events); both are bounded by ``max_chats``
   (:data:`MAX_CHATS`): chat ids come from the server.
"""

from __future__ import annotations

import datetime
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from ..events import NewEvent, new_event
from ..exceptions import ProtocolError, ServerError
from ..protocol.frames import Push
from ..protocol.methods import ListChatsResult, ListThreads, ListThreadsResult
from ..protocol.models import Event
from ..results import ChatsSummaryItem, chats_summary_item
from ..stores.base import ChatCheckpoint

__all__ = [
    "MAX_CHATS",
    "MAX_RECOVERY_PAGES",
    "RECOVERY_PAGE_SIZE",
    "REMEMBERED_IDS",
    "Chats",
    "EventLedger",
    "missed_events",
]

MAX_CHATS = 1_000
"""Chats whose state (active or not, events seen) the engine remembers. Chat ids
come from the server's pushes, so the memory is bounded: the least recently
heard-of chat is forgotten first (it is still recovered by ``list_chats``)."""

REMEMBERED_IDS = 256
"""Event ids remembered per chat to drop duplicates. Duplicates can only come from
the overlap between a recovery walk and the live pushes deferred meanwhile, all at or
after the high-water mark, so the last few hundred ids are plenty."""

RECOVERY_PAGE_SIZE = 25
"""Events a recovery walk asks for per ``list_threads`` page (``min_events_count``)."""

MAX_RECOVERY_PAGES = 100
"""Pages of ``list_threads`` one chat's recovery walks at most (with the default
page size, 2,500 events or more): a walk that has not reached the last event
seen by then is cut short, so a server that pages for ever cannot hold the
connection in recovery."""

log = logging.getLogger("rxlivechat")

_MIN_TIME = datetime.datetime.min.replace(tzinfo=datetime.UTC)


class _ChatMemory:
    __slots__ = ("ids", "newest")

    def __init__(self) -> None:
        self.ids: OrderedDict[str, None] = OrderedDict()
        self.newest: datetime.datetime | None = None


class EventLedger:
    """Which events of which chats the customer has already been shown.

    Args:
        max_chats: chats remembered at most; the chat first heard of is
            forgotten first.
    """

    def __init__(self, *, max_chats: int = 1_000) -> None:
        self._chats: OrderedDict[str, _ChatMemory] = OrderedDict()
        self._max_chats = max_chats

    @property
    def chats(self) -> list[str]:
        """The chats the ledger knows (to recover after a reconnect)."""
        return list(self._chats)

    def forget(self) -> None:
        """Forget every chat."""
        self._chats.clear()

    def knows(self, chat_id: str) -> bool:
        """Whether the ledger watches ``chat_id``."""
        return chat_id in self._chats

    def know(self, chat_id: str) -> None:
        """Start watching a chat (no events seen yet)."""
        self._memory(chat_id)

    def newest(self, chat_id: str) -> datetime.datetime | None:
        """When the newest event seen in the chat was created, if any."""
        memory = self._chats.get(chat_id)
        return None if memory is None else memory.newest

    def admit(self, chat_id: str, event: Event) -> bool:
        """Record ``event``; ``False`` if it was seen before (drop it)."""
        memory = self._chats.get(chat_id) or self._memory(chat_id)
        event_id = event.id
        if event_id is not None:
            ids = memory.ids
            if event_id in ids:
                return False
            ids[event_id] = None
            if len(ids) > REMEMBERED_IDS:
                ids.popitem(last=False)
        created = event.created_at
        if created is not None and (memory.newest is None or created > memory.newest):
            memory.newest = created
        return True

    def start_from(self, checkpoint: ChatCheckpoint) -> None:
        """Start from a stored checkpoint: its newest event and recent ids seen.

        A restarted SDK then replays only what came after the checkpoint, and
        drops the committed events a recovery walk meets again.
        """
        memory = self._memory(checkpoint.chat_id)
        for event_id in checkpoint.recent_ids[-REMEMBERED_IDS:]:
            memory.ids[event_id] = None
        memory.ids[checkpoint.event_id] = None
        while len(memory.ids) > REMEMBERED_IDS:
            memory.ids.popitem(last=False)
        if memory.newest is None or checkpoint.created_at > memory.newest:
            memory.newest = checkpoint.created_at

    def mark_seen(self, chat_id: str, events: Iterable[Event]) -> None:
        """Record events the customer got another way (e.g. in ``incoming_chat``)."""
        for event in events:
            self.admit(chat_id, event)

    def _memory(self, chat_id: str) -> _ChatMemory:
        chats = self._chats
        memory = chats.get(chat_id)
        if memory is None:  # a new chat: forget the one heard of first
            memory = chats[chat_id] = _ChatMemory()
            if len(chats) > self._max_chats:
                chats.popitem(last=False)
        return memory


async def missed_events(
    ask: Callable[[ListThreads], Awaitable[ListThreadsResult]],
    chat_id: str,
    since: datetime.datetime | None,
    *,
    page_size: int = RECOVERY_PAGE_SIZE,
    max_pages: int = MAX_RECOVERY_PAGES,
) -> list[tuple[str, Event]]:
    """The events of ``chat_id`` created at or after ``since``, oldest first.

    Walks ``list_threads`` from the newest thread back, only as far as ``since``.
    With ``since=None`` (no event seen in that chat yet), the whole chat.

    Returns:
        ``(thread_id, event)`` pairs, oldest first; the caller drops those already
        seen (the boundary event itself comes back too).

    Raises:
        ProtocolError: the server repeated a page id (it would page for ever).
    """
    found: list[tuple[datetime.datetime, int, str, Event]] = []
    request = ListThreads(
        chat_id=chat_id, sort_order="desc", min_events_count=page_size
    )
    order = 0
    pages: set[str] = set()
    for _ in range(max_pages):
        page = await ask(request)
        reached = False
        for thread in page.threads:
            for event in thread.events or ():
                created = event.created_at or _MIN_TIME
                if since is not None and created < since:
                    reached = True
                    continue
                order += 1
                found.append((created, order, thread.id, event))
            if since is not None and thread.created_at < since:
                reached = True
        if reached or page.next_page_id is None:
            break
        if page.next_page_id in pages:
            raise ProtocolError(f"list_threads of {chat_id} repeats a page id")
        pages.add(page.next_page_id)
        request = ListThreads(chat_id=chat_id, page_id=page.next_page_id)
    else:
        log.warning("recovery of chat %s stopped after %d pages", chat_id, max_pages)
    # Threads come newest first, events oldest first within each: sort by time.
    found.sort(key=lambda item: (item[0], item[1]))
    return [(thread_id, event) for _, _, thread_id, event in found]


class Chats:
    """The customer's chats as the engine knows them: its one owner.

    Args:
        max_chats: chats remembered at most (active state and ledger alike).
    """

    __slots__ = ("_active", "_deferred", "_max_chats", "ledger")

    def __init__(self, *, max_chats: int = MAX_CHATS) -> None:
        self._max_chats = max_chats
        self._active: dict[str, bool] = {}
        self.ledger = EventLedger(max_chats=max_chats)
        """Which events of which chats were shown (read by the hot path)."""
        self._deferred: list[Push[Any]] | None = None  # made when needed

    @property
    def active(self) -> Mapping[str, bool]:
        """Chat id → whether it has an active thread, as far as the server said."""
        return self._active

    def remember(self, chat_id: str, active: bool) -> None:
        """Record whether ``chat_id`` has an active thread (the newest fact wins)."""
        chats = self._active
        chats.pop(chat_id, None)
        chats[chat_id] = active
        if len(chats) > self._max_chats:  # forget the least recently heard of
            del chats[next(iter(chats))]

    def forget(self) -> None:
        """Forget every chat: the customer changed (``identity_changed``)."""
        self._active.clear()
        self.ledger.forget()  # in place: the inbox holds it
        self._deferred = None

    def incoming_chat(self, chat_id: str, events: Iterable[Event]) -> None:
        """A chat started (``incoming_chat``): active, its events already shown."""
        self.remember(chat_id, True)
        self.ledger.know(chat_id)
        self.ledger.mark_seen(chat_id, events)

    def learn(
        self, summary: ListChatsResult, *, resuming: bool
    ) -> list[ChatsSummaryItem]:
        """Learn the chats of a login's ``list_chats``; returns their v1 summaries.

        A chat the ledger did not know had its last events shown already, unless
        ``resuming`` a stored customer: a chat with no checkpoint had nothing
        committed, and is replayed whole.
        """
        items = []
        for chat in summary.chats_summary:
            item = chats_summary_item(chat)
            items.append(item)
            self.remember(chat.id, chat.active)
            if not self.ledger.knows(chat.id):
                self.ledger.know(chat.id)
                if not resuming:
                    last = item.last_events_per_type or {}
                    self.ledger.mark_seen(chat.id, last.values())
        return items

    def defer(self, push: Push[Any]) -> None:
        """Keep a live ``incoming_event`` until the missed events are out."""
        if self._deferred is None:
            self._deferred = []
        self._deferred.append(push)

    def take_deferred(self) -> list[Push[Any]]:
        """The deferred pushes, in order; none are kept any more."""
        deferred, self._deferred = self._deferred or [], None
        return deferred

    async def recover(
        self,
        ask: Callable[[ListThreads], Awaitable[ListThreadsResult]],
        deliver: Callable[[NewEvent], None],
        report: Callable[[Exception], None],
    ) -> int:
        """Deliver the events missed while disconnected, chat by chat.

        A chat whose walk fails with a server error is skipped and reported, so
        one broken chat cannot stop every reconnect.

        Returns:
            How many events it delivered.
        """
        delivered = 0
        ledger = self.ledger
        for chat_id in ledger.chats:
            try:
                missed = await missed_events(ask, chat_id, ledger.newest(chat_id))
            except (ServerError, ProtocolError) as exc:
                log.warning("skipped recovering chat %s: %s", chat_id, exc)
                report(exc)
                continue
            for thread_id, event in missed:
                if ledger.admit(chat_id, event):
                    deliver(new_event(chat_id, thread_id, event))
                    delivered += 1
        return delivered
