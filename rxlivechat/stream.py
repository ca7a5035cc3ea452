"""The hot streams: subjects whose subscribers cannot break each other.

A plain ``Subject`` calls its observers in turn, and an exception in one stops the
delivery to the rest and unwinds into the producer: here, the SDK's socket reader.
:class:`HotStream` catches it per observer, reports it, and goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from reactivex import abc
from reactivex.subject import Subject

__all__ = ["HotStream"]

log = logging.getLogger("rxlivechat")

T = TypeVar("T")


class HotStream(Subject[T]):
    """A ``Subject`` that isolates its subscribers from each other's errors.

    .. code-block:: text

        source    --a----b----c-->
        good      --a----b----c-->
        faulty    --a--X           (raised on b: reported, unsubscribed from nothing)
                  the stream goes on, and `faulty` still gets c

    Args:
        report: called with every exception a subscriber raised.
    """

    def __init__(self, report: Callable[[Exception], None]) -> None:
        super().__init__()
        self._report = report

    def on_next(self, value: T) -> None:
        """Deliver ``value`` to every subscriber, each on its own.

        No lock: the SDK's streams live on one asyncio loop (and ``list.copy`` is
        atomic), so this skips ``Subject``'s lock and call layers on the per-frame
        path.
        """
        if self.is_stopped:
            return
        self.check_disposed()
        for observer in self.observers.copy():
            try:
                observer.on_next(value)
            except Exception as exc:
                try:
                    self._report(exc)
                except Exception:
                    log.exception("error while reporting a subscriber's error")

    def attach(self, observer: abc.ObserverBase[T]) -> abc.DisposableBase:
        """Add ``observer`` as it is; the subscription, to dispose.

        For an observable forwarding this stream (the SDK itself):
        ``Observable.subscribe`` has already wrapped its subscriber (auto-detach on
        error or completion), so a second wrap, a lock and two disposables per
        subscription, and a call per value, are saved.
        """
        return self._subscribe_core(observer)
