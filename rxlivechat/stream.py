"""The hot streams: subjects whose subscribers cannot break each other.

A plain ``Subject`` calls its observers in turn, and an exception in one stops the
delivery to the rest and unwinds into the producer: here, the SDK's socket reader.
:class:`HotStream` catches it per observer, reports it, and goes on.
:class:`StreamQueue` reads a hot stream with ``async for``, bounded.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Callable
from typing import Generic, TypeVar

from reactivex import Observable, abc
from reactivex.subject import Subject

from .exceptions import StreamOverflowError
from .handlers import Overflow, check_overflow

__all__ = ["HotStream", "StreamQueue"]

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


class StreamQueue(Generic[T]):
    """A bounded queue of a hot stream, read with ``async for``, from creation on.

    .. code-block:: text

        stream --a--b--c--d-->     queue (bound 2, "drop_oldest"): c d   dropped: 1

    It subscribes when made, so no item emitted after that is missed, and
    unsubscribes when the stream completes, on :meth:`close`, or when the queue
    fails. When ``bound`` items wait, one more is handled by ``overflow``:
    ``"buffer"`` drops the newcomer, ``"drop_oldest"`` the oldest waiting item
    (both counted in :attr:`dropped`), and ``"fail"`` ends the reading with
    :class:`~rxlivechat.StreamOverflowError` after the items waiting.
    Items arrive on the stream's loop; read them there.

    Args:
        stream: the hot observable to read.
        bound: items kept waiting at most (at least 1).
        overflow: what a full queue does (see above).
    """

    def __init__(
        self, stream: Observable[T], bound: int, overflow: Overflow = "drop_oldest"
    ) -> None:
        check_overflow(bound, overflow)
        self.bound = bound
        self.overflow = overflow
        self.dropped = 0
        """Items dropped because the queue was full."""
        self.high_water = 0
        """The most items that waited at once."""
        self._items: collections.deque[T] = collections.deque()
        self._failed: Exception | None = None
        self._done = False
        self._wakeup: asyncio.Future[None] | None = None
        self._subscription = stream.subscribe(
            self._put, on_error=self._fail, on_completed=self.close
        )

    def __len__(self) -> int:
        return len(self._items)

    _reader = "the reader"
    """Who fell behind, in the ``"fail"`` error's message."""

    def _put(self, item: T) -> None:
        items = self._items
        if len(items) >= self.bound:
            if self.overflow == "fail":
                self._fail(
                    StreamOverflowError(
                        f"{self._reader} fell {self.bound} items behind"
                    )
                )
                return
            self.dropped += 1
            self._dropped()
            if self.overflow == "buffer":
                return
            items.popleft()
            self._buffered(-1)
        items.append(item)
        self._buffered(1)
        if len(items) > self.high_water:
            self.high_water = len(items)
        self._wake()

    # Hooks for a queue that keeps counts elsewhere too (the pool's).

    def _dropped(self) -> None:
        """An item was dropped."""

    def _buffered(self, change: int) -> None:
        """The number of items waiting changed by ``change``."""

    def _fail(self, error: Exception) -> None:
        self._failed = error
        self.close()

    def _wake(self) -> None:
        wakeup, self._wakeup = self._wakeup, None
        if wakeup is not None and not wakeup.done():
            wakeup.set_result(None)

    def close(self) -> None:
        """Stop listening; the reader gets what is waiting, then the end."""
        self._done = True
        self._subscription.dispose()
        self._wake()

    async def get(self) -> T:
        """The next item.

        Raises:
            StreamOverflowError: the queue failed (``overflow="fail"``).
            StopAsyncIteration: the stream ended or the queue was closed, and
                nothing waits.
        """
        while not self._items:
            if self._failed is not None:
                raise self._failed
            if self._done:
                raise StopAsyncIteration
            self._wakeup = asyncio.get_running_loop().create_future()
            await self._wakeup
        self._buffered(-1)
        return self._items.popleft()

    def __aiter__(self) -> StreamQueue[T]:
        return self

    async def __anext__(self) -> T:
        return await self.get()

    async def __aenter__(self) -> StreamQueue[T]:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()
