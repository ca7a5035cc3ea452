"""A blocking facade for scripts and REPLs: no ``async``, no ``await``.

.. code-block:: text

    your thread                        the SDK's thread (daemon, its own loop)
    sdk.start_chat(...)  ──blocks──►   await CustomerSDK.start_chat(...)
                  ◄──── Chat ──────    (or its error, raised in your thread)
    for name, payload in sdk.events(timeout=5):   ◄── a bounded queue ◄── the stream

:func:`connect_sync` starts an asyncio loop in a background daemon thread, makes
a :class:`~rxlivechat.CustomerSDK` on it, and returns a :class:`SyncCustomerSDK`
whose methods block and return the typed result of the async method of the same
name (``Observable[T]`` becomes ``T``). Every method takes ``timeout=`` (seconds;
:class:`TimeoutError` when it passes, and the request is abandoned).
:func:`connect_sync_pool` runs many customers on one such thread (one loop, one
HTTP session), and :class:`Sandbox` runs the embedded sandbox the same way.

Closing (``close()``, the end of a ``with`` block, or the interpreter's exit)
destroys the SDK, stops the loop and joins the thread. A ``KeyboardInterrupt``
(Ctrl-C) or an exception in your code while a call blocks abandons that call, and
the ``with`` block then closes everything: nothing is left running. One ``atexit``
hook, registered once, closes whatever is still open at exit.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import contextlib
import datetime
import logging
import queue
import threading
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from reactivex import abc

from .events import EventName, NewEvent
from .exceptions import InvalidArgumentError, SDKClosedError
from .handlers import DEFAULT_BOUND, Overflow
from .history import ChatHistory, HistoryPage
from .methods.actions import CancelRateResult, FormType, SortOrder
from .methods.seed import CustomerUpdate
from .methods.upload import FileSource
from .protocol import methods as m
from .protocol.base import EmptyResult, Method
from .protocol.models import (
    Access,
    Agent,
    Chat,
    Customer,
    Event,
    Message,
    Postback,
    Properties,
    PropertyNames,
    RichMessage,
    RichMessageElement,
)
from .results import (
    ChatsSummary,
    ChatThread,
    CloseThreadResult,
    LastSeenTimestamp,
    RateChatResult,
    SendFileResult,
    ThreadsSummary,
)
from .sdk import MAX_QUEUED_EVENTS, CustomerSDK, init

if TYPE_CHECKING:  # the sandbox (a server) is imported only when used
    from .pool import CustomerPool
    from .sandbox import Sandbox as AsyncSandbox, ScriptedAgent

__all__ = [
    "BACKLOG",
    "MAX_QUEUED_EVENTS",
    "Sandbox",
    "SyncAgent",
    "SyncChatHistory",
    "SyncCustomerPool",
    "SyncCustomerSDK",
    "SyncEvents",
    "connect_sync",
    "connect_sync_pool",
]

log = logging.getLogger("rxlivechat")

T = TypeVar("T")
R = TypeVar("R")

CLOSE_TIMEOUT = 10.0
"""Seconds ``close()`` gives the SDK (or the sandbox) to shut down cleanly."""


class _LoopThread:
    """An asyncio loop running in a daemon thread; blocking calls into it.

    Args:
        name: the thread's name.
        closed: what a call after the thread stopped raises
            (:class:`SDKClosedError`) says: what was closed, and what to do.
    """

    def __init__(self, name: str, closed: str) -> None:
        self.closed = closed
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive() and not self.loop.is_closed()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None) -> T:
        """Run ``coro`` on the loop; block until its result, or raise its error.

        Raises:
            TimeoutError: no result within ``timeout`` seconds (``coro`` is
                cancelled).
            RuntimeError: called from the loop's own thread (a listener), where
                blocking would wait for ever.
        """
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError(
                "a blocking call from the SDK's own thread (a listener?) would "
                "wait for ever; use the async CustomerSDK (.sdk) there"
            )
        if not self.alive:
            coro.close()
            raise SDKClosedError(self.closed)
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            if future.done():
                raise  # the call's own TimeoutError
            future.cancel()  # abandon the call
            raise TimeoutError(f"no result within {timeout} s") from None
        except BaseException:
            future.cancel()  # Ctrl-C while blocked: abandon the call
            raise

    def call(self, fn: Callable[[], T], timeout: float | None = None) -> T:
        """Run the plain function ``fn`` on the loop's thread; its result."""

        async def run() -> T:
            return fn()

        return self.run(run(), timeout)

    def stop(self) -> None:
        """Stop the loop (its tasks cancelled) and join the thread."""
        if self._thread.is_alive() and not self.loop.is_closed():
            with contextlib.suppress(RuntimeError):  # closed meanwhile
                self.loop.call_soon_threadsafe(self.loop.stop)
        if threading.current_thread() is not self._thread:
            self._thread.join(CLOSE_TIMEOUT)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
        finally:
            # What asyncio.run does at the end: cancel what is left, wait for
            # it, close the async generators and the executor, close the loop.
            tasks = asyncio.all_tasks(self.loop)
            for task in tasks:
                task.cancel()
            if tasks:
                self.loop.run_until_complete(
                    asyncio.gather(*tasks, return_exceptions=True)
                )
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.run_until_complete(self.loop.shutdown_default_executor())
            self.loop.close()


_OPEN: weakref.WeakSet[Any] = weakref.WeakSet()
"""What is open (facades, pools, sandboxes): closed at exit by one hook. A close()
removes its object, so nothing piles up in ``atexit``'s registry."""


@atexit.register
def _close_at_exit() -> None:
    for target in list(_OPEN):
        with contextlib.suppress(Exception):
            target.close()


_SDK_CLOSED = (
    "this SyncCustomerSDK was closed (close(), or the end of its with block): "
    "make a new one with rxlivechat.connect_sync()"
)


def connect_sync(*, timeout: float | None = None, **options: Any) -> SyncCustomerSDK:
    """Start a customer SDK on a background thread; a blocking facade of it.

    Args:
        timeout: seconds to wait for the SDK to be created (not for the login:
            calls wait for the connection themselves, or call
            :meth:`SyncCustomerSDK.wait_connected`).
        **options: the keyword arguments of :func:`rxlivechat.init`
            (``organization_id``, ``client_id``, ``api_url``, ``customer``...).

    Returns:
        A :class:`SyncCustomerSDK`; use it in a ``with`` block, or ``close()`` it.

    Raises:
        InvalidArgumentError: a bad option (nothing is left running).

    For many customers, :func:`connect_sync_pool` runs them all on one thread.
    """
    runner = _LoopThread("rxlivechat-sdk", _SDK_CLOSED)
    try:

        async def make() -> tuple[CustomerSDK, _Backlog]:
            sdk = init(**options)
            return sdk, _Backlog(sdk)  # before any event: nothing is missed

        sdk, backlog = runner.run(make(), timeout)
    except BaseException:
        runner.stop()
        raise
    return SyncCustomerSDK(sdk, runner, backlog)


BACKLOG = 1_000
"""Events a :class:`SyncCustomerSDK` keeps while no ``events()`` iterator is open
(the oldest dropped first): enough for a script that reads after acting, little
for a customer whose events nobody reads."""


class _Backlog:
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
        items = list(self.items)
        self.items.clear()
        return items

    def dispose(self) -> None:
        self._subscription.dispose()
        self.items.clear()


class SyncCustomerSDK:
    """A :class:`~rxlivechat.CustomerSDK` driven from plain (non-async) code.

    Make one with :func:`connect_sync`. Each action method blocks until the
    result of the async method of the same name and returns it (typed); errors
    are raised as they are (``InvalidArgumentError`` before anything is sent,
    ``ServerError`` subclasses...). ``timeout=`` (seconds) bounds any call:
    :class:`TimeoutError` then, and the request is abandoned.

    Listeners (:meth:`on`, :meth:`once`) run on the SDK's thread: keep them short
    and do not call blocking methods from them (that raises ``RuntimeError``);
    read :meth:`events` in your thread instead.
    """

    def __init__(
        self,
        sdk: CustomerSDK,
        runner: _LoopThread,
        backlog: _Backlog,
        pool: SyncCustomerPool | None = None,
        key: str = "",
    ) -> None:
        self.sdk = sdk
        """The async SDK underneath (use it only on its loop: :meth:`run`)."""
        self.key = key
        """The customer's key in its :class:`SyncCustomerPool` (``""`` alone)."""
        self._runner = runner
        self._backlog = backlog
        self._pool = pool
        self._closed = False
        if pool is None:
            _OPEN.add(self)

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"customer {self.customer_id}"
        return f"<SyncCustomerSDK {state}>"

    # Lifecycle --------------------------------------------------------------------

    def __enter__(self) -> SyncCustomerSDK:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Destroy the SDK, stop its loop and join its thread (twice is fine).

        A customer of a :class:`SyncCustomerPool` leaves the pool instead; the
        pool's thread serves the others on.
        """
        if self._closed:
            return
        self._closed = True
        _OPEN.discard(self)
        if self._pool is not None:
            self._pool._remove(self.key)
            return
        try:
            with contextlib.suppress(Exception):
                if self._runner.alive:
                    self._runner.run(self._destroy(), CLOSE_TIMEOUT)
        finally:
            self._runner.stop()

    async def _destroy(self) -> None:
        self._backlog.dispose()
        await self.sdk.destroy()

    def _check_open(self) -> None:
        if self._closed:
            raise SDKClosedError(
                _SDK_CLOSED
                if self._pool is None
                else "this customer was closed (it left its SyncCustomerPool): "
                "add it again with pool.add()"
            )

    @property
    def connected(self) -> bool:
        """Whether the customer is logged in on an open socket right now."""
        return self.sdk.connected

    @property
    def customer_id(self) -> str | None:
        """The customer's id, once logged in."""
        return self.sdk.customer_id

    def wait_connected(
        self, timeout: float | None = None, *, fail_fast: bool | None = None
    ) -> None:
        """Block until the customer is logged in (:meth:`CustomerSDK.wait_connected`).

        Raises:
            NotConnectedError: an attempt failed (by default, until the first
                login), naming why: a refused port, DNS, TLS, an HTTP status.
            TimeoutError: not connected within ``timeout`` seconds.
        """
        self._check_open()
        self._runner.run(self.sdk.wait_connected(timeout, fail_fast=fail_fast), None)

    def connect(self, *, timeout: float | None = None) -> None:
        """Start connecting again after :meth:`disconnect`."""
        self._runner.call(self.sdk.connect, timeout)

    def disconnect(self, *, timeout: float | None = None) -> None:
        """Close the connection; no reconnect until :meth:`connect`."""

        async def disconnect() -> None:
            await self.sdk.disconnect()

        self._runner.run(disconnect(), timeout)

    def run(
        self, start: Callable[[CustomerSDK], Awaitable[T]], timeout: float | None = None
    ) -> T:
        """Run ``start(sdk)`` on the SDK's loop and block for its result.

        For what the facade does not wrap: ``sdk.run(lambda s: s.call(method))``.
        """
        return self._ask(start, timeout)

    def _ask(
        self, start: Callable[[CustomerSDK], Awaitable[T]], timeout: float | None
    ) -> T:
        self._check_open()

        async def run() -> T:
            return await start(self.sdk)

        return self._runner.run(run(), timeout)

    # Events -----------------------------------------------------------------------

    def events(
        self,
        timeout: float | None = None,
        *,
        bound: int = MAX_QUEUED_EVENTS,
        overflow: Overflow = "drop_oldest",
    ) -> SyncEvents:
        """A blocking iterator of ``(event_name, payload)``: the events not read yet.

        Like :meth:`CustomerSDK.events`, it listens from this call on; and it
        first yields the events that came while no ``events()`` iterator was
        open, since the connection (at most :data:`BACKLOG`, the oldest
        dropped first). So calling it after the actions whose events you
        want still gets them, and consecutive loops miss nothing between them.
        Iteration ends when no event came for ``timeout`` seconds (``None``:
        wait for ever) or when the SDK is closed. At most ``bound`` unread
        events wait; past that ``overflow`` decides, as for the async SDK
        (``"drop_oldest"`` logs a warning; ``"fail"`` raises
        :class:`~rxlivechat.pool.StreamOverflowError` from the iteration).

        Example:
            >>> for name, payload in sdk.events(timeout=5):  # doctest: +SKIP
            ...     print(name, payload)
        """
        self._check_open()
        return SyncEvents(
            self._runner, self.sdk, timeout, bound, overflow, self._backlog
        )

    def on(
        self,
        name: EventName,
        fn: Callable[[Any], object],
        *,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase:
        """Call ``fn(payload)`` on every ``name`` event (on the SDK's thread).

        The options are :meth:`CustomerSDK.on`'s (an ``async def`` ``fn`` runs
        on the SDK's loop, ``concurrency`` at a time).
        """
        return self._runner.call(
            lambda: self.sdk.on(
                name, fn, concurrency=concurrency, bound=bound, overflow=overflow
            )
        )

    def once(self, name: EventName, fn: Callable[[Any], object]) -> abc.DisposableBase:
        """Call ``fn(payload)`` on the next ``name`` event (on the SDK's thread)."""
        return self._runner.call(lambda: self.sdk.once(name, fn))

    def off(self, name: EventName, fn: Callable[[Any], object]) -> None:
        """Remove the listeners ``fn`` added for ``name``."""
        self._runner.call(lambda: self.sdk.off(name, fn))

    # Delivery ---------------------------------------------------------------------

    def commit(
        self, event: NewEvent | tuple[str, Any] | Event, chat_id: str = ""
    ) -> bool:
        """Mark a ``new_event`` handled (see :meth:`CustomerSDK.commit`)."""
        return self._runner.call(lambda: self.sdk.commit(event, chat_id))

    def flush(self, *, timeout: float | None = None) -> None:
        """Block until every commit made so far is written to the store."""
        self._ask(lambda sdk: sdk.flush(), timeout)

    # History and sneak peeks ------------------------------------------------------

    def get_chat_history(
        self,
        chat_id: str,
        *,
        events_per_page: int | None = None,
        threads_per_page: int | None = None,
    ) -> SyncChatHistory:
        """The chat's history, newest page first: see :class:`SyncChatHistory`."""
        history = self._runner.call(
            lambda: self.sdk.get_chat_history(
                chat_id,
                events_per_page=events_per_page,
                threads_per_page=threads_per_page,
            )
        )
        return SyncChatHistory(self._runner, history)

    def set_sneak_peek(self, chat_id: str, text: str) -> None:
        """Throttled sneak peek (see the async method); returns at once."""
        self._runner.call(lambda: self.sdk.set_sneak_peek(chat_id, text))

    # The actions (each the blocking form of the async method) ---------------------

    def call(self, method: Method[R], *, timeout: float | None = None) -> R:
        """Blocking :meth:`~rxlivechat.CustomerSDK.call`: any RTM action's result."""
        return self._ask(lambda sdk: sdk.call(method), timeout)

    def web_call(self, method: Method[R], *, timeout: float | None = None) -> R:
        """Blocking :meth:`~rxlivechat.CustomerSDK.web_call` (Web API)."""
        return self._ask(lambda sdk: sdk.web_call(method), timeout)

    def accept_greeting(
        self, greeting_id: int, unique_id: str, *, timeout: float | None = None
    ) -> EmptyResult:
        """Blocking :meth:`~rxlivechat.CustomerSDK.accept_greeting`."""
        return self._ask(
            lambda sdk: sdk.accept_greeting(greeting_id, unique_id), timeout
        )

    def activate_customer_page(self, *, timeout: float | None = None) -> EmptyResult:
        """Blocking :meth:`~rxlivechat.CustomerSDK.activate_customer_page`."""
        return self._ask(lambda sdk: sdk.activate_customer_page(), timeout)

    def cancel_greeting(
        self, unique_id: str, *, timeout: float | None = None
    ) -> EmptyResult:
        """Blocking :meth:`~rxlivechat.CustomerSDK.cancel_greeting`."""
        return self._ask(lambda sdk: sdk.cancel_greeting(unique_id), timeout)

    def cancel_rate(
        self,
        chat_id: str,
        properties: Iterable[str] = ("score",),
        *,
        timeout: float | None = None,
    ) -> CancelRateResult:
        """Blocking :meth:`~rxlivechat.CustomerSDK.cancel_rate`."""
        return self._ask(lambda sdk: sdk.cancel_rate(chat_id, properties), timeout)

    def check_goals(
        self,
        session_fields: Iterable[Mapping[str, str]],
        group_id: int,
        page_url: str,
        *,
        timeout: float | None = None,
    ) -> EmptyResult:
        """Blocking :meth:`~rxlivechat.CustomerSDK.check_goals`."""
        return self._ask(
            lambda sdk: sdk.check_goals(session_fields, group_id, page_url), timeout
        )

    def close_thread(
        self, chat_id: str, *, timeout: float | None = None
    ) -> CloseThreadResult:
        """Blocking :meth:`~rxlivechat.CustomerSDK.close_thread`."""
        return self._ask(lambda sdk: sdk.close_thread(chat_id), timeout)

    def deactivate_chat(
        self, chat_id: str, *, timeout: float | None = None
    ) -> EmptyResult:
        """Blocking :meth:`~rxlivechat.CustomerSDK.deactivate_chat`."""
        return self._ask(lambda sdk: sdk.deactivate_chat(chat_id), timeout)

    def deactivate_customer_page(self, *, timeout: float | None = None) -> EmptyResult:
        """Blocking :meth:`~rxlivechat.CustomerSDK.deactivate_customer_page`."""
        return self._ask(lambda sdk: sdk.deactivate_customer_page(), timeout)

    def delete_chat_properties(
        self, chat_id: str, properties: PropertyNames, *, timeout: float | None = None
    ) -> EmptyResult:
        """Blocking :meth:`~rxlivechat.CustomerSDK.delete_chat_properties`."""
        return self._ask(
            lambda sdk: sdk.delete_chat_properties(chat_id, properties), timeout
        )

    def delete_event(
        self,
        chat_id: str,
        thread_id: str,
        event_id: str,
        *,
        timeout: float | None = None,
    ) -> EmptyResult:
        """Blocking :meth:`~rxlivechat.CustomerSDK.delete_event`."""
        return self._ask(
            lambda sdk: sdk.delete_event(chat_id, thread_id, event_id), timeout
        )

    def delete_event_properties(
        self,
        chat_id: str,
        thread_id: str,
        event_id: str,
        properties: PropertyNames,
        *,
        timeout: float | None = None,
    ) -> EmptyResult:
        """Blocking :meth:`~rxlivechat.CustomerSDK.delete_event_properties`."""
        return self._ask(
            lambda sdk: sdk.delete_event_properties(
                chat_id, thread_id, event_id, properties
            ),
            timeout,
        )

    def delete_thread_properties(
        self,
        chat_id: str,
        thread_id: str,
        properties: PropertyNames,
        *,
        timeout: float | None = None,
    ) -> EmptyResult:
        """Blocking :meth:`~rxlivechat.CustomerSDK.delete_thread_properties`."""
        return self._ask(
            lambda sdk: sdk.delete_thread_properties(chat_id, thread_id, properties),
            timeout,
        )

    def get_chat(
        self,
        chat_id: str,
        thread_id: str | None = None,
        *,
        timeout: float | None = None,
    ) -> Chat:
        """Blocking :meth:`~rxlivechat.CustomerSDK.get_chat`."""
        return self._ask(lambda sdk: sdk.get_chat(chat_id, thread_id), timeout)

    def get_chat_threads(
        self, chat_id: str, thread_ids: Iterable[str], *, timeout: float | None = None
    ) -> list[ChatThread]:
        """Blocking :meth:`~rxlivechat.CustomerSDK.get_chat_threads`."""
        return self._ask(lambda sdk: sdk.get_chat_threads(chat_id, thread_ids), timeout)

    def get_chat_threads_summary(
        self,
        chat_id: str,
        offset: int = 0,
        limit: int = 25,
        *,
        timeout: float | None = None,
    ) -> ThreadsSummary:
        """Blocking :meth:`~rxlivechat.CustomerSDK.get_chat_threads_summary`."""
        return self._ask(
            lambda sdk: sdk.get_chat_threads_summary(chat_id, offset, limit), timeout
        )

    def get_chats_summary(
        self, offset: int = 0, limit: int = 10, *, timeout: float | None = None
    ) -> ChatsSummary:
        """Blocking :meth:`~rxlivechat.CustomerSDK.get_chats_summary`."""
        return self._ask(lambda sdk: sdk.get_chats_summary(offset, limit), timeout)

    def get_configuration(
        self, group_id: int, version: str, *, timeout: float | None = None
    ) -> m.GetConfigurationResult:
        """Blocking :meth:`~rxlivechat.CustomerSDK.get_configuration`."""
        return self._ask(lambda sdk: sdk.get_configuration(group_id, version), timeout)

    def get_customer(self, *, timeout: float | None = None) -> Customer:
        """Blocking :meth:`~rxlivechat.CustomerSDK.get_customer`."""
        return self._ask(lambda sdk: sdk.get_customer(), timeout)

    def get_dynamic_configuration(
        self,
        *,
        group_id: int | None = None,
        url: str | None = None,
        channel_type: str | None = None,
        test: bool | None = None,
        timeout: float | None = None,
    ) -> m.GetDynamicConfigurationResult:
        """Blocking :meth:`~rxlivechat.CustomerSDK.get_dynamic_configuration`."""
        return self._ask(
            lambda sdk: sdk.get_dynamic_configuration(
                group_id=group_id, url=url, channel_type=channel_type, test=test
            ),
            timeout,
        )

    def get_form(
        self, group_id: int, type: FormType, *, timeout: float | None = None
    ) -> m.GetFormResult:
        """Blocking :meth:`~rxlivechat.CustomerSDK.get_form`."""
        return self._ask(lambda sdk: sdk.get_form(group_id, type), timeout)

    def get_localization(
        self,
        group_id: int,
        language: str,
        version: str,
        *,
        timeout: float | None = None,
    ) -> dict[str, str]:
        """Blocking :meth:`~rxlivechat.CustomerSDK.get_localization`."""
        return self._ask(
            lambda sdk: sdk.get_localization(group_id, language, version), timeout
        )

    def get_predicted_agent(
        self, group_id: int | None = None, *, timeout: float | None = None
    ) -> Agent:
        """Blocking :meth:`~rxlivechat.CustomerSDK.get_predicted_agent`."""
        return self._ask(lambda sdk: sdk.get_predicted_agent(group_id), timeout)

    def get_url_info(
        self, url: str, *, timeout: float | None = None
    ) -> m.GetUrlInfoResult:
        """Blocking :meth:`~rxlivechat.CustomerSDK.get_url_info`."""
        return self._ask(lambda sdk: sdk.get_url_info(url), timeout)

    def list_chats(
        self,
        *,
        limit: int | None = None,
        sort_order: SortOrder | None = None,
        page_id: str | None = None,
        timeout: float | None = None,
    ) -> m.ListChatsResult:
        """Blocking :meth:`~rxlivechat.CustomerSDK.list_chats`."""
        return self._ask(
            lambda sdk: sdk.list_chats(
                limit=limit, sort_order=sort_order, page_id=page_id
            ),
            timeout,
        )

    def list_group_properties(
        self,
        group_id: int,
        *,
        namespace: str | None = None,
        name: str | None = None,
        timeout: float | None = None,
    ) -> Properties:
        """Blocking :meth:`~rxlivechat.CustomerSDK.list_group_properties`."""
        return self._ask(
            lambda sdk: sdk.list_group_properties(
                group_id, namespace=namespace, name=name
            ),
            timeout,
        )

    def list_group_statuses(
        self,
        group_ids: Iterable[int] | None = None,
        *,
        all: bool | None = None,
        timeout: float | None = None,
    ) -> dict[int, str]:
        """Blocking :meth:`~rxlivechat.CustomerSDK.list_group_statuses`."""
        return self._ask(
            lambda sdk: sdk.list_group_statuses(group_ids, all=all), timeout
        )

    def list_license_properties(
        self,
        *,
        namespace: str | None = None,
        name: str | None = None,
        timeout: float | None = None,
    ) -> Properties:
        """Blocking :meth:`~rxlivechat.CustomerSDK.list_license_properties`."""
        return self._ask(
            lambda sdk: sdk.list_license_properties(namespace=namespace, name=name),
            timeout,
        )

    def list_threads(
        self,
        chat_id: str,
        *,
        sort_order: SortOrder | None = None,
        limit: int | None = None,
        page_id: str | None = None,
        min_events_count: int | None = None,
        timeout: float | None = None,
    ) -> m.ListThreadsResult:
        """Blocking :meth:`~rxlivechat.CustomerSDK.list_threads`."""
        return self._ask(
            lambda sdk: sdk.list_threads(
                chat_id,
                sort_order=sort_order,
                limit=limit,
                page_id=page_id,
                min_events_count=min_events_count,
            ),
            timeout,
        )

    def mark_events_as_seen(
        self,
        chat_id: str,
        seen_up_to: datetime.datetime,
        *,
        timeout: float | None = None,
    ) -> EmptyResult:
        """Blocking :meth:`~rxlivechat.CustomerSDK.mark_events_as_seen`."""
        return self._ask(
            lambda sdk: sdk.mark_events_as_seen(chat_id, seen_up_to), timeout
        )

    def rate_chat(
        self,
        chat_id: str,
        score: Literal[0, 1, "good", "bad"] | Mapping[str, Any] | None = None,
        comment: str | None = None,
        *,
        value: Literal[0, 1, "good", "bad"] | None = None,
        timeout: float | None = None,
    ) -> RateChatResult:
        """Blocking :meth:`~rxlivechat.CustomerSDK.rate_chat`."""
        return self._ask(
            lambda sdk: sdk.rate_chat(chat_id, score, comment, value=value), timeout
        )

    def request_email_verification(
        self, callback_uri: str, *, timeout: float | None = None
    ) -> EmptyResult:
        """Blocking :meth:`~rxlivechat.CustomerSDK.request_email_verification`."""
        return self._ask(
            lambda sdk: sdk.request_email_verification(callback_uri), timeout
        )

    def request_welcome_message(
        self,
        *,
        id: str | None = None,
        group_id: int | None = None,
        timeout: float | None = None,
    ) -> m.RequestWelcomeMessageResult:
        """Blocking :meth:`~rxlivechat.CustomerSDK.request_welcome_message`."""
        return self._ask(
            lambda sdk: sdk.request_welcome_message(id=id, group_id=group_id), timeout
        )

    def resume_chat(
        self,
        chat_id: str,
        events: Iterable[Event | Mapping[str, Any]] = (),
        access: Access | Mapping[str, Any] | None = None,
        properties: Properties | None = None,
        *,
        thread_properties: Properties | None = None,
        continuous: bool | None = None,
        active: bool | None = None,
        timeout: float | None = None,
    ) -> Chat:
        """Blocking :meth:`~rxlivechat.CustomerSDK.resume_chat`."""
        return self._ask(
            lambda sdk: sdk.resume_chat(
                chat_id,
                events,
                access,
                properties,
                thread_properties=thread_properties,
                continuous=continuous,
                active=active,
            ),
            timeout,
        )

    def send_event(
        self,
        chat_id: str,
        event: Event | Mapping[str, Any],
        attach_to_last_thread: bool = False,
        *,
        timeout: float | None = None,
    ) -> Event:
        """Blocking :meth:`~rxlivechat.CustomerSDK.send_event`."""
        return self._ask(
            lambda sdk: sdk.send_event(chat_id, event, attach_to_last_thread), timeout
        )

    def send_file(
        self,
        chat_id: str,
        file: FileSource,
        custom_id: str | None = None,
        on_progress: Callable[[float], None] | None = None,
        *,
        name: str | None = None,
        content_type: str | None = None,
        timeout: float | None = None,
    ) -> SendFileResult:
        """Blocking :meth:`~rxlivechat.CustomerSDK.send_file`."""
        return self._ask(
            lambda sdk: sdk.send_file(
                chat_id,
                file,
                custom_id,
                on_progress,
                name=name,
                content_type=content_type,
            ),
            timeout,
        )

    def send_greeting_button_clicked(
        self, greeting_unique_id: str, button_id: str, *, timeout: float | None = None
    ) -> EmptyResult:
        """Blocking :meth:`~rxlivechat.CustomerSDK.send_greeting_button_clicked`."""
        return self._ask(
            lambda sdk: sdk.send_greeting_button_clicked(greeting_unique_id, button_id),
            timeout,
        )

    def send_postback(
        self,
        chat_id: str,
        thread_id: str,
        event_id: str,
        postback_id: str,
        toggled: bool = True,
        *,
        timeout: float | None = None,
    ) -> EmptyResult:
        """Blocking :meth:`~rxlivechat.CustomerSDK.send_postback`."""
        return self._ask(
            lambda sdk: sdk.send_postback(
                chat_id, thread_id, event_id, postback_id, toggled
            ),
            timeout,
        )

    def send_rich_message_postback(
        self,
        chat_id: str,
        thread_id: str,
        event_id: str,
        postback: Postback | Mapping[str, Any],
        *,
        timeout: float | None = None,
    ) -> EmptyResult:
        """Blocking :meth:`~rxlivechat.CustomerSDK.send_rich_message_postback`."""
        return self._ask(
            lambda sdk: sdk.send_rich_message_postback(
                chat_id, thread_id, event_id, postback
            ),
            timeout,
        )

    def send_sneak_peek(
        self, chat_id: str, text: str, *, timeout: float | None = None
    ) -> EmptyResult:
        """Blocking :meth:`~rxlivechat.CustomerSDK.send_sneak_peek`."""
        return self._ask(lambda sdk: sdk.send_sneak_peek(chat_id, text), timeout)

    def set_customer_session_fields(
        self,
        session_fields: Iterable[Mapping[str, str]],
        *,
        timeout: float | None = None,
    ) -> EmptyResult:
        """Blocking :meth:`~rxlivechat.CustomerSDK.set_customer_session_fields`."""
        return self._ask(
            lambda sdk: sdk.set_customer_session_fields(session_fields), timeout
        )

    def start_chat(
        self,
        events: Iterable[Event | Mapping[str, Any]] = (),
        access: Access | Mapping[str, Any] | None = None,
        properties: Properties | None = None,
        *,
        continuous: bool | None = None,
        active: bool | None = None,
        timeout: float | None = None,
    ) -> Chat:
        """Blocking :meth:`~rxlivechat.CustomerSDK.start_chat`."""
        return self._ask(
            lambda sdk: sdk.start_chat(
                events, access, properties, continuous=continuous, active=active
            ),
            timeout,
        )

    def update_chat_properties(
        self, chat_id: str, properties: Properties, *, timeout: float | None = None
    ) -> EmptyResult:
        """Blocking :meth:`~rxlivechat.CustomerSDK.update_chat_properties`."""
        return self._ask(
            lambda sdk: sdk.update_chat_properties(chat_id, properties), timeout
        )

    def update_chat_thread_properties(
        self,
        chat_id: str,
        thread_id: str,
        properties: Properties,
        *,
        timeout: float | None = None,
    ) -> EmptyResult:
        """Blocking :meth:`~rxlivechat.CustomerSDK.update_chat_thread_properties`."""
        return self._ask(
            lambda sdk: sdk.update_chat_thread_properties(
                chat_id, thread_id, properties
            ),
            timeout,
        )

    def update_customer(
        self,
        customer: CustomerUpdate | Mapping[str, Any] | None = None,
        /,
        *,
        name: str | None = None,
        email: str | None = None,
        fields: Mapping[str, str] | None = None,
        avatar: str | None = None,
        timeout: float | None = None,
    ) -> EmptyResult:
        """Blocking :meth:`~rxlivechat.CustomerSDK.update_customer`."""
        return self._ask(
            lambda sdk: sdk.update_customer(
                customer, name=name, email=email, fields=fields, avatar=avatar
            ),
            timeout,
        )

    def update_customer_page(
        self,
        url: str | m.CustomerPage | Mapping[str, Any],
        title: str | None = None,
        *,
        timeout: float | None = None,
    ) -> m.UpdateCustomerPageResult:
        """Blocking :meth:`~rxlivechat.CustomerSDK.update_customer_page`."""
        return self._ask(lambda sdk: sdk.update_customer_page(url, title), timeout)

    def update_event_properties(
        self,
        chat_id: str,
        thread_id: str,
        event_id: str,
        properties: Properties,
        *,
        timeout: float | None = None,
    ) -> EmptyResult:
        """Blocking :meth:`~rxlivechat.CustomerSDK.update_event_properties`."""
        return self._ask(
            lambda sdk: sdk.update_event_properties(
                chat_id, thread_id, event_id, properties
            ),
            timeout,
        )

    def update_last_seen_timestamp(
        self,
        chat_id: str,
        timestamp: datetime.datetime | float | None = None,
        *,
        timeout: float | None = None,
    ) -> LastSeenTimestamp:
        """Blocking :meth:`~rxlivechat.CustomerSDK.update_last_seen_timestamp`."""
        return self._ask(
            lambda sdk: sdk.update_last_seen_timestamp(chat_id, timestamp), timeout
        )

    def update_thread_properties(
        self,
        chat_id: str,
        thread_id: str,
        properties: Properties,
        *,
        timeout: float | None = None,
    ) -> EmptyResult:
        """Blocking :meth:`~rxlivechat.CustomerSDK.update_thread_properties`."""
        return self._ask(
            lambda sdk: sdk.update_thread_properties(chat_id, thread_id, properties),
            timeout,
        )

    def upload_file(
        self,
        file: FileSource,
        on_progress: Callable[[float], None] | None = None,
        *,
        name: str | None = None,
        content_type: str | None = None,
        timeout: float | None = None,
    ) -> SendFileResult:
        """Blocking :meth:`~rxlivechat.CustomerSDK.upload_file`."""
        return self._ask(
            lambda sdk: sdk.upload_file(
                file, on_progress, name=name, content_type=content_type
            ),
            timeout,
        )


_POOL_CLOSED = (
    "this SyncCustomerPool was closed (close(), or the end of its with block): "
    "make a new one with rxlivechat.sync.connect_sync_pool()"
)


def connect_sync_pool(
    *,
    max_concurrent_logins: int = 50,
    timeout: float | None = None,
    **defaults: Any,
) -> SyncCustomerPool:
    """Many blocking customers on one background thread: a :class:`SyncCustomerPool`.

    The blocking twin of :class:`~rxlivechat.pool.CustomerPool`: one loop thread,
    one HTTP session and one login gate serve every customer, where
    :func:`connect_sync` costs a thread, a loop and a session each.

    Args:
        max_concurrent_logins: customers connecting and logging in at once.
        timeout: seconds to wait for the pool to be made.
        **defaults: :func:`rxlivechat.init` options for every customer
            (``organization_id``, ``client_id``, ``api_url``...);
            :meth:`SyncCustomerPool.add` may override them per customer.

    Example:
        >>> pool = connect_sync_pool(organization_id=org, client_id=c)  # doctest: +SKIP
        >>> with pool:
        ...     alice = pool.add("alice")
        ...     alice.start_chat([Message(text="Hi")])
    """
    from .pool import CustomerPool

    runner = _LoopThread("rxlivechat-pool", _POOL_CLOSED)
    try:

        async def make() -> CustomerPool:
            return CustomerPool(max_concurrent_logins=max_concurrent_logins, **defaults)

        pool = runner.run(make(), timeout)
    except BaseException:
        runner.stop()
        raise
    return SyncCustomerPool(pool, runner)


class SyncCustomerPool:
    """Blocking customers sharing one loop thread (see :func:`connect_sync_pool`).

    Each :meth:`add` returns a :class:`SyncCustomerSDK` whose methods block as
    :func:`connect_sync`'s do; closing one removes it from the pool. Closing the
    pool (``close()``, the end of a ``with`` block, or the interpreter's exit)
    destroys every customer and stops the thread.
    """

    def __init__(self, pool: CustomerPool, runner: _LoopThread) -> None:
        self.pool = pool
        """The async :class:`~rxlivechat.pool.CustomerPool` underneath."""
        self._runner = runner
        self._customers: dict[str, SyncCustomerSDK] = {}
        self._closed = False
        _OPEN.add(self)

    def __enter__(self) -> SyncCustomerPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def add(
        self, key: str, *, timeout: float | None = None, **options: Any
    ) -> SyncCustomerSDK:
        """Add customer ``key`` and start connecting it; its blocking facade.

        Raises:
            InvalidArgumentError: ``key`` is in the pool already, or a bad option.
            SDKClosedError: the pool was closed.
        """
        if self._closed:
            raise SDKClosedError(_POOL_CLOSED)

        async def add() -> tuple[CustomerSDK, _Backlog]:
            sdk = await self.pool.add(key, **options)
            return sdk, _Backlog(sdk)

        sdk, backlog = self._runner.run(add(), timeout)
        customer = SyncCustomerSDK(sdk, self._runner, backlog, pool=self, key=key)
        self._customers[key] = customer
        return customer

    def remove(self, key: str) -> None:
        """Destroy customer ``key`` and forget it.

        Raises:
            KeyError: no such customer.
        """
        self._customers[key].close()

    def get(self, key: str) -> SyncCustomerSDK | None:
        """Customer ``key``'s facade, or ``None``."""
        return self._customers.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._customers

    def __len__(self) -> int:
        return len(self._customers)

    def keys(self) -> list[str]:
        """The customers' keys."""
        return list(self._customers)

    @property
    def connected(self) -> int:
        """How many customers are logged in right now."""
        return self.pool.connected

    def wait_connected(self, timeout: float | None = None) -> None:
        """Block until every customer in the pool is logged in."""
        if self._closed:
            raise SDKClosedError(_POOL_CLOSED)
        self._runner.run(self.pool.wait_connected(timeout), None)

    def close(self) -> None:
        """Destroy every customer and stop the thread (twice is fine)."""
        if self._closed:
            return
        self._closed = True
        _OPEN.discard(self)
        customers, self._customers = self._customers, {}
        for customer in customers.values():
            customer._closed = True
        try:
            with contextlib.suppress(Exception):
                if self._runner.alive:
                    self._runner.run(self._close(customers), CLOSE_TIMEOUT)
        finally:
            self._runner.stop()

    async def _close(self, customers: dict[str, SyncCustomerSDK]) -> None:
        for customer in customers.values():
            customer._backlog.dispose()
        await self.pool.close()

    def _remove(self, key: str) -> None:
        customer = self._customers.pop(key, None)
        if customer is None or not self._runner.alive:
            return

        async def remove() -> None:
            customer._backlog.dispose()
            await self.pool.remove(key)

        with contextlib.suppress(Exception):
            self._runner.run(remove(), CLOSE_TIMEOUT)


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
        runner: _LoopThread,
        sdk: CustomerSDK,
        timeout: float | None,
        bound: int,
        overflow: Overflow,
        backlog: _Backlog,
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

    def __init__(self, runner: _LoopThread, history: ChatHistory) -> None:
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


class Sandbox:
    """The embedded sandbox (:class:`rxlivechat.sandbox.Sandbox`), blocking.

    It serves from its own background thread; use it as a context manager::

        with rxlivechat.sync.Sandbox() as sandbox:
            agent = sandbox.agent("Jane")

    Args:
        **options: the keyword arguments of :class:`rxlivechat.sandbox.Sandbox`.
    """

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._runner: _LoopThread | None = None
        self._sandbox: AsyncSandbox | None = None

    @property
    def sandbox(self) -> AsyncSandbox:
        """The async sandbox underneath (use it only on its loop: :meth:`run`)."""
        if self._sandbox is None:
            raise RuntimeError("the sandbox is not started: use it in a with block")
        return self._sandbox

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        """Start serving on 127.0.0.1, from a background thread."""
        if self._runner is not None:
            return
        runner = _LoopThread(
            "rxlivechat-sandbox",
            "this sync Sandbox was closed (close(), or the end of its with "
            "block): start() it again, or make a new one",
        )

        from .sandbox import Sandbox as AsyncSandbox

        async def start() -> AsyncSandbox:
            sandbox = AsyncSandbox(**self._options)
            await sandbox.start()
            return sandbox

        try:
            self._sandbox = runner.run(start(), CLOSE_TIMEOUT)
        except BaseException:
            runner.stop()
            raise
        self._runner = runner
        _OPEN.add(self)

    def close(self) -> None:
        """Stop serving, stop the loop and join the thread (twice is fine)."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        _OPEN.discard(self)
        try:
            with contextlib.suppress(Exception):
                if runner.alive:
                    runner.run(self.sandbox.close(), CLOSE_TIMEOUT)
        finally:
            runner.stop()

    def run(self, start: Callable[[], Awaitable[T]], timeout: float | None = None) -> T:
        """Run ``start()`` on the sandbox's loop and block for its result."""

        async def run() -> T:
            return await start()

        return self._started().run(run(), timeout)

    def _started(self) -> _LoopThread:
        if self._runner is None:
            raise RuntimeError("the sandbox is not started: use it in a with block")
        return self._runner

    @property
    def organization_id(self) -> str:
        """The organization's id (pass it to ``connect_sync``)."""
        return self.sandbox.organization_id

    @property
    def api_url(self) -> str:
        """The Customer Chat API's base URL (pass it as ``api_url``)."""
        return self.sandbox.api_url

    @property
    def accounts_url(self) -> str:
        """The Accounts API's base URL (pass it as ``accounts_url``)."""
        return self.sandbox.accounts_url

    def count(self, action: str | None = None, *, transport: str | None = None) -> int:
        """How many requests of ``action`` (and ``transport``) were received."""
        return self._started().call(
            lambda: self.sandbox.count(action, transport=transport)
        )

    def agent(self, name: str, **details: Any) -> SyncAgent:
        """A scripted agent (made if new), whose methods block."""
        agent = self._started().call(lambda: self.sandbox.agent(name, **details))
        return SyncAgent(self, agent)


class SyncAgent:
    """A :class:`~rxlivechat.sandbox.agents.ScriptedAgent` whose methods block.

    Anything not wrapped here: ``sandbox.run(lambda: agent.agent.transfer(...))``.
    """

    def __init__(self, sandbox: Sandbox, agent: ScriptedAgent) -> None:
        self._sandbox = sandbox
        self.agent = agent
        """The async agent underneath."""

    @property
    def id(self) -> str:
        """The agent id."""
        return self.agent.id

    @property
    def name(self) -> str:
        """The display name."""
        return self.agent.name

    def join(self, chat_id: str) -> None:
        """Join the chat."""
        self._sandbox.run(lambda: self.agent.join(chat_id))

    def leave(self, chat_id: str) -> None:
        """Leave the chat."""
        self._sandbox.run(lambda: self.agent.leave(chat_id))

    def send_message(self, chat_id: str, text: str, **options: Any) -> Message:
        """Send a message (``custom_id=``, ``recipients=``...); the stored event."""
        return self._sandbox.run(
            lambda: self.agent.send_message(chat_id, text, **options)
        )

    def send_rich_message(
        self, chat_id: str, elements: list[RichMessageElement], **options: Any
    ) -> RichMessage:
        """Send a rich message (``template_id=``...); the stored event."""
        return self._sandbox.run(
            lambda: self.agent.send_rich_message(chat_id, elements, **options)
        )

    def send_event(self, chat_id: str, event: Event, **options: Any) -> Event:
        """Send any event; the stored event."""
        return self._sandbox.run(
            lambda: self.agent.send_event(chat_id, event, **options)
        )

    def typing(self, chat_id: str, is_typing: bool = True) -> None:
        """Show (or stop showing) that the agent is typing."""
        self._sandbox.run(lambda: self.agent.typing(chat_id, is_typing))

    def deactivate(self, chat_id: str) -> None:
        """Close the chat's thread."""
        self._sandbox.run(lambda: self.agent.deactivate(chat_id))

    def next_chat(self, *, timeout: float = 5.0) -> str:
        """Block for the next chat the agent should serve; its id."""
        return self._sandbox.run(lambda: self.agent.next_chat(timeout=timeout))

    def next_customer_event(
        self, chat_id: str | None = None, *, timeout: float = 5.0
    ) -> Event:
        """Block for the customer's next event (in ``chat_id``)."""
        return self._sandbox.run(
            lambda: self.agent.next_customer_event(chat_id, timeout=timeout)
        )
