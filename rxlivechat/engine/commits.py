"""Commits: which handed-out events are handled, written to the store in order.

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

import datetime
from collections import OrderedDict

from ..protocol.models import Event
from ..stores.base import CustomerStore

__all__ = ["Commits", "Held"]


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
