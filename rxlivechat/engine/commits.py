"""Durability: the customer's store handle, identity, side storage and commits.

:class:`Durable` is the one owner of what outlives the process (docs/stores.md):
it opens the customer's store once per engine, resumes from its snapshot, keeps
the identity and the side storage, writes in the background, and holds the
:class:`Commits`.

Commits: which handed-out events are handled, written to the store in order.

A chat's checkpoint is a high-water mark: once it names an event, a restarted SDK
replays only what came after it. So an event may be written only when every
event of its chat handed out before it is committed too. With auto-commit the
events are committed in the order they are handed out, and go straight to the
store; with manual commits (``auto_commit=False``) each chat keeps a queue of the
events handed out and not yet committed, and writes its head while it is done.

An async handler *holds* the event it took (:meth:`Commits.hold`) until its task
ends (:meth:`Commits.release`): the event then waits in its chat's queue, with
auto-commit too, so it is written once the handler completed, never when its
coroutine was merely created. An event a handler will never finish (dropped by a
full handler, cancelled) is *abandoned*: its chat writes nothing from it on in
this life, and the next life replays from the checkpoint before it.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping

from ..exceptions import StoreError
from ..protocol.models import Event
from ..stores.base import CustomerStore, Identity, Snapshot
from .options import Options
from .recovery import EventLedger

__all__ = ["Commits", "Durable", "Held"]

log = logging.getLogger("rxlivechat")


class _Handed:
    __slots__ = ("chat_id", "created_at", "done", "event_id", "holds", "thread_id")

    def __init__(
        self,
        chat_id: str,
        event_id: str,
        created_at: datetime.datetime | None,
        thread_id: str,
    ) -> None:
        self.chat_id = chat_id
        self.event_id = event_id
        self.created_at = created_at
        self.thread_id = thread_id
        self.done = False
        self.holds = 0  # async handlers still running it

    @property
    def written(self) -> bool:
        """Whether it may be written (once everything before it is)."""
        return self.done and not self.holds


Held = _Handed
"""What :meth:`Commits.hold` returns, to give back to ``release``/``abandon``."""


class Commits:
    """The events handed out per chat, and when each may be written.

    Args:
        auto: commit every event as soon as it is handed out (its subscribers
            returned); ``False`` waits for :meth:`commit`.
    """

    def __init__(self, *, auto: bool) -> None:
        self.auto = auto
        self.store: CustomerStore | None = None
        """Where commits go; ``None`` until the engine opened it."""
        self._queues: dict[str, OrderedDict[str, _Handed]] = {}
        # Chats an abandoned event stopped for this life (never cleared: writing
        # past the abandoned event would lose it), or all of them once halted.
        self._stalled: set[str] = set()
        self._halted = False

    @property
    def pending(self) -> int:
        """Events handed out and not yet written, over every chat."""
        return sum(len(queue) for queue in self._queues.values())

    def handed_out(self, chat_id: str, thread_id: str, event: Event) -> None:
        """``event`` was delivered to every subscriber (they all returned)."""
        if event.id is None or self._stopped(chat_id):
            return  # nothing to name it by, or nothing of its chat is written
        queue = self._queues.get(chat_id)
        if self.auto and queue is None:  # nothing held before it: write it now
            self._write(chat_id, event.id, event.created_at, thread_id)
            return
        if queue is None:
            queue = self._queues[chat_id] = OrderedDict()
        handed = queue.get(event.id)
        if handed is None:
            handed = queue[event.id] = _Handed(
                chat_id, event.id, event.created_at, thread_id
            )
        if self.auto:
            handed.done = True
            self._drain(chat_id, queue)

    def commit(self, chat_id: str, event_id: str) -> bool:
        """Mark the event handled; write it (and what waited on it) when in order.

        Returns:
            ``False`` if no such event is waiting (never handed out in this life,
            or committed already): committing is idempotent.
        """
        queue = self._queues.get(chat_id)
        handed = None if queue is None else queue.get(event_id)
        if queue is None or handed is None:
            return False
        handed.done = True
        self._drain(chat_id, queue)
        return True

    def hold(self, chat_id: str, thread_id: str, event: Event) -> Held | None:
        """An async handler took ``event``: it is not written before :meth:`release`.

        Called while the event is delivered, before :meth:`handed_out`; once
        per handler that runs it as a task.

        Returns:
            What to give back to :meth:`release` or :meth:`abandon`; ``None``
            when nothing would be written anyway (no store with auto-commit,
            an event without an id, a stopped chat).
        """
        if event.id is None or (self.auto and self.store is None):
            return None
        if self._stopped(chat_id):
            return None
        queue = self._queues.setdefault(chat_id, OrderedDict())
        handed = queue.get(event.id)
        if handed is None:
            handed = queue[event.id] = _Handed(
                chat_id, event.id, event.created_at, thread_id
            )
        handed.holds += 1
        return handed

    def release(self, held: Held) -> None:
        """The handler's task ended: write the event when in order."""
        held.holds -= 1
        queue = self._queues.get(held.chat_id)
        if queue is not None and queue.get(held.event_id) is held:
            self._drain(held.chat_id, queue)

    def abandon(self, held: Held) -> None:
        """A handler will never finish the event: stop its chat for this life.

        What came before it is still written as it completes; it and everything
        after it in its chat never is, so the next life replays from it.
        """
        queue = self._queues.get(held.chat_id)
        if queue is None or queue.get(held.event_id) is not held:
            return  # forgotten, or its chat was stopped already
        self._stalled.add(held.chat_id)
        while queue.popitem()[1] is not held:
            pass
        if not queue:
            del self._queues[held.chat_id]

    def halt(self) -> None:
        """Write nothing handed out from now on, in any chat (for this life)."""
        self._halted = True

    def _stopped(self, chat_id: str) -> bool:
        return self._halted or (bool(self._stalled) and chat_id in self._stalled)

    def _drain(self, chat_id: str, queue: OrderedDict[str, _Handed]) -> None:
        """Write the chat's head events while they are done."""
        while queue:
            first_id, first = next(iter(queue.items()))
            if not first.written:
                break
            del queue[first_id]
            self._write(chat_id, first_id, first.created_at, first.thread_id)
        if not queue:
            del self._queues[chat_id]

    def forget(self) -> None:
        """Drop what waits for a commit (its events are replayed next life)."""
        self._queues.clear()

    def _write(
        self,
        chat_id: str,
        event_id: str,
        created_at: datetime.datetime | None,
        thread_id: str,
    ) -> None:
        if self.store is not None and created_at is not None:
            self.store.commit(chat_id, event_id, created_at, thread_id)


class Durable:
    """What outlives the process: the store handle, identity, side storage, commits.

    Args:
        options: the engine's options (its store, organization and customer key).
        cookies: the accounts cookies that are the identity; the same dict the
            token provider sends and updates.
        report: called with a store error the SDK reports (an ``error`` event).
    """

    __slots__ = (
        "_handle",
        "_identity",
        "_options",
        "_report",
        "_writes",
        "commits",
        "cookies",
        "resuming",
        "side_storage",
    )

    def __init__(
        self,
        options: Options,
        cookies: dict[str, str],
        report: Callable[[Exception], None],
    ) -> None:
        self._options = options
        self.cookies = cookies
        self._report = report
        self.commits = Commits(auto=options.auto_commit)
        """The events handed out and when each is written (handlers hold them)."""
        self.side_storage: dict[str, str] = {}
        """The customer's side storage, sent with every login."""
        self.resuming = False
        """The store held this customer: its first login recovers what it missed."""
        self._handle: CustomerStore | None = None
        self._identity: Identity | None = None
        self._writes: dict[asyncio.Task[None], None] | None = None  # made on use

    async def open(self, ledger: EventLedger) -> None:
        """Open the customer's store once per engine, and resume from it.

        Raises:
            StoreError: the store cannot be opened or read.
        """
        store = self._options.store
        if store is None or self._handle is not None:
            return
        handle = store.customer(
            self._options.organization_id, self._options.customer_key
        )
        await handle.open()
        self._handle = handle  # closed by close(), even if load() fails
        try:
            snapshot = await handle.load()
        except StoreError:
            self._handle = None
            await handle.close()
            raise
        self.commits.store = handle
        handle.on_write_error(self._report)
        self._resume(snapshot, ledger)

    def _resume(self, snapshot: Snapshot, ledger: EventLedger) -> None:
        """Carry on from a snapshot: same customer, side storage, checkpoints."""
        identity = snapshot.identity
        if (
            identity is not None
            and identity.organization_id == self._options.organization_id
        ):
            self._identity = identity
            # Before the first token fetch: the cookie grant then gives back
            # the same customer.
            self.cookies.update(identity.cookies)
            self.resuming = True
        for checkpoint in snapshot.checkpoints.values():
            ledger.start_from(checkpoint)
            self.resuming = True
        if snapshot.side_storage and not self.side_storage:
            self.side_storage = dict(snapshot.side_storage)

    async def keep_identity(self, customer_id: str) -> None:
        """Store who the customer is (id and the accounts cookies) when it changed."""
        saved = self._identity
        if saved is not None and saved.customer_id != customer_id:
            error = StoreError(
                f"the stored identity (customer {saved.customer_id}) was not "
                f"accepted; logged in as a new customer, {customer_id}"
            )
            log.warning("%s", error)
            self._report(error)
        if self._handle is None:
            return
        identity = Identity(
            customer_id=customer_id,
            organization_id=self._options.organization_id,
            client_id=self._options.client_id,
            cookies=dict(self.cookies),
        )
        if identity != saved:
            try:
                await self._handle.save_identity(identity)
            except StoreError as exc:
                log.warning("cannot save the identity: %s", exc)
                self._report(exc)
                return
            self._identity = identity

    def keep_side_storage(self, storage: Mapping[str, str]) -> None:
        """The server changed the side storage: keep it for the next login."""
        self.side_storage = dict(storage)
        if self._handle is not None:
            self._write(self._handle.save_side_storage(self.side_storage))

    async def flush(self) -> None:
        """Return once every commit written so far is durable in the store."""
        if self._handle is not None:
            await self._handle.flush()

    async def flush_replay(self) -> None:
        """Write the replay's commits now, before live events are handed out.

        A restart replays in one burst; left to the next batch, its commits
        would wait a flush interval, and a process killed meanwhile (often
        soon after a restart) replays the same window again, run after run.
        """
        if self._handle is None:
            return
        try:  # bounded: a store that hangs must not hold live events for ever
            async with asyncio.timeout(self._options.request_timeout):
                await self._handle.flush()
        except TimeoutError:  # still buffered: the writer goes on
            log.warning("the replay's commits are not written yet (a slow store)")
        except StoreError as exc:  # still buffered: the writer retries
            log.warning("cannot write the replay's commits: %s", exc)
            self._report(exc)

    async def close(self) -> None:
        """Finish the background writes and close the handle.

        What waits for a commit is forgotten: the next run replays it.
        """
        if self._writes:
            await asyncio.wait(set(self._writes))
        handle, self._handle = self._handle, None
        self.commits.store = None
        self.commits.forget()
        if handle is not None:
            await handle.close()

    def _write(self, write: Awaitable[None]) -> None:
        """Run a store write in the background; its failure is reported."""

        async def reported() -> None:
            try:
                await write
            except StoreError as exc:
                log.warning("a store write failed: %s", exc)
                self._report(exc)

        if self._writes is None:
            self._writes = {}
        task = asyncio.get_running_loop().create_task(reported())
        self._writes[task] = None
        task.add_done_callback(self._writes.pop)
