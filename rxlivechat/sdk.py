"""The customer SDK: one hot stream in, methods as operators out.

.. code-block:: text

    socket ─► Session.receive ─┬─► Requests.on_frame (by request id) ─► methods
         (Connection's reader) ├─► sdk.frames (hot: every frame, typed)
                               └─► events_of_push ─► the SDK's event stream

Rules:

1. One task owns the connection (:class:`~rxlivechat._connection.Connection`): it
   connects, logs in, reads, pings, and reconnects. Nothing else reads the socket.
2. The frame and event streams live as long as the SDK: a dropped socket is an
   event (``connection_lost``), never ``on_error``/``on_completed``. Only
   :meth:`CustomerSDK.destroy` completes them.
3. Every method validates its input and raises :class:`InvalidArgumentError`
   before anything is sent, then returns a cold observable: subscribing sends the
   request, disposing abandons it. Every observable is awaitable.
4. All timers run on the SDK's asyncio loop.
5. ``destroy()`` and ``disconnect()`` act when called and return a :class:`Closing`
   (optionally awaited) that finishes closing the socket; an SDK collected while
   connected warns (``ResourceWarning``) and stops its connection.

:class:`CustomerSDK` is the facade: lifecycle, streams and listeners here; the
seed's (v1) methods in :mod:`rxlivechat.seed`; the other v3.6 actions in
:mod:`rxlivechat.actions`; the request machinery they share in
:mod:`rxlivechat._operators`; the connection in :mod:`rxlivechat._connection`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl as ssl_
import warnings
import weakref
from collections.abc import Awaitable, Callable, Generator, Mapping
from types import TracebackType
from typing import Any, TypeVar

import aiohttp
from reactivex import Observable, abc
from reactivex.disposable import SerialDisposable

from ._connection import Connection
from ._requests import Requests
from ._throttle import Throttle
from ._validate import (
    convert,
    require_str,
)
from ._web import WebClient
from .actions import CustomerActions
from .auth import Token, TokenProvider
from .exceptions import (
    InvalidArgumentError,
    SDKClosedError,
)
from .history import EVENTS_PER_PAGE, ChatHistory
from .protocol import methods as m
from .protocol.connection import Session
from .protocol.frames import Frame
from .seed import SeedMethods
from .stream import HotStream

__all__ = ["Closing", "CustomerSDK", "init"]

log = logging.getLogger("rxlivechat")

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_API_URL = "https://api.livechatinc.com"
DEFAULT_ACCOUNTS_URL = "https://accounts.livechat.com"


class CustomerSDK(SeedMethods, CustomerActions, Observable[tuple[str, Any]]):
    """A LiveChat customer: connection, methods and the event stream.

    The object is itself an ``Observable`` of ``(event_name, payload)`` tuples,
    hot and shared, alive until :meth:`destroy`:

    .. code-block:: text

        sdk  --("connected", Connected)--("new_event", NewEvent)--("user_is_typing", ..)

    Example:
        >>> sdk = rxlivechat.init(organization_id=..., client_id=...)  # doctest: +SKIP
        >>> sdk.pipe(ops.filter(lambda e: e[0] == "new_event")).subscribe(print)
        >>> chat = await sdk.start_chat([Message(text="Hello")])

    Use :func:`init` to make one.

    Args:
        organization_id: the LiveChat organization.
        client_id: your application's client id (for customer tokens).
        api_url: the Customer Chat API's base URL (``http(s)``; the socket uses
            ``ws(s)``); a sandbox's ``api_url`` in tests.
        accounts_url: the Accounts API's base URL (customer tokens).
        group_id: the group to chat with (sent at login).
        page: the page the customer is on, ``{"url", "title"}`` (sent at login).
            Here and below, a model may be a Struct or the plain dict of its
            wire form (snake_case keys; a bad or unknown key is refused).
        referrer: the page's referrer (sent at login).
        customer: customer data sent at login: ``name``, ``email``,
            ``session_fields``...
        token_provider: an async callable returning a :class:`Token`; replaces
            the built-in customer token fetch (bring tokens from your backend).
        request_timeout: seconds a request may wait, for a connection and a reply.
        connect_timeout: seconds to open the WebSocket.
        sneak_peek_interval: the sneak-peek throttle's interval in seconds.
        reconnect_delay: ``(base, cap)`` in seconds of the reconnect backoff
            (docs/reconnect.md: a login resets it; failed attempts grow it).
        reconnects_per_minute: at most this many reconnects in any minute.
        application: the ``application`` reported at login.
        ssl: the TLS context for ``https``/``wss``; ``None`` verifies against
            the system's certificate authorities (never turned off by default).
    """

    def __init__(
        self,
        *,
        organization_id: str,
        client_id: str,
        api_url: str = DEFAULT_API_URL,
        accounts_url: str = DEFAULT_ACCOUNTS_URL,
        group_id: int | None = None,
        page: m.CustomerPage | Mapping[str, str] | None = None,
        referrer: str | None = None,
        customer: m.LoginCustomer | Mapping[str, Any] | None = None,
        token_provider: TokenProvider | None = None,
        request_timeout: float = 15.0,
        connect_timeout: float = 10.0,
        sneak_peek_interval: float = 2.0,
        reconnect_delay: tuple[float, float] = (0.5, 30.0),
        reconnects_per_minute: int = 20,
        application: m.Application | Mapping[str, Any] | None = None,
        ssl: ssl_.SSLContext | None = None,
    ) -> None:
        super().__init__()
        require_str("organization_id", organization_id)
        require_str("client_id", client_id)
        if request_timeout <= 0:
            raise InvalidArgumentError("request_timeout must be positive")
        self.organization_id = organization_id
        self.client_id = client_id
        self.api_url = api_url
        self.accounts_url = accounts_url
        self._sneak_peek_interval = sneak_peek_interval

        self._session = Session()
        self._requests = Requests(self._session, timeout=request_timeout)
        # The connection task holds the streams and the emitter: weakly bound
        # to self, so an SDK dropped while connected can still be collected.
        report = _weakly(self._report_subscriber_error)
        self._frames: HotStream[Frame] = HotStream(report)
        self._events: HotStream[tuple[str, Any]] = HotStream(report)
        self._connection = Connection(
            api_url=api_url,
            accounts_url=accounts_url,
            organization_id=organization_id,
            client_id=client_id,
            login=m.Login(
                token="",
                customer=convert(customer, m.LoginCustomer, "customer"),
                customer_page=convert(page, m.CustomerPage, "page"),
                group_id=group_id,
                referrer=referrer,
                application=convert(application, m.Application, "application")
                or m.Application(name="rxlivechat"),
            ),
            token_provider=token_provider,
            requests=self._requests,
            session=self._session,
            frames=self._frames,
            emit=_weakly(self._emit),
            connect_timeout=connect_timeout,
            reconnect_delay=reconnect_delay,
            reconnects_per_minute=reconnects_per_minute,
            ssl=ssl,
        )
        self._web = WebClient(
            self._connection.http,
            self._connection.token,
            api_url=api_url,
            organization_id=organization_id,
        )
        self._listeners: dict[tuple[str, Callable[..., Any]], list[abc.DisposableBase]]
        self._listeners = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._destroyed = False
        self._closing: Closing | None = None
        # Collected while connected: warn, and stop the connection task.
        self._finalizer = weakref.finalize(
            self, _collected, self._connection, f"CustomerSDK({organization_id!r})"
        )
        self._finalizer.atexit = False
        self._sneak_peeks: dict[str, Throttle[str]] = {}
        self.frames: Observable[Frame] = self._frames
        """Every frame the server sends, typed: the one hot stream."""

    # Observable -------------------------------------------------------------------

    def _subscribe_core(
        self,
        observer: abc.ObserverBase[tuple[str, Any]],
        scheduler: abc.SchedulerBase | None = None,
    ) -> abc.DisposableBase:
        return self._events.subscribe(observer, scheduler=scheduler)

    # Connection -------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether the customer is logged in on an open socket right now."""
        return self._connection.connected.is_set()

    @property
    def customer_id(self) -> str | None:
        """The customer's id, once logged in."""
        return self._connection.customer_id

    @property
    def _active_chats(self) -> dict[str, bool]:
        return self._connection.active_chats

    def connect(self) -> None:
        """Start connecting (and reconnecting) in the background.

        ``init()`` calls this unless ``auto_connect=False``. Calling it while the
        SDK is already connecting does nothing.
        """
        self._check_alive()
        if not self._connection.running:
            self._requests.resume()
            self._connection.start()

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until the customer is logged in (returns at once if it is).

        Raises:
            TimeoutError: not connected within ``timeout`` seconds.
            SDKClosedError: the SDK stopped for good before connecting.
        """
        self._check_alive()
        waiter = asyncio.ensure_future(self._connection.connected.wait())
        watch: set[asyncio.Future[Any]] = {waiter}
        task = self._connection.task
        if task is not None:
            watch.add(task)
        try:
            done, _ = await asyncio.wait(
                watch, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            waiter.cancel()
        # Logged in at that moment: success, even if the socket dropped since.
        if waiter in done:
            return
        if task is not None and task in done:
            raise SDKClosedError("the SDK stopped before it could connect")
        raise TimeoutError(f"not connected within {timeout} s")

    def disconnect(self) -> Closing:
        """Close the connection; no reconnect. Every pending request fails.

        Takes effect at once: reconnecting stops, pending requests fail with
        :class:`SDKClosedError`, timers are cancelled. The socket closes in the
        background; await the result to wait for that (optional, any number of
        times). ``connect()`` starts again.
        """
        if self._destroyed:
            return self.destroy()
        runner = self._connection.stop()
        self._requests.halt(
            SDKClosedError("disconnected by disconnect(); call connect() to resume")
        )
        self._cancel_timers()
        return Closing.spawn(_ended({runner} if runner else set()))

    def destroy(self) -> Closing:
        """Disconnect, complete the event streams and remove every listener.

        Takes effect at once: reconnecting stops, pending requests fail, the
        streams complete, and any later call raises :class:`SDKClosedError`. The
        socket and the HTTP session close in the background; await the result to
        wait for that (optional, any number of times)::

            await sdk.destroy()   # or just sdk.destroy()
        """
        if self._closing is not None:
            return self._closing
        self._destroyed = True
        self._finalizer.detach()
        runner = self._connection.stop()
        self._requests.halt(SDKClosedError("the SDK was destroyed"))
        self._cancel_timers()
        self._session.close()
        tasks = set(self._tasks)
        for task in tasks:
            task.cancel()
        if runner is not None:
            tasks.add(runner)
        for subscriptions in self._listeners.values():
            for subscription in subscriptions:
                subscription.dispose()
        self._listeners.clear()
        self._events.on_completed()
        self._frames.on_completed()
        self._closing = Closing.spawn(_close(self._connection, tasks))
        return self._closing

    async def __aenter__(self) -> CustomerSDK:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.destroy()

    # Listeners (the seed's on / once / off) ------------------------------------------

    def on(self, name: str, fn: Callable[[Any], Any]) -> abc.DisposableBase:
        """Call ``fn(payload)`` on every ``name`` event; returns the subscription."""
        self._check_alive()
        subscription = self._events.subscribe(
            lambda item: fn(item[1]) if item[0] == name else None
        )
        self._listeners.setdefault((name, fn), []).append(subscription)
        return subscription

    def once(self, name: str, fn: Callable[[Any], Any]) -> abc.DisposableBase:
        """Call ``fn(payload)`` on the next ``name`` event only."""
        self._check_alive()
        holder = SerialDisposable()

        def deliver(item: tuple[str, Any]) -> None:
            if item[0] == name and not holder.is_disposed:
                holder.dispose()
                self._forget_listener(name, fn, holder)
                fn(item[1])

        holder.disposable = self._events.subscribe(deliver)
        self._listeners.setdefault((name, fn), []).append(holder)
        return holder

    def off(self, name: str, fn: Callable[[Any], Any]) -> None:
        """Remove the listeners ``fn`` added for ``name`` by :meth:`on`/:meth:`once`."""
        for subscription in self._listeners.pop((name, fn), []):
            subscription.dispose()

    # History (needs the whole SDK: its requests and its event stream) ---------

    def get_chat_history(
        self, chat_id: str, *, events_per_page: int = EVENTS_PER_PAGE
    ) -> ChatHistory:
        """The chat's history, newest first: see :class:`ChatHistory`.

        Args:
            chat_id: the chat.
            events_per_page: how many events (at least) each page asks for, 1-100.
        """
        self._check_alive()
        require_str("chat_id", chat_id)
        return ChatHistory(self, chat_id, events_per_page=events_per_page)

    # Internals: plumbing ---------------------------------------------------------

    def _upload_context(
        self,
    ) -> tuple[aiohttp.ClientSession, Callable[[], Awaitable[Token]], str, str]:
        connection = self._connection
        return (connection.http(), connection.token, self.api_url, self.organization_id)

    def _cancel_timers(self) -> None:
        for throttle in self._sneak_peeks.values():
            throttle.cancel()
        self._sneak_peeks.clear()

    # Internals: events ------------------------------------------------------------

    def _emit(self, name: str, payload: Any) -> None:
        if not self._destroyed:
            self._events.on_next((name, payload))

    def _report_subscriber_error(self, exc: Exception) -> None:
        log.error("a subscriber raised: %r", exc, exc_info=exc)
        if not self._destroyed:
            # Delivered by plain Subject logic: an error handler that raises
            # again is only logged, never re-reported (no loops).
            for observer in self._events.observers.copy():
                with contextlib.suppress(Exception):
                    observer.on_next(("error", exc))

    def _forget_listener(
        self, name: str, fn: Callable[..., Any], subscription: abc.DisposableBase
    ) -> None:
        subscriptions = self._listeners.get((name, fn), [])
        if subscription in subscriptions:
            subscriptions.remove(subscription)
        if not subscriptions:
            self._listeners.pop((name, fn), None)


_CLOSING: set[asyncio.Task[None]] = set()
"""Closing tasks, held until done (the loop keeps only weak references)."""


class Closing:
    """What :meth:`CustomerSDK.destroy` and :meth:`~CustomerSDK.disconnect` return.

    The SDK has stopped by the time you get it; awaiting it waits until the socket
    (and, after ``destroy()``, the HTTP session) is closed. Awaiting is optional
    and may be repeated; the closing runs either way, held here until it is done.
    Cancelling a wait does not interrupt the closing.
    """

    __slots__ = ("_task",)

    def __init__(self, task: asyncio.Task[None] | None) -> None:
        self._task = task

    @classmethod
    def spawn(cls, closing: Awaitable[None]) -> Closing:
        """Run ``closing`` as a task on the running loop (none: nothing to close)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop: no socket or session was ever opened
            if asyncio.iscoroutine(closing):
                closing.close()
            return cls(None)
        task = loop.create_task(_logged(closing), name="rxlivechat-closing")
        _CLOSING.add(task)
        task.add_done_callback(_CLOSING.discard)
        return cls(task)

    def done(self) -> bool:
        """Whether the closing has finished."""
        return self._task is None or self._task.done()

    def __await__(self) -> Generator[Any, None, None]:
        if self._task is not None and not self._task.done():
            yield from asyncio.shield(self._task).__await__()


async def _logged(closing: Awaitable[None]) -> None:
    try:
        await closing
    except Exception:  # nobody may be awaiting: never leave it unretrieved
        log.exception("error while closing the SDK")


async def _ended(tasks: set[asyncio.Task[Any]]) -> None:
    """Wait until ``tasks`` (cancelled) have ended.

    The connection task closes its socket as it ends. ``asyncio.wait`` raises only
    if the waiter itself is cancelled, never for the tasks.
    """
    if tasks:
        await asyncio.wait(tasks)


async def _close(connection: Connection, tasks: set[asyncio.Task[Any]]) -> None:
    """The background half of ``destroy()``: wait for the tasks, close the I/O."""
    await _ended(tasks)
    await connection.close_http()


def _collected(connection: Connection, name: str) -> None:
    """An SDK was garbage-collected: stop its connection, and say so."""
    if connection.running:
        connection.abandon()
        warnings.warn(
            f"{name} was garbage-collected while connected; its socket is closed "
            "now. Call `sdk.destroy()` (or use `async with`) when done with it.",
            ResourceWarning,
            stacklevel=1,  # raised from the garbage collector: no caller to blame
        )


def _weakly(method: Callable[..., None]) -> Callable[..., None]:
    """``method`` (a bound method) without a strong reference to its object.

    Calls are dropped once the object is gone.
    """
    ref = weakref.WeakMethod(method)

    def call(*args: Any) -> None:
        bound = ref()
        if bound is not None:
            bound(*args)

    return call


def init(*, auto_connect: bool = True, **options: Any) -> CustomerSDK:
    """Create a :class:`CustomerSDK` and start connecting (like the JS ``init``).

    Must be called with an asyncio loop running (in ``async def``, or in Jupyter).

    Args:
        auto_connect: ``False`` waits for :meth:`CustomerSDK.connect`.
        **options: the keyword arguments of :class:`CustomerSDK`.
    """
    sdk = CustomerSDK(**options)
    if auto_connect:
        sdk.connect()
    return sdk
