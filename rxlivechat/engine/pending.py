"""One request in flight, from submission until it settles, and its deadline.

:class:`Pending` is the session's ticket for a request; :func:`succeed` and
:func:`fail` settle it once (then it keeps no callback, so a settled request
waiting in the deadline queue holds nobody alive); :class:`Deadlines` times
requests of one timeout on a single timer. The table of requests in flight and
the rules that drive them are :mod:`.requests`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from ..protocol.base import Method
from ..protocol.frames import Push
from .outgoing import Key

__all__ = [
    "ABANDONED",
    "MAX_EARLY_PUSHES",
    "Abandoned",
    "Deadlines",
    "Finish",
    "OnError",
    "OnResult",
    "Pending",
    "Trace",
    "fail",
    "keep_push",
    "retire",
    "settled_meanwhile",
    "succeed",
]

log = logging.getLogger("rxlivechat.requests")  # the same logger as the table's

OnResult = Callable[[Any, "Pending"], None]
OnError = Callable[[Exception], None]
Finish = Callable[[BaseException | None], None]
Trace = Callable[[str], Finish]
"""Starts an action's span; what it returns ends it (``None``: success)."""


class Abandoned(Exception):
    """The outcome of a request whose caller stopped waiting (telemetry)."""


ABANDONED = Abandoned("abandoned by its caller")


MAX_EARLY_PUSHES = 16
"""Pushes kept per request that carry its id before its reply comes (our copies
of what it caused: one or two in practice). More are dropped, so a server that
floods them cannot grow the client's memory."""


class Pending:
    """One request, from submission until it settles: the session's ticket."""

    __slots__ = (
        "_pushes",
        "_timer",
        "abandoned",
        "deadline",
        "done",
        "finish",
        "key",
        "method",
        "on_error",
        "on_result",
        "request_id",
        "resent",
        "result_type",
        "sent_at",
        "uncertain",
    )

    def __init__(self, method: Method[Any], on_result: OnResult, on_error: OnError):
        self.method = method
        self.result_type: type[Any] = method.result_type
        self.on_result = on_result
        self.on_error = on_error
        self.request_id: str | None = None
        """Set when the request is written to a socket (again after a reconnect)."""
        self._pushes: list[Push[Any]] | None = None  # made by the first one
        self.done = False
        """Settled, or abandoned: no callback will be called any more."""
        self.abandoned = False
        """Abandoned while on the socket: its slot is freed when the reply comes."""
        self.resent = False
        """Whether a drop already sent this request back to the queue once."""
        self.sent_at = 0.0
        """``time.monotonic()`` when it was last written, if DEBUG logs were on."""
        self.deadline = 0.0
        """The loop time it fails at under the default timeout (:class:`Deadlines`)."""
        self._timer: asyncio.TimerHandle | None = None
        self.finish: Finish | None = None
        """Ends the request's span when it settles (a traced request)."""
        self.key: Key | None = None
        """Where its event is found again (an event-creating request)."""
        self.uncertain = False
        """It may have been applied: it is being looked up, not sent."""

    @property
    def pushes(self) -> list[Push[Any]]:
        """Pushes that carried this request's id before its reply (our copies)."""
        return self._pushes or []


class Deadlines:
    """Request timeouts of one length, on a single timer.

    With one timeout for all, deadlines come in submission order: a queue, and
    one timer for its head, cost less per request than a timer each (a heap
    push, then a cancel, for every request). Each request keeps its own
    deadline (no tuple per request).
    """

    __slots__ = ("_expire", "_queue", "_timer")

    def __init__(self, expire: Callable[[Pending], None]) -> None:
        self._expire = expire
        self._queue: deque[Pending] | None = None  # made on first use
        self._timer: asyncio.TimerHandle | None = None

    def push(self, pending: Pending, timeout: float) -> None:
        """Time ``pending`` out ``timeout`` seconds from now."""
        self.trim()
        queue = self._queue
        if queue is None:
            queue = self._queue = deque()
        loop = asyncio.get_running_loop()
        pending.deadline = loop.time() + timeout
        queue.append(pending)
        if self._timer is None:
            self._timer = loop.call_at(queue[0].deadline, self._fire)

    def trim(self) -> None:
        """Let the settled requests at the head go.

        Replies come mostly in order, so this keeps few settled requests: kept
        until their deadline, thousands would outlive the GC's young generations
        and make its full collections more frequent.
        """
        queue = self._queue
        while queue and queue[0].done:
            queue.popleft()
        if not queue:  # an idle customer keeps no deque (760 bytes) between pings
            self._queue = None

    def _fire(self) -> None:
        self._timer = None
        queue = self._queue
        if queue is None:  # emptied by trim() since it was armed
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        while queue and (queue[0].done or queue[0].deadline <= now):
            pending = queue.popleft()
            if not pending.done:
                self._expire(pending)
        if queue:
            self._timer = loop.call_at(queue[0].deadline, self._fire)


def retire(pending: Pending) -> None:
    """Settled or abandoned: no callback any more, and none kept.

    A settled request may wait in the deadline queue until its deadline; it
    must not keep its caller (an SDK, an observer) alive meanwhile.
    """
    pending.done = True
    pending.on_result = _ignore_result
    pending.on_error = _ignore_error
    pending._pushes = None
    pending.finish = None
    if pending._timer is not None:
        pending._timer.cancel()
        pending._timer = None


def settled_meanwhile(pending: Pending) -> bool:
    """Whether ``pending`` settled meanwhile (read after an ``await``)."""
    return pending.done


def keep_push(pending: Pending, push: Push[Any]) -> None:
    """Keep a push that carried ``pending``'s id before its reply (bounded)."""
    pushes = pending._pushes
    if pushes is None:
        pending._pushes = [push]
    elif len(pushes) < MAX_EARLY_PUSHES:
        pushes.append(push)


def succeed(pending: Pending, result: Any) -> None:
    """Settle ``pending`` with its ``result`` (once: it is retired first)."""
    if log.isEnabledFor(logging.DEBUG):
        _log_settled(pending, "ok")
    on_result, pushes, finish = pending.on_result, pending._pushes, pending.finish
    retire(pending)
    if finish is not None:
        finish(None)
    pending._pushes = pushes  # the caller reads them (our copies of what it caused)
    try:
        on_result(result, pending)
    finally:
        pending._pushes = None


def fail(pending: Pending, error: Exception) -> None:
    """Settle ``pending`` with ``error`` (once: it is retired first)."""
    if log.isEnabledFor(logging.DEBUG):
        kind = getattr(error, "error_type", None) or type(error).__name__
        _log_settled(pending, f"failed ({kind})")
    on_error, finish = pending.on_error, pending.finish
    retire(pending)
    if finish is not None:
        finish(error)
    on_error(error)


def _ignore_result(result: Any, pending: Pending) -> None:
    return None


def _ignore_error(error: Exception) -> None:
    return None


def _log_settled(pending: Pending, outcome: str) -> None:
    latency = ""
    if pending.sent_at:
        latency = f" after {(time.monotonic() - pending.sent_at) * 1000:.1f} ms"
    log.debug(
        "%s (request %s): %s%s",
        pending.method.action,
        pending.request_id,
        outcome,
        latency,
    )
