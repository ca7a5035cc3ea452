"""Commits: which handed-out events are handled, written to the store in order.

A chat's checkpoint is a high-water mark: once it names an event, a restarted SDK
replays only what came after it. So an event may be written only when every
event of its chat handed out before it is committed too. With auto-commit the
events are committed in the order they are handed out, and go straight to the
store; with manual commits (``auto_commit=False``) each chat keeps a queue of the
events handed out and not yet committed, and writes its head while it is done.
"""

from __future__ import annotations

import datetime
from collections import OrderedDict

from ..protocol.models import Event
from ..stores.base import CustomerStore

__all__ = ["Commits"]


class _Handed:
    __slots__ = ("created_at", "done", "thread_id")

    def __init__(self, created_at: datetime.datetime | None, thread_id: str) -> None:
        self.created_at = created_at
        self.thread_id = thread_id
        self.done = False


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

    @property
    def pending(self) -> int:
        """Events handed out and not yet written, over every chat."""
        return sum(len(queue) for queue in self._queues.values())

    def handed_out(self, chat_id: str, thread_id: str, event: Event) -> None:
        """``event`` was delivered to every subscriber (they all returned)."""
        if event.id is None:
            return  # nothing to name it by: it cannot be committed
        if self.auto:
            self._write(chat_id, event.id, event.created_at, thread_id)
            return
        queue = self._queues.setdefault(chat_id, OrderedDict())
        if event.id not in queue:
            queue[event.id] = _Handed(event.created_at, thread_id)

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
        while queue:
            first_id, first = next(iter(queue.items()))
            if not first.done:
                break
            del queue[first_id]
            self._write(chat_id, first_id, first.created_at, first.thread_id)
        if not queue:
            del self._queues[chat_id]
        return True

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
