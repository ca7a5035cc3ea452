"""The engine's listener: the SDK's hot streams and its named handlers.

.. code-block:: text

    Engine ──on_frame──► Streams.frames (hot, typed frames)
           ──on_event──► Streams.events (hot, (name, payload)) and the on()/once()
                         handlers of that name (one dict lookup)

A handler's error, or a subscriber's, is logged and emitted as an ``error``
event; an ``error`` handler's own error is only logged (no loops).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from asyncio.events import _get_running_loop
from collections.abc import Callable
from typing import Any

from reactivex import abc
from reactivex.disposable import Disposable

from .engine.commits import Commits
from .handlers import DEFAULT_BOUND, Handler, Overflow
from .protocol.frames import Frame
from .stream import HotStream

__all__ = ["Streams"]

log = logging.getLogger("rxlivechat")


class Streams:
    """The engine's listener: the SDK's hot streams and its named handlers.

    It holds no reference to the SDK, so a running engine never keeps an SDK
    alive that its user dropped. Each ``on()``/``once()`` handler is a
    :class:`~rxlivechat.handlers.Handler`: a plain one runs inline, an async one
    as bounded tasks held here and cancelled by ``destroy()``; their errors are
    reported alike.
    """

    def __init__(self) -> None:
        self.events: HotStream[tuple[str, Any]] = HotStream(self.report)
        self.frames: HotStream[Frame] = HotStream(self.report)
        # on()/once() handlers by event name: one dict lookup per event, however
        # many handlers listen to other names. Tuples, replaced on change, so
        # delivering never copies.
        self.handlers: dict[str, tuple[Handler, ...]] = {}
        # A dict as a set: empty, 64 bytes instead of 216 per customer.
        self.tasks: dict[asyncio.Task[Any], None] = {}
        self.commits: Commits | None = None
        """The engine's commits, which async handlers hold events in."""
        self.completed = False

    def on_frame(self, frame: Frame) -> None:
        """Emit ``frame`` on the frame stream (when anyone listens)."""
        if self.frames.observers:
            self.frames.on_next(frame)

    def on_event(self, name: str, payload: Any) -> None:
        """Emit ``(name, payload)`` and hand ``payload`` to ``name``'s handlers."""
        if self.events.observers and not self.completed:
            self.events.on_next((name, payload))
        for handler in self.handlers.get(name, ()):
            handler.deliver(payload)

    def listen(
        self,
        name: str,
        fn: Callable[[Any], object],
        *,
        once: bool = False,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase:
        """Call ``fn(payload)`` on ``name`` events; dispose to stop.

        Raises:
            InvalidArgumentError: ``concurrency``, ``bound`` or ``overflow`` is
                invalid.
        """
        # An 'error' handler's own errors are only logged: never re-reported.
        report = _log_only if name == "error" else self.report
        handler = Handler(
            self,
            name,
            fn,
            report,
            once=once,
            concurrency=concurrency,
            bound=bound,
            overflow=overflow,
        )
        self.handlers[name] = (*self.handlers.get(name, ()), handler)
        return Disposable(lambda: self.remove(name, handler))

    def remove(self, name: str, handler: Handler) -> None:
        """Stop delivering ``name`` events to ``handler`` (what waits still runs)."""
        kept = tuple(h for h in self.handlers.get(name, ()) if h is not handler)
        if kept:
            self.handlers[name] = kept
        else:
            self.handlers.pop(name, None)

    def report(self, exc: Exception, where: str = "a subscriber") -> None:
        """A subscriber or handler raised: log it, and emit an ``error`` event."""
        _log_error(where, exc)
        if self.completed:
            return
        # Delivered by plain loops: an error handler that raises again is only
        # logged, never re-reported (no loops).
        for observer in self.events.observers.copy():
            with contextlib.suppress(Exception):
                observer.on_next(("error", exc))
        for handler in self.handlers.get("error", ()):
            handler.deliver(exc)

    def cancel_tasks(self) -> list[asyncio.Task[Any]]:
        """Drop what waits for the handlers, cancel their tasks; returns the tasks.

        The calling task, when it is one (a handler calling ``destroy()``), is
        left to finish.
        """
        for handlers in self.handlers.values():
            for handler in handlers:
                handler.close()
        current = asyncio.current_task() if _get_running_loop() is not None else None
        tasks = [task for task in self.tasks if task is not current]
        for task in tasks:
            task.cancel()
        return tasks

    def complete(self) -> None:
        """Complete both streams and drop every handler (``destroy()``)."""
        self.completed = True
        self.handlers.clear()
        self.events.on_completed()
        self.frames.on_completed()


def _log_only(exc: Exception, where: str) -> None:
    _log_error(where, exc)


def _log_error(where: str, exc: Exception) -> None:
    """Log a user's handler's error at ERROR, seen even with logging unconfigured.

    The package logger has only a ``NullHandler``: in a program that configured
    no logging at all, the record also goes to ``logging.lastResort`` (stderr),
    as it would for a logger of its own, so a broken handler never fails silently.
    """
    if not log.isEnabledFor(logging.ERROR):
        return
    record = log.makeRecord(
        log.name,
        logging.ERROR,
        __file__,
        0,
        "%s raised: %r",
        (where, exc),
        _exc_info(exc),
    )
    log.handle(record)
    last_resort = logging.lastResort
    if last_resort is not None and not _logging_configured():
        last_resort.handle(record)


def _exc_info(exc: BaseException) -> tuple[type[BaseException], BaseException, Any]:
    return type(exc), exc, exc.__traceback__


def _logging_configured() -> bool:
    """Whether a handler other than a ``NullHandler`` would see our records."""
    logger: logging.Logger | None = log
    while logger is not None:
        if any(not isinstance(h, logging.NullHandler) for h in logger.handlers):
            return True
        logger = logger.parent if logger.propagate else None
    return False
