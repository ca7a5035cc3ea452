"""A chat's history: cold, paginated, fetched only as far as it is read.

.. code-block:: text

    sdk.get_chat_history(chat)             every reader walks on its own:

    list_threads(desc, min_events_count ─► page 1: the newest threads
                       or limit)
                 page_id                 ─► page 2: the threads before them
                 page_id                 ─► ...      ─► last page: done

Each page holds whole threads; a page's events run oldest → newest, and each
page is older than the one before. Four ways to read it, one walk underneath:

- ``history`` itself is an ``Observable[Event]``. Every subscription starts its
  own walk from the newest end, and fetches the next page only once the events
  of the current one have been delivered and the subscriber is still there:
  ``history.pipe(ops.take(20))`` sends only the requests those 20 events need,
  and disposing sends nothing more and leaves no task behind.
- ``history.by_page()`` is the same walk as an ``Observable[HistoryPage]``.
- ``async for page in history:`` walks it page by page (a fresh walk each time).
- ``await history.next()`` is the seed's iterator (``getChatHistory`` of the JS
  SDK): one cursor per history object, concurrent calls queued and answered in
  order, ``done`` for ever once the oldest page was given.

To follow a chat (its history, then what arrives live, each event once), use
:meth:`ChatHistory.then_live` or the :func:`then_live` operator.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeAlias

import msgspec
from reactivex import Observable, abc
from reactivex.disposable import CompositeDisposable, Disposable

from .events import NewEvent, with_thread
from .exceptions import InvalidArgumentError, SDKClosedError
from .methods.calls import Calls
from .methods.validate import require_range
from .protocol.limits import LIMITS
from .protocol.methods import ListThreads
from .protocol.models import Event, Thread
from .results import HistoryPage

__all__ = [
    "EVENTS_PER_PAGE",
    "MAX_EVENTS_PER_PAGE",
    "MAX_THREADS_PER_PAGE",
    "ChatHistory",
    "HistoryPage",
    "then_live",
]

EVENTS_PER_PAGE = 25
"""The ``min_events_count`` asked of each page by default (the JS SDK v4's)."""

MAX_EVENTS_PER_PAGE = LIMITS.min_events_count_max
"""The largest ``min_events_count`` the server accepts (docs/protocol.md §2.2)."""

MAX_THREADS_PER_PAGE = LIMITS.list_threads_max
"""The largest ``limit`` (threads a page) the server accepts (docs/protocol.md §2.2)."""


_Deliver: TypeAlias = Callable[
    [abc.ObserverBase[Any], HistoryPage, Callable[[], bool]], None
]
"""Hands one page to a subscriber: ``(observer, page, stopped)``."""


class ChatHistory(Observable[Event]):
    """The history of one chat, newest page first; see the module docstring.

    As an observable it emits the chat's events, a page at a time, newest page
    first and oldest → newest within a page, then completes:

    .. code-block:: text

        list_threads     --[p1]-------[p2]-------[p3, done]
        history          --d-e-f------a-b-c------x-y-|
        take(4)          --d-e-f------a|          (p3 is never requested)

    It is cold: each subscription sends its own requests. It is not cached:
    subscribe twice, walk twice.

    Args:
        calls: the SDK's requests, to send ``list_threads`` with.
        live: the SDK's event stream (for :meth:`then_live`).
        chat_id: the chat.
        events_per_page: the ``min_events_count`` of each request (1 to 100): a
            page holds the fewest newest threads that reach this many events.
            Bigger pages mean fewer requests for a long walk; smaller ones
            make ``take(n)`` and the first ``next()`` cheaper. The default,
            :data:`EVENTS_PER_PAGE`, applies when neither size is given.
        threads_per_page: size pages by threads instead: the ``limit`` of each
            request (1 to 100 threads, however many events they hold). For
            chats of many long threads: 500 threads of 100 events are 5
            requests at 100 threads a page, 500 at 100 events a page.

    Raises:
        InvalidArgumentError: a size is out of range, or both are given
            (``list_threads`` takes ``min_events_count`` or ``limit``, not both).

    Example:
        >>> history = sdk.get_chat_history(chat_id)
        >>> latest = await history.pipe(ops.take(20), ops.to_list())
        >>> async for page in history:
        ...     print(len(page.value), "older events")
    """

    def __init__(
        self,
        calls: Calls,
        live: Observable[tuple[str, Any]],
        chat_id: str,
        *,
        events_per_page: int | None = None,
        threads_per_page: int | None = None,
    ) -> None:
        super().__init__()
        if threads_per_page is None:
            if events_per_page is None:
                events_per_page = EVENTS_PER_PAGE
            require_range("events_per_page", events_per_page, 1, MAX_EVENTS_PER_PAGE)
        elif events_per_page is not None:
            raise InvalidArgumentError(
                "give events_per_page or threads_per_page, not both: list_threads"
                " sizes a page by min_events_count or by limit"
            )
        else:
            require_range("threads_per_page", threads_per_page, 1, MAX_THREADS_PER_PAGE)
        self._calls = calls
        self._live = live
        self.chat_id = chat_id
        """The chat whose history this is."""
        self.events_per_page = events_per_page
        """The ``min_events_count`` of each ``list_threads`` request (or ``None``)."""
        self.threads_per_page = threads_per_page
        """The ``limit`` of each ``list_threads`` request (or ``None``)."""
        # The seed iterator's state: one cursor, a FIFO lock (asyncio.Lock wakes
        # waiters in order and lets no newcomer jump the queue), and a failure
        # count so callers queued behind a failed request fail with it.
        self._cursor: _Cursor | None = None
        self._lock = asyncio.Lock()
        self._failures = 0
        self._last_error: Exception | None = None

    def __repr__(self) -> str:
        if self.threads_per_page is not None:
            return (
                f"<ChatHistory {self.chat_id} threads_per_page={self.threads_per_page}>"
            )
        return f"<ChatHistory {self.chat_id} events_per_page={self.events_per_page}>"

    def with_page_size(
        self,
        *,
        events_per_page: int | None = None,
        threads_per_page: int | None = None,
    ) -> ChatHistory:
        """The same chat's history, walked with other pages (a new object).

        Args:
            events_per_page: as for :class:`ChatHistory`.
            threads_per_page: as for :class:`ChatHistory`.

        Raises:
            InvalidArgumentError: as for :class:`ChatHistory`.

        Example:
            >>> export = history.with_page_size(threads_per_page=100)
        """
        return ChatHistory(
            self._calls,
            self._live,
            self.chat_id,
            events_per_page=events_per_page,
            threads_per_page=threads_per_page,
        )

    # The seed's iterator --------------------------------------------------------------

    async def next(self) -> HistoryPage:
        """The next (older) page of this object's own cursor.

        The first call returns the newest page. Calls made while one is running
        wait their turn and are answered in the order they were made, each with
        the page after the previous caller's. Once a page came back with
        ``done=True``, every call answers ``HistoryPage(done=True)`` at once,
        without a request.

        Returns:
            The page: ``value`` (its events, oldest → newest), ``threads`` and
            ``done`` (no older page).

        Example:
            >>> page = await history.next()
            >>> while not page.done:
            ...     page = await history.next()

        Raises:
            ServerError: the request failed (the subclass of its error type);
                every call queued behind it fails with the same error, as in
                the JS SDK v4. The cursor does not move, so the next call asks
                for the same page again.
            RequestTimeoutError: no reply in time (same retry rule).
            SDKClosedError: the SDK was destroyed.
        """
        self._calls.check_alive()
        failures = self._failures
        async with self._lock:
            if self._failures != failures:
                # The request we queued behind failed: its error is our answer
                # too (the page we wanted comes after the one that failed).
                assert self._last_error is not None
                raise self._last_error
            if self._cursor is None:
                self._cursor = self._new_cursor()
            try:
                return await self._cursor.next_page()
            except Exception as exc:
                self._failures += 1
                self._last_error = exc
                raise

    def _new_cursor(self) -> _Cursor:
        """A walk from the newest page, with this history's page size."""
        first = ListThreads(
            chat_id=self.chat_id,
            sort_order="desc",
            min_events_count=self.events_per_page,
            limit=self.threads_per_page,
        )
        return _Cursor(self._calls, first)

    # Async iteration ------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[HistoryPage]:
        """A fresh walk, page by page, newest first (``async for page in history``).

        Pages with no thread (the one reply of an empty chat) are skipped, so an
        empty chat iterates zero times. Independent of :meth:`next`.
        """
        self._calls.check_alive()
        return _PageIterator(self._new_cursor())

    # Observables ----------------------------------------------------------------------

    def by_page(self) -> Observable[HistoryPage]:
        """The walk as an observable of pages, newest first; cold like ``history``.

        .. code-block:: text

            list_threads  --[p1]------[p2]------[p3, done]
            by_page()     --p1--------p2--------p3|
            take(1)       --p1|                   (one request)

        The next page is requested only after the subscriber's ``on_next``
        returned for this one. An empty chat completes without a page.

        Returns:
            A cold observable of :class:`~rxlivechat.results.HistoryPage`.

        Example:
            >>> newest = await history.by_page().pipe(ops.first())
            >>> [e.text for e in newest.value if e.type == "message"]
            ['Hello', 'Hi! How can I help?']
        """

        def deliver(
            observer: abc.ObserverBase[HistoryPage],
            page: HistoryPage,
            stopped: Callable[[], bool],
        ) -> None:
            if page.threads:
                observer.on_next(page)

        def subscribe(
            observer: abc.ObserverBase[HistoryPage],
            scheduler: abc.SchedulerBase | None = None,
        ) -> abc.DisposableBase:
            return self._walk(observer, deliver)

        return Observable(subscribe)

    def then_live(self, *, pages: int | None = None) -> Observable[Event]:
        """This chat's history, then its live events: each event exactly once.

        ``history.then_live(pages=n)`` is
        ``history.pipe(<first n pages>, then_live(sdk, chat_id))``; see
        :func:`then_live` for the marble diagram and the rules.

        Args:
            pages: walk at most this many pages (``1``: the newest page, then
                live: what a chat window shows first). ``None`` walks it all.

        Returns:
            A cold observable of the chat's events; it completes after
            ``destroy()``, errors if the history fails.

        Raises:
            InvalidArgumentError: ``pages`` below 1.

        Example:
            >>> window = sdk.get_chat_history(chat.id).then_live(pages=1)
            >>> window.subscribe(lambda event: print(event.text))
        """
        if pages is not None:
            require_range("pages", pages, 1, None)
        history = self if pages is None else self._events(max_pages=pages)
        return history.pipe(then_live(self._live, self.chat_id))

    def _subscribe_core(
        self,
        observer: abc.ObserverBase[Event],
        scheduler: abc.SchedulerBase | None = None,
    ) -> abc.DisposableBase:
        return self._walk(observer, _deliver_events)

    def _events(self, *, max_pages: int | None) -> Observable[Event]:
        """The events of at most ``max_pages`` pages (then it completes)."""

        def subscribe(
            observer: abc.ObserverBase[Event],
            scheduler: abc.SchedulerBase | None = None,
        ) -> abc.DisposableBase:
            return self._walk(observer, _deliver_events, max_pages=max_pages)

        return Observable(subscribe)

    def _walk(
        self,
        observer: abc.ObserverBase[Any],
        deliver: _Deliver,
        *,
        max_pages: int | None = None,
    ) -> abc.DisposableBase:
        """Start one subscription's walk: fetch a page, deliver it, repeat.

        Rx has no backpressure; the "pull" is that the next request is sent only
        after ``deliver`` returned, and only if the subscription is still alive
        (a ``take(n)`` downstream disposes it from inside ``on_next``).
        """
        calls = self._calls
        if calls.closed:
            observer.on_error(SDKClosedError("the SDK was destroyed"))
            return Disposable()
        cursor = self._new_cursor()
        stopped = False

        def is_stopped() -> bool:
            return stopped

        def fail(exc: Exception) -> None:
            try:
                observer.on_error(exc)
            except Exception as unhandled:  # no on_error handler: RxPY re-raises
                calls.report(unhandled)

        async def run() -> None:
            fetched = 0
            try:
                while True:
                    page = await cursor.next_page()
                    fetched += 1
                    deliver(observer, page, is_stopped)
                    if stopped:
                        return
                    if page.done or fetched == max_pages:
                        observer.on_completed()
                        return
            except asyncio.CancelledError:
                if not stopped:
                    # Not our subscriber's dispose: the SDK cancelled its tasks
                    # (destroy). Say so rather than leave the subscriber hanging.
                    fail(SDKClosedError("the walk was cancelled (SDK destroyed)"))
                raise
            except Exception as exc:
                # A failed request, or a subscriber's on_next that raised (RxPY's
                # own sources route those to on_error too).
                if not stopped:
                    fail(exc)

        task = calls.spawn(run())

        def dispose() -> None:
            nonlocal stopped
            stopped = True
            # Abandons the request in flight, if any (``_ask`` forgets it); when
            # called from inside ``deliver`` the walk returns before awaiting.
            task.cancel()

        return Disposable(dispose)


def then_live(
    events: Observable[tuple[str, Any]], chat_id: str
) -> Callable[[Observable[Event]], Observable[Event]]:
    """An operator: a chat's history, then its live ``new_event`` events, each once.

    Combining history and live events naively either loses or repeats events:
    ``concat(history, live)`` misses what arrives during the walk, and
    ``merge(history, live)`` shows an event twice when it lands just before the
    newest page is read. This operator subscribes to the live events *first*,
    holds those of ``chat_id`` back while the history runs, then sends the ones
    the history did not already contain, and from then on passes live events
    straight through. Every event id is emitted at most once.

    .. code-block:: text

        history    --a-b-c-------d-e--|            (as walked: see ChatHistory)
        live       -------c'--x-----------y----z-- (new_event of chat_id; c' is c)
        then_live  --a-b-c-------d-e--x---y----z--
                                      ^ held back during the walk, c' dropped

    The output errors if the history errors, and completes when both the
    history and the live stream (``sdk`` completes on ``destroy()``) completed.

    Args:
        events: the SDK (or any observable of ``(event_name, payload)`` with
            :class:`~rxlivechat.events.NewEvent` payloads for ``new_event``).
        chat_id: the chat to follow.

    Returns:
        An operator for ``history.pipe(...)``; the history may be any
        observable of the chat's events (``history.pipe(ops.take(50))`` works).

    Note:
        The ids seen are kept for the subscription's lifetime (one ``str`` per
        event), which is what makes the "at most once" hold at any time.

    Example:
        >>> history.pipe(then_live(sdk, chat_id)).subscribe(show)  # doctest: +SKIP
    """

    def operator(history: Observable[Event]) -> Observable[Event]:
        def subscribe(
            observer: abc.ObserverBase[Event],
            scheduler: abc.SchedulerBase | None = None,
        ) -> abc.DisposableBase:
            seen: set[str] = set()
            held: list[Event] | None = []  # None once the history completed
            live_completed = False

            def emit(event: Event) -> None:
                event_id = event.id
                if event_id is not None:
                    if event_id in seen:
                        return
                    seen.add(event_id)
                observer.on_next(event)

            def on_live(item: tuple[str, Any]) -> None:
                name, payload = item
                if name != "new_event" or not isinstance(payload, NewEvent):
                    return
                if payload.chat != chat_id:
                    return
                if held is not None:
                    held.append(payload.event)
                else:
                    emit(payload.event)

            def on_live_completed() -> None:
                nonlocal live_completed
                live_completed = True
                if held is None:
                    observer.on_completed()

            def on_history_completed() -> None:
                nonlocal held
                waiting, held = held or [], None
                for event in waiting:
                    emit(event)
                if live_completed:
                    observer.on_completed()

            # Live first: anything the server stores from now on is either in the
            # walk's first page or arrives here; nothing falls in between.
            live = events.subscribe(
                on_live, observer.on_error, on_live_completed, scheduler=scheduler
            )
            past = history.subscribe(
                emit, observer.on_error, on_history_completed, scheduler=scheduler
            )
            return CompositeDisposable(live, past)

        return Observable(subscribe)

    return operator


def _deliver_events(
    observer: abc.ObserverBase[Event], page: HistoryPage, stopped: Callable[[], bool]
) -> None:
    for event in page.value:
        if stopped():  # e.g. take(n) had enough, mid-page
            return
        observer.on_next(event)


class _PageIterator:
    """``async for`` over one walk; pages without threads are skipped."""

    def __init__(self, cursor: _Cursor) -> None:
        self._cursor = cursor

    def __aiter__(self) -> _PageIterator:
        return self

    async def __anext__(self) -> HistoryPage:
        while not self._cursor.done:
            page = await self._cursor.next_page()
            if page.threads:
                return page
        raise StopAsyncIteration


class _Cursor:
    """One walk back through a chat: the ``list_threads`` page ids, in turn.

    Not safe for concurrent use (callers serialize): the state changes only
    after a reply, so a cancelled or failed request leaves it where it was and
    the same page is asked for again.
    """

    def __init__(self, calls: Calls, first: ListThreads) -> None:
        self._calls = calls
        self._first = first
        self._page_id: str | None = None
        self._started = False
        self.done = False
        """The oldest page was returned."""

    async def next_page(self) -> HistoryPage:
        if self.done:
            return HistoryPage(done=True)
        # A request made after destroy() would wait for a connection that never
        # comes (until its timeout): refuse it now.
        self._calls.check_alive()
        if self._started:
            assert self._page_id is not None
            # docs/protocol.md §5: later pages send only the page id (and chat id).
            request = ListThreads(chat_id=self._first.chat_id, page_id=self._page_id)
        else:
            request = self._first
        result = await self._calls.ask(request)
        self._started = True
        self._page_id = result.next_page_id
        self.done = result.next_page_id is None
        threads: list[Thread] = []
        value: list[Event] = []
        for thread in reversed(result.threads):  # the reply is newest first
            events = [with_thread(event, thread.id) for event in thread.events or ()]
            threads.append(msgspec.structs.replace(thread, events=events))
            value.extend(events)
        return HistoryPage(done=self.done, value=value, threads=threads)
