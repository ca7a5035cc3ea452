"""``flat_map`` for fanning requests out, without reactivex's toll per item.

.. code-block:: text

    ---a-----b-----c--|          source
      flat_map(lambda x: sdk.send_event(chat, Message(text=x)))
    ------A----C-B------|        each reply as it comes; done when all are

The rules are reactivex's ``ops.flat_map``, and ``tests/test_operators.py``
checks ours against it marble by marble:

1. Each source item is mapped, and what the mapper returns is subscribed at
   once: an observable (an SDK method's call), a future, or an iterable.
   Nothing limits how many run together: the SDK itself keeps 10 requests
   on the socket and queues the rest.
2. Inner items are emitted as they come, one at a time: a lock serializes
   them, so sources on other threads are safe.
3. The first error (from the source, the mapper or an inner) is emitted, and
   everything else is disposed.
4. It completes once the source and every inner have completed.
5. Disposing the result disposes the source and every inner: an SDK request
   still waiting for its reply is abandoned.

Why not reactivex's own: per inner observable, ``ops.flat_map`` builds three
``synchronized`` wrappers (that decorator evaluates two ``typing.Callable``
annotations each time it runs, about 3 µs), disposables, a list entry and an
index pair through ``zip``. Over inners as lean as an SDK call, that is about
28 µs of CPU an item, nearly what the whole SDK request costs; this one takes
about 7.6 in the same run, the inners' own 3 included (docs/performance.md,
row 2d). Here each inner costs one slotted observer and one dict entry.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeAlias, TypeVar

import reactivex
from reactivex import Observable, abc

__all__ = ["flat_map"]

_T = TypeVar("_T")
_R = TypeVar("_R")

Inner: TypeAlias = (
    Observable[_R] | asyncio.Future[_R] | concurrent.futures.Future[_R] | Iterable[_R]
)
"""What a ``flat_map`` mapper may return (reactivex's ``flat_map`` takes the same)."""


def flat_map(
    mapper: Callable[[_T], Inner[_R]],
) -> Callable[[Observable[_T]], Observable[_R]]:
    """Map each item to an observable and merge what they all emit.

    A drop-in for ``reactivex.operators.flat_map`` (same rules, see the module
    docstring) that costs a few µs per item instead of about 28: use it to send
    many requests from a pipeline.

    .. code-block:: text

        -1--2--3-|
          flat_map(lambda x: rx.of(x, x * 10))
        -a--b--c-|        a: 1 then 10, at once; b: 2, 20; c: 3, 30

    Args:
        mapper: called with each source item; returns an observable, a future
            or an iterable. If it raises, the error ends the result.

    Returns:
        An operator for ``pipe``.

    Example:
        >>> from rxlivechat.operators import flat_map
        >>> sent = rx.from_iterable(texts).pipe(
        ...     flat_map(lambda text: sdk.send_event(chat.id, Message(text=text)))
        ... )
        >>> events = await sent.pipe(ops.to_list())
    """

    def operator(source: Observable[_T]) -> Observable[_R]:
        def subscribe(
            observer: abc.ObserverBase[_R],
            scheduler: abc.SchedulerBase | None = None,
        ) -> abc.DisposableBase:
            return _FlatMap(mapper, observer, scheduler).start(source)

        return Observable(subscribe)

    return operator


def _as_observable(inner: Inner[_R]) -> Observable[_R]:
    if isinstance(inner, Observable):
        return inner
    if isinstance(inner, (asyncio.Future, concurrent.futures.Future)):
        return reactivex.from_future(inner)
    return reactivex.from_iterable(inner)


class _FlatMap(abc.DisposableBase, Generic[_T, _R]):
    """One subscription: the source's observer, and the set of live inners."""

    __slots__ = (
        "_inners",
        "_lock",
        "_mapper",
        "_observer",
        "_scheduler",
        "_source",
        "_source_done",
        "_stopped",
    )

    def __init__(
        self,
        mapper: Callable[[_T], Inner[_R]],
        observer: abc.ObserverBase[_R],
        scheduler: abc.SchedulerBase | None,
    ) -> None:
        self._mapper = mapper
        self._observer = observer
        self._scheduler = scheduler
        self._lock = threading.RLock()
        self._inners: dict[_Inner[_R], None] = {}  # an ordered set: O(1) removal
        self._source: abc.DisposableBase | None = None
        self._source_done = False
        self._stopped = False  # errored, completed or disposed: emits nothing more

    def start(self, source: Observable[_T]) -> _FlatMap[_T, _R]:
        subscription = source.subscribe(
            self._on_source_next,
            self.on_error,
            self._on_source_completed,
            scheduler=self._scheduler,
        )
        with self._lock:
            stopped = self._stopped
            if not stopped:
                self._source = subscription
        if stopped:  # it all ended while subscribing
            subscription.dispose()
        return self

    def _on_source_next(self, value: _T) -> None:
        if self._stopped:  # a source that ran on while we could not dispose it
            return
        try:
            inner = _as_observable(self._mapper(value))
        except Exception as error:  # the mapper's or a bad return value's
            self.on_error(error)
            return
        observer = _Inner(self)
        if self._add(observer):
            observer.attach(inner.subscribe(observer, scheduler=self._scheduler))

    def _add(self, inner: _Inner[_R]) -> bool:
        """Count ``inner`` in, unless it all ended meanwhile (another thread)."""
        with self._lock:
            if self._stopped:
                return False
            self._inners[inner] = None
            return True

    def _on_source_completed(self) -> None:
        with self._lock:
            self._source_done = True
            self._complete_if_done()

    def emit(self, value: _R) -> None:
        with self._lock:
            if not self._stopped:
                self._observer.on_next(value)

    def on_error(self, error: Exception) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            self._observer.on_error(error)
        self.dispose()

    def inner_completed(self, inner: _Inner[_R]) -> None:
        with self._lock:
            self._inners.pop(inner, None)
            self._complete_if_done()

    def _complete_if_done(self) -> None:  # with the lock held
        if self._source_done and not self._inners and not self._stopped:
            self._stopped = True
            self._observer.on_completed()

    def dispose(self) -> None:
        with self._lock:
            self._stopped = True
            source, self._source = self._source, None
            inners = list(self._inners)
            self._inners.clear()
        if source is not None:
            source.dispose()
        for inner in inners:
            inner.dispose()


class _Inner(abc.ObserverBase[_R], abc.DisposableBase):
    """The observer of one inner observable, and its subscription."""

    __slots__ = ("_parent", "_subscription")

    def __init__(self, parent: _FlatMap[Any, _R]) -> None:
        self._parent: _FlatMap[Any, _R] | None = parent
        self._subscription: abc.DisposableBase | None = None

    def attach(self, subscription: abc.DisposableBase) -> None:
        """Hold the subscription, or dispose it if this inner already ended."""
        if self._parent is None:
            subscription.dispose()
        else:
            self._subscription = subscription

    def on_next(self, value: _R) -> None:
        parent = self._parent
        if parent is not None:
            parent.emit(value)

    def on_error(self, error: Exception) -> None:
        parent = self._parent
        if parent is not None:
            parent.on_error(error)

    def on_completed(self) -> None:
        parent, self._parent = self._parent, None
        if parent is not None:
            parent.inner_completed(self)

    def dispose(self) -> None:
        self._parent = None
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            subscription.dispose()
