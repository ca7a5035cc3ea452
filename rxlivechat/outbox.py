"""``sdk.outbox``: events queued durably, then sent exactly once, in order per chat.

.. code-block:: text

    put(chat, event) ─► custom_id, checked ─► queue (the store's; flushed) ─► returns
                                                  │
         one in flight per chat, chats in parallel ▼
    send_event ──► event ──► settled "sent" ──► results: (entry, event)
        │ drop before the reply: looked up by custom_id (engine/outgoing.py)
        │ transient error: again after a backoff, same custom_id
        └ definite refusal: settled "failed" ──► results: (entry, error)

Rules:

1. ``put`` returns once the entry is in the queue (for SQLite, committed): before
   it is sent. The same ``custom_id`` put twice is one entry (the first one).
2. Entries of a chat go one at a time, in ``seq`` order; chats go in parallel,
   ``max_parallel_chats`` at a time.
3. An entry found queued when the outbox opens may have been sent by a process
   that died before settling it: it is looked up in its chat before it is sent.
   The entries after the first one not found were never sent (rule 2).
4. A send never fails as "may or may not have been applied": the engine looks
   uncertain sends up (docs/concepts.md, "Exactly-once sends").
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import msgspec
from reactivex import Observable
from reactivex.subject import Subject

from .engine.outgoing import find_sent, new_custom_id
from .events import with_thread
from .exceptions import (
    ConnectError,
    ConnectionLost,
    InvalidArgumentError,
    LiveChatError,
    OutboxFullError,
    RequestTimeoutError,
    SDKClosedError,
    ServerError,
    StoreError,
)
from .methods.validate import to_event, validate
from .protocol import methods as m
from .protocol.models import Event
from .stores.outbox import OutboxEntry, OutboxQueue, queue_for

if TYPE_CHECKING:
    from .methods.calls import Calls
    from .sdk import CustomerSDK

__all__ = ["MAX_PENDING", "Outbox", "OutboxEntry"]

MAX_PENDING = 10_000
"""Entries queued at most by default: a blocking ``put`` waits past it."""

MAX_PARALLEL_CHATS = 16
"""Chats sending at once by default."""

RETRY_DELAY = (0.05, 5.0)
"""The backoff of a transient failure: first delay and cap, in seconds."""

TRANSIENT_SERVER_ERRORS = frozenset(
    {
        "internal",
        "service_unavailable",
        "too_many_requests",
        "request_timeout",
        "pending_requests_limit_reached",
    }
)
"""Server error types after which an entry is sent again; any other is definite."""

REMEMBERED = 10_000
"""Settled entries kept in memory, so a repeated ``put`` is answered without a read."""

log = logging.getLogger("rxlivechat.outbox")

Result = tuple[OutboxEntry, Event | LiveChatError]


class Outbox:
    """Events to send exactly once, kept in the customer's store until sent.

    Made by :attr:`rxlivechat.CustomerSDK.outbox` (its first use opens the queue
    and starts sending what a previous process left in it).

    Args:
        sdk: the SDK that sends.
        calls: its calls; the outbox's tasks end with the SDK.
        max_pending: entries queued at most.
        max_parallel_chats: chats sending at once.
    """

    def __init__(
        self,
        sdk: CustomerSDK,
        calls: Calls,
        *,
        max_pending: int = MAX_PENDING,
        max_parallel_chats: int = MAX_PARALLEL_CHATS,
    ) -> None:
        self._sdk = sdk
        self._calls = calls
        options = calls.engine.options
        self._queue: OutboxQueue = queue_for(
            options.store, (options.organization_id, options.customer_key)
        )
        self.max_pending = max_pending
        self._parallel = asyncio.Semaphore(max_parallel_chats)
        self._queued: dict[str, OutboxEntry] = {}
        self._settled: OrderedDict[str, OutboxEntry] = OrderedDict()
        self._chats: dict[str, deque[OutboxEntry]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._maybe_sent: set[str] = set()
        self._writes: set[asyncio.Future[None]] = set()
        self._waiting: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []
        self._results: Subject[Result] = Subject()
        self._closer: asyncio.Task[None] | None = None
        self._opened = calls.spawn(self._open())

    def __repr__(self) -> str:
        where = repr(self._queue)
        if not self._queue.durable:
            where += ": survives drops, not a crash"
        return f"<Outbox {self.pending} pending, in {where}>"

    @property
    def pending(self) -> int:
        """Entries queued and not settled yet."""
        return len(self._queued)

    @property
    def results(self) -> Observable[Result]:
        """Hot: ``(entry, event)`` per entry sent, ``(entry, error)`` per refusal."""
        return self._results

    async def put(
        self,
        chat_id: str,
        event: Event | Mapping[str, Any],
        *,
        attach_to_last_thread: bool = False,
        block: bool = True,
    ) -> OutboxEntry:
        """Queue ``event`` for ``chat_id``; returns once it is durably queued.

        The event gets a ``custom_id`` (on a copy) if it has none. An event whose
        ``custom_id`` was put before is not queued again: the entry put first
        is returned, whatever became of it (queued, sent or failed).

        Args:
            chat_id: the chat to send it to.
            event: an event Struct or the plain dict of its wire form.
            attach_to_last_thread: as for ``send_event``.
            block: with ``max_pending`` entries queued, wait for room
                (``True``) or raise :class:`OutboxFullError` (``False``).

        Returns:
            The queued entry (``seq``, ``custom_id``, ``state``...).

        Raises:
            InvalidArgumentError: what ``send_event`` would refuse, refused now.
            OutboxFullError: full, with ``block=False``.
            StoreError: the queue cannot be written.
            SDKClosedError: the SDK was destroyed.
        """
        self._check_alive()
        typed = to_event(event)
        if not isinstance(attach_to_last_thread, bool):
            raise InvalidArgumentError("attach_to_last_thread must be a bool")
        validate(m.SendEvent(chat_id=chat_id, event=typed))
        if typed.custom_id is None:
            typed = msgspec.structs.replace(typed, custom_id=new_custom_id())
        custom_id = typed.custom_id or ""
        known = self._queued.get(custom_id) or self._settled.get(custom_id)
        if known is not None:
            return known
        await self._open_now()
        while self.pending >= self.max_pending:
            if not block:
                raise OutboxFullError(
                    f"the outbox holds {self.pending} events (max_pending)"
                )
            await self._until(lambda: self.pending < self.max_pending)
            self._check_alive()
        entry = await self._queue.add(
            OutboxEntry(
                seq=0,
                chat_id=chat_id,
                event=typed,
                attach_to_last_thread=attach_to_last_thread,
            )
        )
        if entry.state == "queued" and entry.custom_id not in self._queued:
            self._enqueue(entry)
        return entry

    async def drain(self, timeout: float | None = None) -> None:
        """Wait until every entry queued so far is settled (sent or failed).

        Raises:
            TimeoutError: not drained within ``timeout`` seconds.
            SDKClosedError: the SDK was destroyed meanwhile.
        """
        await self._open_now()
        queued = (
            self._queued
        )  # in seq order: the first is the oldest, the last the newest
        mark = next(reversed(queued.values())).seq if queued else 0

        def drained() -> bool:
            return not queued or next(iter(queued.values())).seq > mark

        async with asyncio.timeout(timeout):
            await self._until(drained)
            self._check_alive()
            self._queue.hurry()
            while self._writes:  # their settling is written too
                await asyncio.wait(set(self._writes))

    # Private ------------------------------------------------------------------------

    async def _open_now(self) -> None:
        opened = self._opened
        if not opened.done():
            await asyncio.shield(opened)
        opened.result()  # its error, if it failed

    async def _until(self, condition: Callable[[], bool]) -> None:
        """Wait until ``condition()`` holds, or the SDK is closed.

        Checked when an entry settles, and only while someone waits.
        """
        if condition() or self._calls.closed:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((condition, future))
        try:
            await future
        finally:
            if not future.done():
                future.cancel()

    def _wake(self) -> None:
        waiting = self._waiting
        if not waiting:
            return
        closed = self._calls.closed
        still = []
        for condition, future in waiting:
            if future.done():
                continue
            if closed or condition():
                future.set_result(None)
            else:
                still.append((condition, future))
        self._waiting = still

    def _check_alive(self) -> None:
        if self._calls.closed:
            raise SDKClosedError("the SDK was destroyed")

    async def _open(self) -> None:
        try:
            entries = await self._queue.open()
        except BaseException:
            await self._queue.close()
            raise
        for entry in entries:  # rule 3: each may have been sent
            self._maybe_sent.add(entry.custom_id)
            self._enqueue(entry)
        self._closer = self._calls.spawn(self._close_with_the_sdk())

    async def _close_with_the_sdk(self) -> None:
        try:
            await asyncio.Future()  # until the SDK's destroy() cancels it
        finally:
            for worker in list(self._workers.values()):
                worker.cancel()
            self._wake()
            await self._queue.close()

    def _enqueue(self, entry: OutboxEntry) -> None:
        self._queued[entry.custom_id] = entry
        chat = self._chats.get(entry.chat_id)
        if chat is None:
            chat = self._chats[entry.chat_id] = deque()
        chat.append(entry)
        if entry.chat_id not in self._workers:
            self._workers[entry.chat_id] = self._calls.spawn(
                self._send_chat(entry.chat_id)
            )

    async def _send_chat(self, chat_id: str) -> None:
        chat = self._chats[chat_id]
        try:
            while chat:
                entry = chat[0]
                async with self._parallel:
                    outcome = await self._deliver(entry)
                chat.popleft()
                self._settle(entry, outcome)
        except SDKClosedError:  # destroyed: what is left stays queued in the store
            return
        finally:
            del self._workers[chat_id]
            if not chat:
                del self._chats[chat_id]

    async def _deliver(self, entry: OutboxEntry) -> Event | LiveChatError:
        """Send ``entry`` until it is sent or definitely refused."""
        delay, cap = RETRY_DELAY
        while True:
            try:
                if entry.custom_id in self._maybe_sent:
                    found = await find_sent(
                        self._calls.engine.ask, entry.chat_id, entry.custom_id
                    )
                    if found is not None:
                        self._maybe_sent.discard(entry.custom_id)
                        _, thread_id, event = found
                        return with_thread(event, thread_id)
                    # Not sent: neither were those after it (rule 3).
                    for later in self._chats.get(entry.chat_id, ()):
                        self._maybe_sent.discard(later.custom_id)
                return await self._sdk.send_event(
                    entry.chat_id,
                    entry.event,
                    attach_to_last_thread=entry.attach_to_last_thread,
                )
            except SDKClosedError:
                raise
            except (
                RequestTimeoutError,
                ConnectError,
                ConnectionLost,
                StoreError,
            ) as exc:
                log.info(
                    "outbox: %s for %s, again in %.2f s", exc, entry.custom_id, delay
                )
            except ServerError as exc:
                if exc.error_type not in TRANSIENT_SERVER_ERRORS:
                    return exc
                log.info(
                    "outbox: %s for %s, again in %.2f s", exc, entry.custom_id, delay
                )
            except LiveChatError as exc:
                return exc
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, cap)

    def _settle(self, entry: OutboxEntry, outcome: Event | LiveChatError) -> None:
        if isinstance(outcome, LiveChatError):
            done = msgspec.structs.replace(entry, state="failed", error=str(outcome))
        else:
            done = msgspec.structs.replace(entry, state="sent", event_id=outcome.id)
        # Written in the background: a crash before it lands costs a lookup
        # (rule 3), and the next entry need not wait for it.
        write = self._queue.settle(done)
        if write not in self._writes:  # settlings written together share one
            self._writes.add(write)
            write.add_done_callback(self._written)
        del self._queued[entry.custom_id]
        self._settled[entry.custom_id] = done
        if len(self._settled) > REMEMBERED:
            self._settled.popitem(last=False)
        self._wake()
        if self._results.observers:
            self._results.on_next((done, outcome))

    def _written(self, write: asyncio.Future[None]) -> None:
        self._writes.discard(write)
        if not write.cancelled() and write.exception() is not None:
            # The entry stays queued in the store: looked up after a restart.
            log.warning(
                "outbox: could not record a settled entry: %s", write.exception()
            )
