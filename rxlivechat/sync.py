"""A blocking facade for scripts and REPLs: no ``async``, no ``await``.

.. code-block:: text

    your thread                        the SDK's thread (daemon, its own loop)
    sdk.start_chat(...)  ──blocks──►   await CustomerSDK.start_chat(...)
                  ◄──── Chat ──────    (or its error, raised in your thread)
    for name, payload in sdk.events(timeout=5):   ◄── a bounded queue ◄── the stream

:func:`connect_sync` starts an asyncio loop in a background daemon thread, makes
a :class:`~rxlivechat.CustomerSDK` on it, and returns a :class:`SyncCustomerSDK`
whose methods block and return the typed result of the async method of the same
name (``Observable[T]`` becomes ``T``). Every such method takes ``timeout=``
(seconds; :class:`TimeoutError` when it passes, and the request is abandoned).
:func:`connect_sync_pool` runs many customers on one such thread (one loop, one
HTTP session), and :class:`Sandbox` runs the embedded sandbox the same way.

Those methods are made from CustomerSDK's signatures (``rxlivechat.blocking``),
typed by the generated stub ``rxlivechat/_sync_methods.pyi`` (docs/sync.md).

Closing (``close()``, the end of a ``with`` block, or the interpreter's exit)
destroys the SDK, stops the loop and joins the thread. A ``KeyboardInterrupt``
(Ctrl-C) or an exception in your code while a call blocks abandons that call, and
the ``with`` block then closes everything: nothing is left running. One ``atexit``
hook, registered once, closes whatever is still open at exit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, Unpack

from .blocking import blocking_methods
from .exceptions import SDKClosedError
from .handlers import Overflow
from .history import ChatHistory
from .options import CustomerOptions, documented
from .protocol.versions import ApiVersion
from .sdk import MAX_QUEUED_EVENTS, CustomerSDK, init
from .sync_iterators import BACKLOG, Backlog, SyncChatHistory, SyncEvents

if TYPE_CHECKING:  # the sandbox (a server) and the pool are imported when used
    from ._sync_methods import BlockingMethods
    from .sandbox.sync import LoopThread, Sandbox, SyncAgent
    from .sync_outbox import SyncOutbox
    from .sync_pool import SyncCustomerPool, connect_sync_pool

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

T = TypeVar("T")

_SDK_CLOSED = (
    "this SyncCustomerSDK was closed (close(), or the end of its with block): "
    "make a new one with rxlivechat.connect_sync()"
)


def connect_sync(
    *,
    timeout: float | None = None,
    auto_connect: bool = True,
    **options: Unpack[CustomerOptions],
) -> SyncCustomerSDK:
    """Start a customer SDK on a background thread; a blocking facade of it.

    Args:
        timeout: seconds to wait for the SDK to be created (not for the login:
            calls wait for the connection themselves, or call
            :meth:`SyncCustomerSDK.wait_connected`).
        auto_connect: ``False`` waits for :meth:`SyncCustomerSDK.connect`.
        **options: the customer's options, as :func:`rxlivechat.init` takes
            them (:class:`~rxlivechat.options.CustomerOptions`:
            ``organization_id``, ``client_id``, ``api_url``, ``customer``...).

    Returns:
        A :class:`SyncCustomerSDK`; use it in a ``with`` block, or ``close()`` it.

    Raises:
        InvalidArgumentError: a bad option (nothing is left running).

    For many customers, :func:`connect_sync_pool` runs them all on one thread.
    """
    # The loop thread lives in the sandbox layer (it may import nothing of the
    # client); importing it loads the sandbox, so only when a facade is made.
    from .sandbox.sync import LoopThread

    runner = LoopThread("rxlivechat-sdk", _SDK_CLOSED)
    try:

        async def make() -> tuple[CustomerSDK, Backlog]:
            sdk = init(auto_connect=auto_connect, **options)
            return sdk, Backlog(sdk)  # before any event: nothing is missed

        sdk, backlog = runner.run(make(), timeout)
    except BaseException:
        runner.stop()
        raise
    return SyncCustomerSDK(sdk, runner, backlog)


if not TYPE_CHECKING:  # type checkers read the generated stub instead
    BlockingMethods = blocking_methods()


class SyncCustomerSDK(BlockingMethods):
    """A :class:`~rxlivechat.CustomerSDK` driven from plain (non-async) code.

    Make one with :func:`connect_sync`. Each action method blocks until the
    result of the async method of the same name and returns it (typed); errors
    are raised as they are (``InvalidArgumentError`` before anything is sent,
    ``ServerError`` subclasses...). ``timeout=`` (seconds) bounds any call:
    :class:`TimeoutError` then, and the request is abandoned.

    Listeners (``on``, ``once``) run on the SDK's thread: keep them short
    and do not call blocking methods from them (that raises ``RuntimeError``);
    read :meth:`events` in your thread instead.
    """

    def __init__(
        self,
        sdk: CustomerSDK,
        runner: LoopThread,
        backlog: Backlog,
        pool: SyncCustomerPool | None = None,
        key: str = "",
    ) -> None:
        from .sandbox.sync import OPEN

        self.sdk = sdk
        """The async SDK underneath (use it only on its loop: :meth:`run`)."""
        self.key = key
        """The customer's key in its :class:`SyncCustomerPool` (``""`` alone)."""
        self._runner = runner
        self._backlog = backlog
        self._pool = pool
        self._closed = False
        if pool is None:
            OPEN.add(self)

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"customer {self.customer_id}"
        return f"<SyncCustomerSDK {state}>"

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
        from .sandbox.sync import CLOSE_TIMEOUT, OPEN

        if self._closed:
            return
        self._closed = True
        OPEN.discard(self)
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

    @property
    def api_version(self) -> ApiVersion:
        """The Customer Chat API version spoken (``connect_sync(api_version=...)``)."""
        return self.sdk.api_version

    @property
    def outbox(self) -> SyncOutbox:
        """The customer's durable outbox, blocking (:attr:`CustomerSDK.outbox`)."""
        from .sync_outbox import SyncOutbox

        return SyncOutbox(self)

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
        self._ask(lambda sdk: sdk.disconnect(), timeout)

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

    def get_chat_history(
        self,
        chat_id: str,
        *,
        events_per_page: int | None = None,
        threads_per_page: int | None = None,
    ) -> SyncChatHistory:
        """The chat's history, newest page first: see :class:`SyncChatHistory`."""
        history: ChatHistory = self._runner.call(
            lambda: self.sdk.get_chat_history(
                chat_id,
                events_per_page=events_per_page,
                threads_per_page=threads_per_page,
            )
        )
        return SyncChatHistory(self._runner, history)


# After SyncCustomerSDK, which its result type names.
documented(connect_sync)


def __getattr__(name: str) -> Any:
    """The pool and the blocking sandbox, imported when first asked for."""
    if name in ("SyncCustomerPool", "connect_sync_pool"):
        from . import sync_pool

        return getattr(sync_pool, name)
    if name in ("Sandbox", "SyncAgent"):
        from .sandbox import sync

        return getattr(sync, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
