"""A chat's history: cold, paginated, fetched only as far as it is read.

.. code-block:: text

    get_chat_history(chat)            each subscription walks on its own:
    list_threads(desc) ─► page 1 ─► events oldest→newest of the newest threads
          page_id      ─► page 2 ─► the threads before them ...      ─► done

Three ways to read it, one walk underneath:

- as an ``Observable[Event]``: ``history.pipe(ops.take(20))`` fetches only the
  pages those 20 events need; disposing stops the walk before the next request;
- ``async for page in history.pages():`` (or ``async for page in history``);
- the seed's ``await history.next()`` → :class:`HistoryPage` ``(done, value)``;
  concurrent calls are queued and answered in order, and once ``done`` it keeps
  answering ``done`` without asking the server.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from reactivex import Observable, abc
from reactivex.disposable import Disposable

from .events import with_thread
from .protocol.base import Model
from .protocol.methods import ListThreads
from .protocol.models import Event, Thread

if TYPE_CHECKING:
    from .sdk import CustomerSDK

__all__ = ["ChatHistory", "HistoryPage"]

EVENTS_PER_PAGE = 25
"""The ``min_events_count`` asked of each page (what the JS SDK v4 asks)."""


class HistoryPage(Model):
    """One step of the seed's iterator: ``value`` holds the page's events."""

    done: bool
    value: list[Event]
    threads: list[Thread] | None = None


class ChatHistory(Observable[Event]):
    """The history of one chat; see the module docstring."""

    def __init__(
        self, sdk: CustomerSDK, chat_id: str, *, events_per_page: int = EVENTS_PER_PAGE
    ) -> None:
        super().__init__()
        self._sdk = sdk
        self.chat_id = chat_id
        self._events_per_page = events_per_page
        self._lock = asyncio.Lock()
        self._cursor: _Walk | None = None

    # The seed's iterator --------------------------------------------------------------

    async def next(self) -> HistoryPage:
        """The next (older) page; ``done`` once there is nothing older."""
        async with self._lock:
            if self._cursor is None:
                self._cursor = _Walk(self._sdk, self.chat_id, self._events_per_page)
            return await self._cursor.next_page()

    # Async iteration ------------------------------------------------------------------

    async def pages(self) -> AsyncIterator[HistoryPage]:
        """A fresh walk, page by page (newest first), as an async iterator."""
        walk = _Walk(self._sdk, self.chat_id, self._events_per_page)
        while True:
            page = await walk.next_page()
            if page.value or not page.done:
                yield page
            if page.done:
                return

    def __aiter__(self) -> AsyncIterator[HistoryPage]:
        return self.pages()

    # Observable -----------------------------------------------------------------------

    def _subscribe_core(
        self,
        observer: abc.ObserverBase[Event],
        scheduler: abc.SchedulerBase | None = None,
    ) -> abc.DisposableBase:
        stop = asyncio.Event()

        async def walk() -> None:
            pages = _Walk(self._sdk, self.chat_id, self._events_per_page)
            try:
                while not stop.is_set():
                    page = await pages.next_page()
                    for event in page.value:
                        if stop.is_set():  # e.g. take(n) had enough
                            return
                        observer.on_next(event)
                    if page.done:
                        observer.on_completed()
                        return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not stop.is_set():
                    observer.on_error(exc)

        task = self._sdk._spawn(walk())

        def dispose() -> None:
            stop.set()
            task.cancel()

        return Disposable(dispose)


class _Walk:
    """One walk back through the history: a cursor over ``list_threads`` pages."""

    def __init__(self, sdk: CustomerSDK, chat_id: str, events_per_page: int) -> None:
        self._sdk = sdk
        self._chat_id = chat_id
        self._events_per_page = events_per_page
        self._page_id: str | None = None
        self._done = False
        self._started = False

    async def next_page(self) -> HistoryPage:
        if self._done:
            return HistoryPage(done=True, value=[])
        request: ListThreads
        if not self._started:
            request = ListThreads(
                chat_id=self._chat_id,
                sort_order="desc",
                min_events_count=self._events_per_page,
            )
        else:
            assert self._page_id is not None
            request = ListThreads(chat_id=self._chat_id, page_id=self._page_id)
        result = await self._sdk._ask(request)
        self._started = True
        self._page_id = result.next_page_id
        self._done = self._page_id is None
        threads = list(reversed(result.threads))  # oldest first within the page
        events: list[Any] = [
            with_thread(event, thread.id)
            for thread in threads
            for event in thread.events or ()
        ]
        return HistoryPage(done=self._done, value=events, threads=threads)
