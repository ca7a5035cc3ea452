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

Its neighbours, one idea each: ``options.py`` (the options, declared once, and
what the engine is given), ``urls.py`` (their URLs checked), ``streams.py`` (the
engine's listener: the hot streams and the named handlers), ``listeners.py``
(``on``/``once``/``off``), ``closing.py`` (what ``destroy()`` returns).
"""

from __future__ import annotations

import asyncio
import warnings
from asyncio.events import _get_running_loop
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, Unpack

from reactivex import Observable, abc

from .closing import Closing, closed
from .engine import Engine
from .events import NewEvent
from .exceptions import InvalidArgumentError, SDKClosedError, WrongThreadError
from .handlers import Overflow
from .history import ChatHistory
from .listeners import Listeners
from .methods.calls import Calls
from .methods.throttle import Throttle
from .methods.v1 import V1Methods
from .methods.validate import require_str
from .options import (
    SNEAK_PEEK_INTERVAL,
    CustomerOptions,
    check_names,
    documented,
    for_the_engine,
)
from .protocol.frames import Frame
from .protocol.models import Event
from .stream import StreamQueue
from .streams import Streams

if TYPE_CHECKING:
    from .outbox import Outbox

__all__ = ["Closing", "CustomerSDK", "MAX_QUEUED_EVENTS", "init"]

MAX_QUEUED_EVENTS = 10_000
"""Events :meth:`CustomerSDK.events` keeps unread by default."""


class CustomerSDK(Listeners, V1Methods, Observable[tuple[str, Any]]):
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
        **options: the customer's options, declared by
            :class:`~rxlivechat.options.CustomerOptions`: ``organization_id``
            and ``client_id`` (required), ``api_url``, ``accounts_url``,
            ``store``... (``help(CustomerSDK)`` lists them all).

    Raises:
        InvalidArgumentError: an option is invalid: a URL without an
            ``http(s)`` scheme or a host, or a custom ``api_url`` without
            ``accounts_url`` (the message says which, and why).
    """

    def __init__(self, **options: Unpack[CustomerOptions]) -> None:
        super().__init__()
        engine_options = for_the_engine(options, "CustomerSDK()")
        self.organization_id = engine_options.organization_id
        self.client_id = engine_options.client_id
        self.api_url = engine_options.api_url
        self.accounts_url = engine_options.accounts_url
        self._sneak_peek_interval = options.get(
            "sneak_peek_interval", SNEAK_PEEK_INTERVAL
        )
        self._sneak_peeks: dict[str, Throttle[str]] = {}

        self._streams = Streams()
        self._engine = Engine(engine_options, self._streams)
        self._streams.commits = self._engine.commits
        self._calls = Calls(self._engine, self._streams.report)
        self._closing: Closing | None = None
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
        if loop is not None and loop.is_running() and _get_running_loop() is not loop:
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
            self._remove_listeners()
            self._streams.complete()
            self._closing = Closing(closed(closing, tasks))
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

    @property
    def outbox(self) -> Outbox:
        """Events queued in the customer's store, sent exactly once, in order per chat.

        The first use opens the queue and sends what an earlier process left in
        it (docs/howto/bridge.md).
        """
        outbox: Outbox | None = self.__dict__.get("_outbox")
        if outbox is None:
            from .outbox import Outbox

            self._calls.check_alive()
            outbox = self.__dict__["_outbox"] = Outbox(self, self._calls)
        return outbox

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


def init(
    *, auto_connect: bool = True, **options: Unpack[CustomerOptions]
) -> CustomerSDK:
    """Create a :class:`CustomerSDK` and start connecting (like the JS ``init``).

    Must be called with an asyncio loop running: in ``async def``, or in
    Jupyter. Plain scripts without asyncio use :func:`rxlivechat.connect_sync`.

    Args:
        auto_connect: ``False`` waits for :meth:`CustomerSDK.connect`.
        **options: the customer's options, declared by
            :class:`~rxlivechat.options.CustomerOptions`: ``organization_id``
            and ``client_id`` (required), ``api_url``, ``accounts_url``,
            ``store``... (``help(rxlivechat.init)`` lists them all).

    Raises:
        RuntimeError: no asyncio loop is running.
        InvalidArgumentError: an option is invalid: a URL without an
            ``http(s)`` scheme or a host, or a custom ``api_url`` without
            ``accounts_url`` (the message says which, and why).
    """
    check_names(options, "init()")
    if _get_running_loop() is None:
        raise RuntimeError(
            "rxlivechat.init() needs a running asyncio loop: call it inside "
            "`async def` (run with asyncio.run), or use rxlivechat.connect_sync() "
            "in code without asyncio"
        )
    sdk = CustomerSDK(**options)
    if auto_connect:
        sdk.connect()
    return sdk


documented(init)
documented(CustomerSDK.__init__)
