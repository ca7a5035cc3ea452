"""What a blocking facade reads in your thread: its events and a chat's history.

.. code-block:: text

    the SDK's thread                              your thread
    the stream ──► Backlog (no reader open)  ──►  for name, payload in SyncEvents
               └─► a bounded queue.Queue     ──┘
    ChatHistory (async pages)            ──────►  for page in SyncChatHistory

Both run their async side on the facade's :class:`~rxlivechat.sandbox.sync.LoopThread`.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import queue
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from reactivex import abc

from .exceptions import InvalidArgumentError
from .handlers import Overflow
from .history import ChatHistory, HistoryPage
from .protocol.models import Event
from .sdk import CustomerSDK

if TYPE_CHECKING:
    from .sandbox.sync import LoopThread

__all__ = ["BACKLOG", "Backlog", "SyncChatHistory", "SyncEvents"]

log = logging.getLogger("rxlivechat")

BACKLOG = 1_000
"""Events a :class:`SyncCustomerSDK` keeps while no ``events()`` iterator is open
(the oldest dropped first): enough for a script that reads after acting, little
for a customer whose events nobody reads."""


class Backlog:
    """The events that came while no :meth:`SyncCustomerSDK.events` was open.

    Lives on the SDK's thread; the next ``events()`` takes them, so a script
    that acts first and reads its events after still gets them. Bounded by
    :data:`BACKLOG`: the oldest go first (counted in :attr:`dropped`).
    """

    def __init__(self, sdk: CustomerSDK) -> None:
        self.items: collections.deque[tuple[str, Any]] = collections.deque(
            maxlen=BACKLOG
        )
        self.readers = 0
        self.dropped = 0
        self._subscription = sdk.subscribe(self._put)

    def _put(self, item: tuple[str, Any]) -> None:
        if self.readers:
            return
        if len(self.items) == self.items.maxlen:
            self.dropped += 1
        self.items.append(item)

    def take(self) -> list[tuple[str, Any]]:
        """The kept events, oldest first; the backlog is then empty."""
        items = list(self.items)
        self.items.clear()
        return items

    def dispose(self) -> None:
        """Stop keeping events and drop the kept ones."""
        self._subscription.dispose()
        self.items.clear()


class SyncEvents(Iterator[tuple[str, Any]]):
    """The blocking iterator of :meth:`SyncCustomerSDK.events`.

    Ends when no event came for ``timeout`` seconds, or when the SDK is
    closed; :meth:`close` (or leaving a ``for`` loop early and dropping it) stops
    the subscription, and the events that come after wait for the next
    ``events()``.
    """

    _END: Any = object()

    def __init__(
        self,
        runner: LoopThread,
        sdk: CustomerSDK,
        timeout: float | None,
        bound: int,
        overflow: Overflow,
        backlog: Backlog,
    ) -> None:
        self._done = True  # until subscribed
        if bound < 1:
            raise InvalidArgumentError("bound must be at least 1")
        if overflow not in ("buffer", "drop_oldest", "fail"):
            raise InvalidArgumentError(
                f"overflow must be 'buffer', 'drop_oldest' or 'fail', not {overflow!r}"
            )
        self._runner = runner
        self._timeout = timeout
        self._bound = bound
        self._overflow = overflow
        self._backlog = backlog
        self.dropped = 0
        """Events dropped because the queue was full."""
        # Unbounded as a queue.Queue: the bound is kept by _put (on the SDK's
        # thread, the only writer), and the end marker always fits.
        self._queue: queue.Queue[Any] = queue.Queue()
        self._subscription: abc.DisposableBase | None = None
        self._stopped = False  # on the SDK's thread: unsubscribed for good

        def subscribe() -> None:  # on the SDK's thread
            for item in backlog.take():
                self._put(item)
            if self._stopped:  # overflow="fail" on the backlog already
                return
            backlog.readers += 1
            self._subscription = sdk.subscribe(
                on_next=self._put,
                on_error=lambda _: self._queue.put(self._END),
                on_completed=lambda: self._queue.put(self._END),
            )

        runner.call(subscribe)
        self._done = False

    def _put(self, item: Any) -> None:  # on the SDK's thread
        if self._queue.qsize() < self._bound:
            self._queue.put(item)
            return
        if self._overflow == "fail":
            from .pool import StreamOverflowError

            self._queue.put(StreamOverflowError(f"fell {self._bound} events behind"))
            self._stop()
            return
        self.dropped += 1
        if self._overflow == "drop_oldest":
            with contextlib.suppress(queue.Empty):
                dropped = self._queue.get_nowait()
                log.warning("sync events: queue full, dropped %r", dropped[0])
            self._queue.put(item)

    def __iter__(self) -> SyncEvents:
        return self

    def __next__(self) -> tuple[str, Any]:
        if self._done:
            raise StopIteration
        try:
            item = self._queue.get(timeout=self._timeout)
        except queue.Empty:
            item = self._END
        if item is self._END:
            self.close()
            raise StopIteration
        if isinstance(item, Exception):  # overflow="fail"
            self.close()
            raise item
        result: tuple[str, Any] = item
        return result

    def close(self) -> None:
        """Stop receiving events; the iteration ends."""
        if self._done:
            return
        self._done = True
        if self._runner.alive:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                self._runner.loop.call_soon_threadsafe(self._stop)

    def _stop(self) -> None:  # on the SDK's thread
        self._stopped = True
        if self._subscription is not None:
            self._subscription.dispose()
            self._subscription = None
            self._backlog.readers -= 1

    def __del__(self) -> None:
        self.close()


class SyncChatHistory:
    """A chat's history, read by blocking calls (see :class:`~rxlivechat.ChatHistory`).

    Iterating means what ``async for`` means on the async history: pages.
    ``for page in history`` (or :meth:`pages`, which bounds each page's wait)
    walks it page by page, newest first, fetching each page only when the
    previous one was read; :meth:`events` walks the same pages event by event
    (oldest → newest within a page); :meth:`next` is the seed's cursor (one
    per history object).
    """

    def __init__(self, runner: LoopThread, history: ChatHistory) -> None:
        self._runner = runner
        self.history = history
        """The async history underneath."""

    def next(self, *, timeout: float | None = None) -> HistoryPage:
        """The next (older) page of this object's cursor; ``done`` at the end."""
        return self._runner.run(self.history.next(), timeout)

    def pages(self, *, timeout: float | None = None) -> Iterator[HistoryPage]:
        """A fresh walk, page by page, newest first; ``timeout`` bounds each page."""
        walk = self._runner.call(self.history.__aiter__)
        while True:

            async def next_page() -> HistoryPage | None:
                try:
                    return await walk.__anext__()
                except StopAsyncIteration:
                    return None

            page = self._runner.run(next_page(), timeout)
            if page is None:
                return
            yield page

    def __iter__(self) -> Iterator[HistoryPage]:
        return self.pages()

    def events(self, *, timeout: float | None = None) -> Iterator[Event]:
        """A fresh walk, event by event (newest page first, in order within one).

        ``timeout`` bounds each page's wait.
        """
        for page in self.pages(timeout=timeout):
            yield from page.value
