"""How ``on()``/``once()`` run a handler: inline, or as bounded tasks, in order.

.. code-block:: text

    event ─► Handler.deliver ─┬─ a slot is free: fn(payload) now
                              │    returns None ───────────► done (a plain handler)
                              │    returns an awaitable ───► a task, holding the event
                              └─ every slot busy: the payload waits (at most ``bound``;
                                 full: ``overflow`` decides)
    a task ends ─► the event is released (committed) ─► the next waiting payload runs

Rules:

1. A plain handler runs inline while the event is delivered. An awaitable it
   returns (an ``async def`` handler's coroutine, a method's observable) runs as
   a task on the loop; at most ``concurrency`` of one handler's tasks run at once
   (1 by default: one after the other, in the order the events came).
2. Events that come while every slot is busy wait as payloads (no coroutine is
   made before its turn), at most ``bound`` of them. One more is handled by
   ``overflow``, the pool's policies (:data:`Overflow`): ``"buffer"`` drops the
   newcomer, ``"drop_oldest"`` the oldest waiting event, ``"fail"`` removes the
   handler. The first drop of each overflow is reported.
3. A ``new_event`` run by a task is *held* (:meth:`Commits.hold`): it is
   committed when the task ends, raising or not, as a plain handler's event is
   when the handler returns or raises. An event dropped, or whose task is
   cancelled, is abandoned: its chat commits nothing from it on in this life, so
   the next life replays it (``"fail"`` stops every chat's commits).
4. ``destroy()`` cancels the tasks; what waits is dropped.
"""

from __future__ import annotations

import asyncio
import collections
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Literal, Protocol

from .engine.commits import Commits, Held
from .events import NewEvent
from .exceptions import StreamOverflowError
from .methods.validate import require_choice, require_range

__all__ = ["DEFAULT_BOUND", "Handler", "Overflow", "check_overflow"]

Overflow = Literal["buffer", "drop_oldest", "fail"]
"""What a full bounded queue does with one more item (a pool's :class:`EventQueue`,
a handler's waiting events)."""

OVERFLOWS: tuple[Overflow, ...] = ("buffer", "drop_oldest", "fail")

DEFAULT_BOUND = 10_000
"""Events that may wait for a busy handler, by default."""

Report = Callable[[Exception, str], None]
"""Reports a handler's error: ``report(exc, where)``."""


def check_overflow(bound: int, overflow: str) -> None:
    """Refuse a bound below 1 or an unknown overflow policy.

    Raises:
        InvalidArgumentError: either is invalid.
    """
    require_range("bound", bound, 1, None)
    require_choice("overflow", overflow, OVERFLOWS)


class Host(Protocol):
    """What handlers run in: the SDK's streams."""

    tasks: dict[asyncio.Task[Any], None]
    """The running tasks, cancelled by ``destroy()``."""
    commits: Commits | None
    """The engine's commits (``None``: nothing to hold)."""
    completed: bool
    """Set by ``destroy()``: nothing more starts."""

    def remove(self, name: str, handler: Handler) -> None:
        """Stop delivering ``name`` events to ``handler``."""


class Handler:
    """One ``on()``/``once()`` listener: calls ``fn`` with each event's payload.

    Args:
        host: the streams it runs in.
        name: the event it listens to.
        fn: the user's handler.
        report: where its errors go.
        once: remove it at its first event.
        concurrency: its tasks that may run at once.
        bound: its events that may wait for a free slot.
        overflow: what one more waiting event does (:data:`Overflow`).
    """

    __slots__ = (
        "_full",
        "_host",
        "_report",
        "_waiting",
        "_where",
        "bound",
        "concurrency",
        "dropped",
        "fn",
        "name",
        "once",
        "overflow",
        "running",
    )

    def __init__(
        self,
        host: Host,
        name: str,
        fn: Callable[[Any], object],
        report: Report,
        *,
        once: bool = False,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> None:
        require_range("concurrency", concurrency, 1, None)
        check_overflow(bound, overflow)
        self.fn = fn
        self.name = name
        self.once = once
        self.concurrency = concurrency
        self.bound = bound
        self.overflow = overflow
        self.running = 0
        """Its tasks running now."""
        self.dropped = 0
        """Events dropped because ``bound`` were waiting."""
        self._host = host
        self._report = report
        self._where = f"{'an' if name[0] in 'aeiou' else 'a'} {name!r} handler"
        self._waiting: collections.deque[tuple[Any, Held | None]] = collections.deque()
        self._full = False  # reported this overflow already

    @property
    def waiting(self) -> int:
        """Events waiting for a free slot."""
        return len(self._waiting)

    def deliver(self, payload: Any) -> None:
        """An event came: call ``fn`` now, or keep the payload for a free slot."""
        if self.once:
            self._host.remove(self.name, self)
        if self.running >= self.concurrency:
            self._wait(payload)
            return
        # _call, inlined: this is every event's path.
        try:
            result = self.fn(payload)
        except Exception as exc:
            self._report(exc, self._where)
            return
        if result is not None and inspect.isawaitable(result):
            self._start(result, self._hold(payload))

    def close(self) -> None:
        """Drop what waits (``destroy()``: the store forgets what it held)."""
        self._waiting.clear()

    def _call(self, payload: Any, held: Held | None) -> None:
        """Call ``fn`` with a payload that waited (``held`` since it came)."""
        try:
            result = self.fn(payload)
        except Exception as exc:
            self._report(exc, self._where)
            result = None
        if result is None or not inspect.isawaitable(result):
            self._release(held)  # handled (or raised) before returning
            return
        self._start(result, held)

    def _start(self, result: Awaitable[object], held: Held | None) -> None:
        """Run what ``fn`` returned as a task; the event is held until it ends."""
        try:
            task = asyncio.ensure_future(result)
        except Exception as exc:  # no loop running: nothing to run it on
            self._report(exc, self._where)
            self._release(held)
            return
        self.running += 1
        self._host.tasks[task] = None
        task.add_done_callback(lambda task: self._settled(task, held))

    def _settled(self, task: asyncio.Task[Any], held: Held | None) -> None:
        self.running -= 1
        self._host.tasks.pop(task, None)
        if task.cancelled():
            self._abandon(held)
        else:
            exc = task.exception()
            if exc is not None:
                if not isinstance(exc, Exception):
                    exc = Exception(repr(exc))
                self._report(exc, self._where)
            self._release(held)  # a failed handler's event is committed too
        waiting = self._waiting
        while waiting and self.running < self.concurrency:
            if self._host.completed:
                waiting.clear()
                break
            self._call(*waiting.popleft())
        if len(waiting) < self.bound:
            self._full = False

    def _wait(self, payload: Any) -> None:
        held = self._hold(payload)
        waiting = self._waiting
        if len(waiting) < self.bound:
            waiting.append((payload, held))
            return
        if self.overflow == "fail":
            self._host.remove(self.name, self)
            if self._host.commits is not None:
                self._host.commits.halt()  # the next life replays what it missed
            self._abandon(held)
            self._report(
                StreamOverflowError(
                    f"{self._where} fell {self.bound} events behind; it was removed"
                ),
                self._where,
            )
            return
        self.dropped += 1
        if self.overflow == "drop_oldest":
            waiting.append((payload, held))
            _, held = waiting.popleft()
        self._abandon(held)
        if not self._full:
            self._full = True
            which = "the oldest" if self.overflow == "drop_oldest" else "new ones"
            self._report(
                StreamOverflowError(
                    f"{self._where} fell {self.bound} events behind; "
                    f"dropping {which} ({self.overflow!r})"
                ),
                self._where,
            )

    def _hold(self, payload: Any) -> Held | None:
        commits = self._host.commits
        if commits is None or not isinstance(payload, NewEvent):
            return None
        return commits.hold(payload.chat, payload.thread, payload.event)

    def _release(self, held: Held | None) -> None:
        if held is not None and self._host.commits is not None:
            self._host.commits.release(held)

    def _abandon(self, held: Held | None) -> None:
        if held is not None and self._host.commits is not None:
            self._host.commits.abandon(held)
