"""The customer SDK: the Rx surface on one engine.

.. code-block:: text

    Engine (rxlivechat.engine) ──on_frame──► sdk.frames (hot: every frame, typed)
        ▲     asyncio, no Rx     ──on_event──► the SDK's event stream, on/once/off
        │
    Calls (rxlivechat.methods.calls) ◄── the method groups (v1, actions), history

Rules:

1. :class:`CustomerSDK` holds one :class:`~rxlivechat.engine.Engine` by
   composition, and the Rx layer reaches it through one
   :class:`~rxlivechat.methods.calls.Calls`: the method groups and the history
   use nothing else.
2. The frame and event streams live as long as the SDK: a dropped socket is an
   event (``connection_lost``), never ``on_error``/``on_completed``. Only
   :meth:`CustomerSDK.destroy` completes them.
3. Every method validates its input and raises :class:`InvalidArgumentError`
   before anything is sent, then returns a cold observable: subscribing sends the
   request, disposing abandons it. Every observable is awaitable.
4. ``destroy()`` and ``disconnect()`` take effect when called; what they return
   finishes closing the socket, and awaiting it is optional. An SDK collected
   without ``destroy()`` warns (``ResourceWarning``) and closes its engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import ssl as ssl_
import warnings
from collections.abc import Awaitable, Callable, Generator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, NoReturn, overload
from urllib.parse import urlsplit

import aiohttp
from reactivex import Observable, abc
from reactivex.disposable import Disposable

from .engine import Engine, Options, TokenProvider
from .engine.commits import Commits
from .engine.engine import DEFAULT_REGION_URL, spawn_held
from .events import (
    ChatPropertiesUpdated,
    ChatThreadPropertiesUpdated,
    Connected,
    Disconnected,
    EventName,
    LastSeenTimestampUpdated,
    NewEvent,
    OtherEventName,
    ThreadClosed,
    ThreadSummary,
    UserInChat,
    UserTyping,
    check_event_name,
)
from .exceptions import InvalidArgumentError, SDKClosedError, WrongThreadError
from .handlers import DEFAULT_BOUND, Handler, Overflow
from .history import ChatHistory
from .methods.calls import Calls
from .methods.throttle import Throttle
from .methods.v1 import V1Methods
from .methods.validate import convert, require_str
from .protocol import methods as m
from .protocol.frames import Frame
from .protocol.models import Event
from .protocol.pushes import IncomingChat
from .stores import DEFAULT_KEY, Store, as_store
from .stream import HotStream, StreamQueue

if TYPE_CHECKING:
    from .cassette import Recording
    from .telemetry import CustomerTelemetry

__all__ = ["Closing", "CustomerSDK", "MAX_QUEUED_EVENTS", "init"]

log = logging.getLogger("rxlivechat")

DEFAULT_API_URL = "https://api.livechatinc.com"
DEFAULT_ACCOUNTS_URL = "https://accounts.livechat.com"

MAX_QUEUED_EVENTS = 10_000
"""Events :meth:`CustomerSDK.events` keeps unread by default."""


class _Streams:
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
        if self.frames.observers:
            self.frames.on_next(frame)

    def on_event(self, name: str, payload: Any) -> None:
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
        current = asyncio.current_task() if _loop_running() else None
        tasks = [task for task in self.tasks if task is not current]
        for task in tasks:
            task.cancel()
        return tasks

    def complete(self) -> None:
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


def _check_urls(
    api_url: str, accounts_url: str | None, token_provider: TokenProvider | None
) -> str:
    """Refuse URLs that cannot work; the accounts URL to use."""
    _check_url("api_url", api_url)
    if accounts_url is not None:
        _check_url("accounts_url", accounts_url)
        return accounts_url
    if token_provider is None and api_url.rstrip("/") != DEFAULT_API_URL:
        raise InvalidArgumentError(
            f"api_url is {api_url!r} but accounts_url is missing: customer tokens "
            f"would come from LiveChat's own {DEFAULT_ACCOUNTS_URL}, which does "
            "not know this server. Pass accounts_url= (a sandbox's "
            "sandbox.accounts_url), or token_provider="
        )
    return DEFAULT_ACCOUNTS_URL


def _check_url(name: str, url: str) -> None:
    require_str(name, url)
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 (raises on a port out of range)
    except ValueError as exc:
        raise InvalidArgumentError(f"{name} {url!r} has a bad port: {exc}") from None
    if parts.scheme in ("http", "https") and parts.hostname:
        return
    if parts.scheme in ("ws", "wss"):
        why = "use http(s): the socket's ws(s) URL is made from it"
    elif "://" not in url:
        why = "no scheme: add http:// or https://"
    else:
        why = "an http:// or https:// URL with a host is needed"
    raise InvalidArgumentError(
        f"{name} {url!r} is not usable ({why}), e.g. 'https://api.livechatinc.com' "
        "or 'http://127.0.0.1:8080'"
    )


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class CustomerSDK(V1Methods, Observable[tuple[str, Any]]):
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
        accounts_url: the Accounts API's base URL (customer tokens). ``None``:
            LiveChat's, which only the default ``api_url`` may use: a custom
            ``api_url`` needs its own (or a ``token_provider``).
        region_url: where the API of another region is, ``{region}`` in it
            standing for the region the server names when the organization is
            elsewhere (``misdirected_connection``/``misdirected_request``).
            ``None``: LiveChat's own pattern when ``api_url`` is LiveChat's;
            with any other ``api_url`` the SDK then stops with ``disconnected``
            naming the region, rather than reconnecting to the same host.
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
        reconnects_per_minute: the long-run bound on reconnects a minute (this
            many back to back, then one every ``60 / reconnects_per_minute`` s).
        application: the ``application`` reported at login.
        ssl: the TLS context for ``https``/``wss``; ``None`` verifies against
            the system's certificate authorities (never turned off by default).
        http_session: an ``aiohttp.ClientSession`` shared with other customers
            (:class:`~rxlivechat.pool.CustomerPool` passes its own); never closed
            by the SDK. ``None``: the SDK makes its own when it first needs one
            and closes it on :meth:`destroy`. The customer's identity is never
            in the session (its cookie jar plays no part), so one session
            serves many customers.
        connect_gate: a semaphore shared with other customers that bounds how
            many connect and log in at once (a pool's).
        telemetry: spans and metrics for this customer
            (:meth:`rxlivechat.telemetry.Telemetry.customer`); ``None``: none.
        store: where the customer's identity, each chat's checkpoint and the
            side storage outlive the process: a :class:`~rxlivechat.stores.Store`,
            a file path (an SQLite store) or a ``redis://`` URL; ``None`` keeps
            nothing past the process (a bounded memory of recent events, as
            a reconnect needs). See docs/howto/run-as-a-service.md.
        customer_key: the customer's name in ``store`` (one store, many
            customers).
        auto_commit: an event is committed once every subscriber and handler
            returned from it, and every ``async def`` handler's coroutine
            completed; ``False``: once you call :meth:`commit` (or use the
            :func:`rxlivechat.commit` operator).
        fail_fast: until the first login, a failed connection attempt (a
            refused port, a name that does not resolve, TLS, an HTTP error)
            fails :meth:`wait_connected` and the waiting requests at once with
            :class:`~rxlivechat.NotConnectedError`, naming the cause; the SDK
            keeps trying. ``False``: they wait through failed attempts.
    """

    def __init__(
        self,
        *,
        organization_id: str,
        client_id: str,
        api_url: str = DEFAULT_API_URL,
        accounts_url: str | None = None,
        region_url: str | None = None,
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
        http_session: aiohttp.ClientSession | None = None,
        connect_gate: asyncio.Semaphore | None = None,
        telemetry: CustomerTelemetry | None = None,
        store: Store | str | os.PathLike[str] | None = None,
        customer_key: str = DEFAULT_KEY,
        auto_commit: bool = True,
        fail_fast: bool = True,
        record: Recording | str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__()
        require_str("organization_id", organization_id)
        require_str("client_id", client_id)
        require_str("customer_key", customer_key)
        if request_timeout <= 0:
            raise InvalidArgumentError("request_timeout must be positive")
        accounts_url = _check_urls(api_url, accounts_url, token_provider)
        self.organization_id = organization_id
        self.client_id = client_id
        self.api_url = api_url
        self.accounts_url = accounts_url
        if region_url is None and api_url.rstrip("/") == DEFAULT_API_URL:
            region_url = DEFAULT_REGION_URL
        if region_url is not None and "{region}" not in region_url:
            raise InvalidArgumentError(
                "region_url must hold {region}, e.g. 'https://api-{region}.example'"
            )
        self._sneak_peek_interval = sneak_peek_interval
        self._sneak_peeks: dict[str, Throttle[str]] = {}

        self._streams = _Streams()
        self._engine = Engine(
            Options(
                organization_id=organization_id,
                client_id=client_id,
                api_url=api_url,
                accounts_url=accounts_url,
                region_url=region_url,
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
                request_timeout=request_timeout,
                connect_timeout=connect_timeout,
                reconnect_delay=reconnect_delay,
                reconnects_per_minute=reconnects_per_minute,
                ssl=ssl,
                http_session=http_session,
                connect_gate=connect_gate,
                telemetry=telemetry,
                # None keeps nothing (a MemoryStore would keep a checkpoint per
                # chat for ever): the engine's own ledger is bounded.
                store=None if store is None else as_store(store),
                customer_key=customer_key,
                auto_commit=auto_commit,
                fail_fast=fail_fast,
                record=record,
            ),
            self._streams,
        )
        self._streams.commits = self._engine.commits
        self._calls = Calls(self._engine, self._streams.report)
        self._closing: Closing | None = None
        self._listeners: dict[tuple[str, Callable[..., Any]], list[abc.DisposableBase]]
        self._listeners = {}
        self.frames: Observable[Frame] = self._streams.frames
        """Every frame the server sends, typed: the one hot stream."""

    def __repr__(self) -> str:
        state = (
            "destroyed"
            if self._engine.closed
            else "connected"
            if self._engine.connected
            else "connecting"
            if self._engine.running
            else "not connected"
        )
        return (
            f"<CustomerSDK organization_id={self.organization_id!r} "
            f"customer_id={self.customer_id!r} {state}>"
        )

    def __del__(self) -> None:
        engine: Engine | None = getattr(self, "_engine", None)
        if engine is None or not engine.running:
            return
        warnings.warn(
            f"CustomerSDK({self.organization_id!r}) was garbage-collected while "
            "connected; closing it. Call sdk.destroy(), or use "
            "`async with rxlivechat.init(...) as sdk:`",
            ResourceWarning,
            stacklevel=1,
        )
        engine.abandon_unclosed()

    # Observable -------------------------------------------------------------------

    def _subscribe_core(
        self,
        observer: abc.ObserverBase[tuple[str, Any]],
        scheduler: abc.SchedulerBase | None = None,
    ) -> abc.DisposableBase:
        return self._streams.events.attach(observer)

    def __iter__(self) -> NoReturn:
        # Observable.__getitem__ (slicing) would make the SDK look iterable to
        # iter(): rx.from_(sdk) would then slice it for ever, and list(sdk) hang.
        raise TypeError(
            "a CustomerSDK is not iterable: it is already an Observable of "
            "(event_name, payload); subscribe to it (sdk.subscribe(print)), "
            "compose it (sdk.pipe(ops.filter(...))) where rx.from_(sdk) was meant, "
            "or read it with `async for name, payload in sdk.events()`"
        )

    def events(
        self, *, bound: int = MAX_QUEUED_EVENTS, overflow: Overflow = "drop_oldest"
    ) -> StreamQueue[tuple[str, Any]]:
        """The event stream from now on, read with ``async for``, bounded.

        It listens from this call on (the stream is hot: call it before the
        actions whose events you want) until the SDK is destroyed, which ends
        the iteration, or until it is closed (``close()``, or leaving an
        ``async with`` block). At most ``bound`` unread events wait; past that,
        ``overflow`` decides: ``"drop_oldest"`` (the default) and ``"buffer"``
        (drops the newcomer) count what they drop in ``.dropped``; ``"fail"``
        ends the reading with :class:`~rxlivechat.pool.StreamOverflowError`.

        Raises:
            InvalidArgumentError: ``bound`` below 1, or an unknown ``overflow``.
            SDKClosedError: the SDK was destroyed.

        Example:
            >>> async with sdk.events(bound=1000) as events:  # doctest: +SKIP
            ...     async for name, payload in events:
            ...         if name == "new_event":
            ...             print(payload.event)
        """
        self._check_alive()
        self._check_loop("events()")
        return StreamQueue(self, bound, overflow)

    def _check_loop(self, what: str) -> None:
        """Refuse a call from outside the SDK's loop while that loop runs."""
        loop = self._engine.loop
        if loop is not None and loop.is_running() and _running_loop() is not loop:
            raise WrongThreadError(
                f"{what} was called from outside the SDK's event loop (another "
                "thread?): call it on that loop (loop.call_soon_threadsafe, "
                "asyncio.run_coroutine_threadsafe), or use rxlivechat.connect_sync() "
                "from plain threads. Method calls (sdk.send_event(...)) are safe "
                "from any thread."
            )

    # Connection -------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether the customer is logged in on an open socket right now."""
        return self._engine.connected

    def connect(self) -> None:
        """Start connecting (and reconnecting) in the background.

        ``init()`` calls this unless ``auto_connect=False``. Calling it while the
        SDK is already connecting does nothing.

        Raises:
            SDKClosedError: the SDK was destroyed.

        Example:
            >>> sdk = rxlivechat.init(..., auto_connect=False)  # doctest: +SKIP
            >>> sdk.on("connected", lambda c: print("chats:", c.total_chats))
            >>> sdk.connect()
        """
        self._check_alive()
        self._check_loop("connect()")
        self._engine.start()

    async def wait_connected(
        self, timeout: float | None = None, *, fail_fast: bool | None = None
    ) -> None:
        """Wait until the customer is logged in (returns at once if it is).

        Args:
            timeout: seconds to wait at most; ``None`` waits as long as it takes.
            fail_fast: fail as soon as a connection attempt fails (at once
                between failed attempts) instead of waiting for a later one.
                ``None``: the SDK's ``fail_fast`` option (default ``True``)
                until the first login, then ``False`` (a reconnect is waited for).

        Raises:
            NotConnectedError: an attempt failed (with ``fail_fast``), or the
                wait timed out after failed attempts: the message names the
                last attempt's failure (refused, DNS, TLS, an HTTP status), and
                ``__cause__`` is it. It is a ``ConnectError`` and a ``TimeoutError``.
            TimeoutError: not connected within ``timeout`` seconds.
            SDKClosedError: the SDK stopped for good (or was never started with
                :meth:`connect`) before connecting.
            ConnectError: the attempts fail for a permanent reason, its
                ``__cause__`` (a token refused for a wrong organization id...).

        Example:
            >>> sdk = rxlivechat.init(...)  # doctest: +SKIP
            >>> await sdk.wait_connected(timeout=10)
            >>> sdk.customer_id
            'b7eff798-f8df-4364-8059-649c35c9ed0c'
        """
        self._check_alive()
        waiting = self._engine.wait_connected(timeout, fail_fast=fail_fast)
        loop = self._engine.loop
        if loop is None or loop is asyncio.get_running_loop():
            await waiting
        elif loop.is_running():  # awaited on another thread's loop: wait on ours
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(waiting, loop))
        else:
            waiting.close()
            raise WrongThreadError(
                "wait_connected() was awaited outside the SDK's event loop, "
                "which is not running: use the SDK on the loop that made it"
            )

    def disconnect(self) -> Closing:
        """Close the connection; no reconnect. Every pending request fails.

        Takes effect at once; awaiting what it returns (optional) waits until
        the socket is closed. :meth:`connect` starts again. Emits
        ``disconnected`` (reason ``manual``), never ``connection_lost``.

        Returns:
            A :class:`Closing`: await it to wait for the socket to close.

        Example:
            >>> await sdk.disconnect()  # doctest: +SKIP
            >>> sdk.connect()  # the same customer again
        """
        self._check_loop("disconnect()")
        self._cancel_timers()
        return Closing(
            self._engine.stop(
                SDKClosedError("disconnected by disconnect(); call connect() to resume")
            )
        )

    def destroy(self) -> Closing:
        """Disconnect for good, complete the event streams, remove every listener.

        Takes effect at once: any later call raises :class:`SDKClosedError`.
        Awaiting what it returns (optional; twice is fine) waits until the
        socket and the HTTP session are closed. ``async with`` calls it.

        Returns:
            A :class:`Closing` (the same one on every call).

        Example:
            >>> sdk.destroy()  # doctest: +SKIP
            >>> await sdk.start_chat()
            Traceback (most recent call last):
            SDKClosedError: the SDK was destroyed
        """
        if self._closing is None:
            self._check_loop("destroy()")
            self._cancel_timers()
            tasks = self._calls.cancel_tasks() + self._streams.cancel_tasks()
            closing = self._engine.close()
            for subscriptions in self._listeners.values():
                for subscription in subscriptions:
                    subscription.dispose()
            self._listeners.clear()
            self._streams.complete()
            self._closing = Closing(_closed(closing, tasks))
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
    #
    # Typed by event: ``on("new_event", fn)`` checks that ``fn`` takes a NewEvent.

    @overload
    def on(
        self,
        name: Literal["connected", "connection_restored"],
        fn: Callable[[Connected], object],
        *,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase: ...

    @overload
    def on(
        self,
        name: Literal["connection_lost"],
        fn: Callable[[None], object],
        *,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase: ...

    @overload
    def on(
        self,
        name: Literal["disconnected"],
        fn: Callable[[Disconnected], object],
        *,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase: ...

    @overload
    def on(
        self,
        name: Literal["customer_id"],
        fn: Callable[[str], object],
        *,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase: ...

    @overload
    def on(
        self,
        name: Literal["error"],
        fn: Callable[[Exception], object],
        *,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase: ...

    @overload
    def on(
        self,
        name: Literal["new_event"],
        fn: Callable[[NewEvent], object],
        *,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase: ...

    @overload
    def on(
        self,
        name: Literal["user_is_typing", "user_stopped_typing"],
        fn: Callable[[UserTyping], object],
        *,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase: ...

    @overload
    def on(
        self,
        name: Literal["user_joined_chat", "user_left_chat"],
        fn: Callable[[UserInChat], object],
        *,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase: ...

    @overload
    def on(
        self,
        name: Literal["chat_properties_updated"],
        fn: Callable[[ChatPropertiesUpdated], object],
        *,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase: ...

    @overload
    def on(
        self,
        name: Literal["chat_thread_properties_updated"],
        fn: Callable[[ChatThreadPropertiesUpdated], object],
        *,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase: ...

    @overload
    def on(
        self,
        name: Literal["last_seen_timestamp_updated"],
        fn: Callable[[LastSeenTimestampUpdated], object],
        *,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase: ...

    @overload
    def on(
        self,
        name: Literal["thread_closed"],
        fn: Callable[[ThreadClosed], object],
        *,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase: ...

    @overload
    def on(
        self,
        name: Literal["thread_summary"],
        fn: Callable[[ThreadSummary], object],
        *,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase: ...

    @overload
    def on(
        self,
        name: Literal["incoming_chat"],
        fn: Callable[[IncomingChat], object],
        *,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase: ...

    @overload
    def on(
        self,
        name: OtherEventName,
        fn: Callable[[Any], object],
        *,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase: ...

    def on(
        self,
        name: EventName,
        fn: Callable[[Any], object],
        *,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase:
        """Call ``fn(payload)`` on every ``name`` event; returns the subscription.

        ``fn`` may be an ``async def`` function (or return any awaitable): it
        then runs as a task on the SDK's loop, ``concurrency`` at a time (one
        after the other, in order, by default), cancelled by :meth:`destroy`.
        Events that come while they are all busy wait, at most ``bound``; one
        more is handled by ``overflow``, the pool's policies: ``"buffer"`` drops
        it, ``"drop_oldest"`` drops the oldest waiting event, ``"fail"`` removes
        the handler; the first drop of each overflow is reported as a
        :class:`~rxlivechat.StreamOverflowError` ``error`` event. A ``new_event``
        is committed once its handler's coroutine *completed* (or raised), and a
        dropped one is replayed by the next life (docs/howto/run-as-a-service.md).
        An error a handler raises is logged (``rxlivechat`` logger, ERROR) and
        emitted as an ``error`` event.

        Args:
            name: the event (:data:`rxlivechat.EventName`).
            fn: called with each event's payload.
            concurrency: the handler's tasks that may run at once.
            bound: events that may wait for a busy async handler.
            overflow: what one more waiting event does.

        Raises:
            InvalidArgumentError: no event is named ``name`` (the closest name
                is suggested), ``fn`` is not callable, or ``concurrency``,
                ``bound`` or ``overflow`` is invalid.
            SDKClosedError: the SDK was destroyed.

        Example:
            >>> def show(new):  # doctest: +SKIP
            ...     print(new.chat, new.event.text)
            >>> subscription = sdk.on("new_event", show)
            >>> subscription.dispose()  # or sdk.off("new_event", show)
        """
        return self._listen(
            name,
            fn,
            once=False,
            concurrency=concurrency,
            bound=bound,
            overflow=overflow,
        )

    @overload
    def once(
        self,
        name: Literal["connected", "connection_restored"],
        fn: Callable[[Connected], object],
    ) -> abc.DisposableBase: ...

    @overload
    def once(
        self, name: Literal["connection_lost"], fn: Callable[[None], object]
    ) -> abc.DisposableBase: ...

    @overload
    def once(
        self, name: Literal["disconnected"], fn: Callable[[Disconnected], object]
    ) -> abc.DisposableBase: ...

    @overload
    def once(
        self, name: Literal["customer_id"], fn: Callable[[str], object]
    ) -> abc.DisposableBase: ...

    @overload
    def once(
        self, name: Literal["error"], fn: Callable[[Exception], object]
    ) -> abc.DisposableBase: ...

    @overload
    def once(
        self, name: Literal["new_event"], fn: Callable[[NewEvent], object]
    ) -> abc.DisposableBase: ...

    @overload
    def once(
        self,
        name: Literal["user_is_typing", "user_stopped_typing"],
        fn: Callable[[UserTyping], object],
    ) -> abc.DisposableBase: ...

    @overload
    def once(
        self,
        name: Literal["user_joined_chat", "user_left_chat"],
        fn: Callable[[UserInChat], object],
    ) -> abc.DisposableBase: ...

    @overload
    def once(
        self,
        name: Literal["chat_properties_updated"],
        fn: Callable[[ChatPropertiesUpdated], object],
    ) -> abc.DisposableBase: ...

    @overload
    def once(
        self,
        name: Literal["chat_thread_properties_updated"],
        fn: Callable[[ChatThreadPropertiesUpdated], object],
    ) -> abc.DisposableBase: ...

    @overload
    def once(
        self,
        name: Literal["last_seen_timestamp_updated"],
        fn: Callable[[LastSeenTimestampUpdated], object],
    ) -> abc.DisposableBase: ...

    @overload
    def once(
        self, name: Literal["thread_closed"], fn: Callable[[ThreadClosed], object]
    ) -> abc.DisposableBase: ...

    @overload
    def once(
        self, name: Literal["thread_summary"], fn: Callable[[ThreadSummary], object]
    ) -> abc.DisposableBase: ...

    @overload
    def once(
        self, name: Literal["incoming_chat"], fn: Callable[[IncomingChat], object]
    ) -> abc.DisposableBase: ...

    @overload
    def once(
        self, name: OtherEventName, fn: Callable[[Any], object]
    ) -> abc.DisposableBase: ...

    def once(self, name: EventName, fn: Callable[[Any], object]) -> abc.DisposableBase:
        """Call ``fn(payload)`` on the next ``name`` event only (see :meth:`on`).

        Raises:
            InvalidArgumentError: no event is named ``name``, or ``fn`` is not
                callable.
            SDKClosedError: the SDK was destroyed.

        Example:
            >>> sdk.once("connected", lambda c: print(c.customer_id))  # doctest: +SKIP
        """
        return self._listen(name, fn, once=True)

    def off(self, name: EventName, fn: Callable[..., object]) -> None:
        """Remove the listeners ``fn`` added for ``name`` by :meth:`on`/:meth:`once`.

        No event reaches them from now on; an async handler's running
        coroutines, and the events already waiting for it, still run.

        Raises:
            InvalidArgumentError: no event is named ``name``.

        Example:
            >>> sdk.on("new_event", show)  # doctest: +SKIP
            >>> sdk.off("new_event", show)
        """
        check_event_name(name)
        for subscription in self._listeners.pop((name, fn), []):
            subscription.dispose()

    def _listen(
        self,
        name: str,
        fn: Callable[[Any], object],
        *,
        once: bool,
        concurrency: int = 1,
        bound: int = DEFAULT_BOUND,
        overflow: Overflow = "buffer",
    ) -> abc.DisposableBase:
        self._check_alive()
        check_event_name(name)
        if not callable(fn):
            raise InvalidArgumentError(
                f"the handler must be callable, not {type(fn).__name__}"
            )
        subscription = self._streams.listen(
            name,
            fn,
            once=once,
            concurrency=concurrency,
            bound=bound,
            overflow=overflow,
        )
        self._listeners.setdefault((name, fn), []).append(subscription)
        return subscription

    # Delivery (at least once) ----------------------------------------------------

    def commit(
        self, event: NewEvent | tuple[str, Any] | Event, chat_id: str = ""
    ) -> bool:
        """Mark a ``new_event`` handled (with ``auto_commit=False``).

        A chat's checkpoint moves past an event once it and every event of that
        chat handed out before it are committed; after a restart the SDK
        replays what came after the checkpoint. Committing is idempotent.

        Args:
            event: the :class:`NewEvent`, the ``("new_event", NewEvent)`` pair of
                the event stream, or an :class:`Event` with its ``chat_id``.
            chat_id: the chat, when ``event`` is an :class:`Event`.

        Returns:
            ``False`` if the event was not waiting for a commit (committed
            already, auto-committed, or not handed out in this life).

        Raises:
            InvalidArgumentError: not an event, or an :class:`Event` without its
                chat or id.
        """
        if isinstance(event, tuple) and len(event) == 2:
            event = event[1]
        if isinstance(event, NewEvent):
            chat_id, event = event.chat, event.event
        if not isinstance(event, Event):
            raise InvalidArgumentError(
                f"commit() takes a NewEvent or an Event, not {type(event).__name__}"
            )
        require_str("chat_id", chat_id)
        if event.id is None:
            raise InvalidArgumentError("the event has no id: it cannot be committed")
        return self._engine.commit(chat_id, event.id)

    @property
    def uncommitted(self) -> int:
        """Events handed out and not committed yet.

        With ``auto_commit=False``, those waiting for :meth:`commit`; either way,
        those an ``async def`` handler runs or holds waiting.
        """
        return self._engine.uncommitted

    async def flush(self) -> None:
        """Wait until every commit made so far is written to the store.

        Commits are written in batches in the background (every 50 ms by
        default); a crash loses at most the last batch, which means repeats
        after the restart, never losses. Call this to make them durable now.

        Raises:
            StoreError: the store failed to write.

        Example:
            >>> sdk.commit(new_event)  # doctest: +SKIP
            >>> await sdk.flush()  # durable from here on
        """
        await self._engine.flush()

    # History --------------------------------------------------------------------

    def get_chat_history(
        self,
        chat_id: str,
        *,
        events_per_page: int | None = None,
        threads_per_page: int | None = None,
    ) -> ChatHistory:
        """The chat's history, newest first: see :class:`ChatHistory`.

        Args:
            chat_id: the chat.
            events_per_page: how many events (at least) each page asks for, 1-100
                (:data:`~rxlivechat.history.EVENTS_PER_PAGE` by default).
            threads_per_page: or how many threads each page asks for, 1-100.

        Returns:
            A cold :class:`ChatHistory`: nothing is fetched until it is read.

        Raises:
            InvalidArgumentError: ``chat_id`` is empty, a page size is out of
                range, or both are given.
            SDKClosedError: the SDK was destroyed.

        Example:
            >>> history = sdk.get_chat_history(chat.id)  # doctest: +SKIP
            >>> latest = await history.pipe(ops.take(20), ops.to_list())
        """
        self._check_alive()
        require_str("chat_id", chat_id)
        return ChatHistory(
            self._calls,
            self,
            chat_id,
            events_per_page=events_per_page,
            threads_per_page=threads_per_page,
        )

    # Internals ------------------------------------------------------------------

    def _cancel_timers(self) -> None:
        for throttle in self._sneak_peeks.values():
            throttle.cancel()
        self._sneak_peeks.clear()


class Closing:
    """What :meth:`CustomerSDK.destroy` and :meth:`~CustomerSDK.disconnect` return.

    The SDK has stopped by the time you get it; awaiting it waits until the socket
    (and, after ``destroy()``, the HTTP session) is closed. Awaiting is optional
    and may be repeated; the closing runs either way, held until it is done.
    Cancelling a wait does not interrupt the closing.
    """

    __slots__ = ("_task",)

    def __init__(self, closing: Awaitable[None] | None) -> None:
        self._task = None if closing is None else spawn_held(closing, "closing")

    def done(self) -> bool:
        """Whether the closing has finished."""
        return self._task is None or self._task.done()

    def __await__(self) -> Generator[Any, None, None]:
        if self._task is not None and not self._task.done():
            yield from asyncio.shield(self._task).__await__()


async def _closed(
    closing: Awaitable[None] | None, tasks: list[asyncio.Task[Any]]
) -> None:
    """Wait for the SDK's cancelled tasks to end and the engine to close."""
    if tasks:
        await asyncio.wait(tasks)
    if closing is not None:
        await closing


def init(
    *,
    organization_id: str,
    client_id: str,
    api_url: str = DEFAULT_API_URL,
    accounts_url: str | None = None,
    region_url: str | None = None,
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
    store: Store | str | os.PathLike[str] | None = None,
    customer_key: str = DEFAULT_KEY,
    auto_commit: bool = True,
    telemetry: CustomerTelemetry | None = None,
    auto_connect: bool = True,
    fail_fast: bool = True,
    record: Recording | str | os.PathLike[str] | None = None,
) -> CustomerSDK:
    """Create a :class:`CustomerSDK` and start connecting (like the JS ``init``).

    Must be called with an asyncio loop running: in ``async def``, or in
    Jupyter. Plain scripts without asyncio use :func:`rxlivechat.connect_sync`.

    Args:
        organization_id: the LiveChat organization.
        client_id: your application's client id.
        api_url: the Customer Chat API's base URL (``http://`` or ``https://``).
        accounts_url: the Accounts API's base URL (customer tokens); required
            with a custom ``api_url`` unless ``token_provider`` is given.
        region_url: the API's URL in another region (``{region}`` in it).
        group_id: the group to chat with.
        page: the page the customer is on, ``{"url", "title"}``.
        referrer: the page's referrer.
        customer: customer data sent at login.
        token_provider: an async callable returning a :class:`Token`.
        request_timeout: seconds a request may wait, for a connection and a reply.
        connect_timeout: seconds to open the WebSocket.
        sneak_peek_interval: the sneak-peek throttle's interval in seconds.
        reconnect_delay: ``(base, cap)`` in seconds of the reconnect backoff.
        reconnects_per_minute: the long-run bound on reconnects a minute (this
            many back to back, then one every ``60 / reconnects_per_minute`` s).
        application: the ``application`` reported at login.
        ssl: the TLS context for ``https``/``wss``.
        store: where the identity and the chats' checkpoints outlive the
            process: a :class:`Store`, a file path (SQLite) or a ``redis://`` URL.
        customer_key: the customer's name in ``store``.
        auto_commit: commit each event once its subscribers and handlers ran;
            ``False`` waits for :meth:`CustomerSDK.commit`.
        telemetry: spans and metrics of this customer (:mod:`rxlivechat.telemetry`).
        auto_connect: ``False`` waits for :meth:`CustomerSDK.connect`.
        fail_fast: until the first login, a failed attempt fails
            ``wait_connected`` and the waiting requests at once, naming its
            cause (:class:`~rxlivechat.NotConnectedError`).
        record: record the session to this cassette file (or a
            :class:`~rxlivechat.cassette.Recording`); docs/howto/record-replay.md.

    The arguments are :class:`CustomerSDK`'s; its docstring says more.

    Raises:
        RuntimeError: no asyncio loop is running.
        InvalidArgumentError: an argument is invalid: a URL without an
            ``http(s)`` scheme or a host, or a custom ``api_url`` without
            ``accounts_url`` (the message says which, and why).
    """
    if not _loop_running():
        raise RuntimeError(
            "rxlivechat.init() needs a running asyncio loop: call it inside "
            "`async def` (run with asyncio.run), or use rxlivechat.connect_sync() "
            "in code without asyncio"
        )
    sdk = CustomerSDK(
        organization_id=organization_id,
        client_id=client_id,
        api_url=api_url,
        accounts_url=accounts_url,
        region_url=region_url,
        group_id=group_id,
        page=page,
        referrer=referrer,
        customer=customer,
        token_provider=token_provider,
        request_timeout=request_timeout,
        connect_timeout=connect_timeout,
        sneak_peek_interval=sneak_peek_interval,
        reconnect_delay=reconnect_delay,
        reconnects_per_minute=reconnects_per_minute,
        application=application,
        ssl=ssl,
        store=store,
        customer_key=customer_key,
        auto_commit=auto_commit,
        telemetry=telemetry,
        fail_fast=fail_fast,
        record=record,
    )
    if auto_connect:
        sdk.connect()
    return sdk
