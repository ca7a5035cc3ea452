"""Many customers on one loop: :class:`CustomerPool`.

.. code-block:: text

    add("alice") ─► CustomerSDK ──("new_event", e)──┐
    add("bob")   ─► CustomerSDK ──("connected", c)──┼─► pool: ("bob", "connected", c)
                    │ one HTTP session,             │    └─► pool.queue(bound, overflow)
                    │ an identity dict each         │        (async, bounded)
                    └─ the connect gate: at most N log in at once

Choices:

1. **One HTTP session for all.** The customer's identity is two accounts
   cookies, kept by its token provider in a small dict and sent by hand with each
   token request; nothing else needs cookies (the Web API and the socket use the
   token). So every customer shares the pool's one ``aiohttp.ClientSession``
   (with a ``DummyCookieJar``: cookies never mix, because none are kept there)
   and its ``TCPConnector``: the HTTP connections, DNS cache and TLS context are
   shared, and a customer costs no session and no cookie jar (some 10 KiB each,
   issue 16). The pool closes the session; a customer never does.
2. **A gate on logins.** The pool's semaphore is held by each customer from its
   token fetch to the end of its login, for the first connection and every
   reconnect, so restarting 10,000 customers logs in ``max_concurrent_logins``
   at a time instead of stampeding the server.
3. **Isolation.** Each customer is its own engine and its own hot stream: a
   customer that fails to log in, is banned or whose subscriber raises reports an
   ``error`` event (on its stream and the merged one) and nothing else changes.
4. **Backpressure.** The merged stream is hot and synchronous, like a
   customer's. An async consumer reads it through :meth:`CustomerPool.queue`,
   which is bounded: when it is full the ``overflow`` policy decides (see
   :class:`EventQueue`), and what was dropped is counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import AsyncIterator, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

import aiohttp
from reactivex import Observable, abc

from .exceptions import InvalidArgumentError, SDKClosedError, StreamOverflowError
from .handlers import Overflow
from .options import check_names
from .sdk import CustomerSDK
from .stream import HotStream, StreamQueue

if TYPE_CHECKING:
    from .telemetry import Telemetry

__all__ = ["CustomerPool", "EventQueue", "Overflow", "StreamOverflowError"]

log = logging.getLogger("rxlivechat")

PoolEvent = tuple[str, str, Any]
"""``(customer_key, event_name, payload)``."""


class EventQueue(StreamQueue[PoolEvent]):
    """A bounded queue of the pool's merged stream, read with ``async for``.

    When ``bound`` items are waiting, one more is handled by ``overflow``:

    * ``"buffer"``: kept out; the buffer holds the ``bound`` oldest and the
      newcomer is dropped (counted in :attr:`dropped`);
    * ``"drop_oldest"``: the oldest waiting item is dropped to make room
      (counted in :attr:`dropped`);
    * ``"fail"``: the queue fails: the reader gets :class:`StreamOverflowError`
      after the items already waiting, and the queue stops listening.

    Memory never exceeds ``bound`` items. :attr:`high_water` is the most items
    that waited at once. A :class:`~rxlivechat.stream.StreamQueue` whose counts
    the pool adds up over all its queues.
    """

    _reader = "the merged stream's consumer"

    def __init__(self, pool: CustomerPool, bound: int, overflow: Overflow) -> None:
        self._pool = pool
        super().__init__(pool, bound, overflow)

    def _dropped(self) -> None:
        self._pool._count_dropped()

    def _buffered(self, change: int) -> None:
        self._pool._count_buffered(change)


class CustomerPool(Observable[PoolEvent]):
    """Many customers on one loop, one HTTP session and one login gate.

    The pool is an ``Observable`` of ``(customer_key, event_name, payload)``: the
    merged hot stream of every customer's events, besides each customer's own.

    Example:
        >>> async with CustomerPool(organization_id=org, client_id=app) as pool:
        ...     alice = await pool.add("alice")
        ...     async for key, name, payload in pool.queue(bound=10_000):
        ...         ...

    Args:
        max_concurrent_logins: customers connecting and logging in at once (the
            first connection and every reconnect).
        telemetry: spans and metrics of every customer, labelled by key.
        connector_limit: the shared connector's connections at most, RTM
            sockets included (aiohttp counts a WebSocket as a connection for its
            whole life); 0, the default: no limit (the login gate bounds the
            connecting, and each customer holds one socket).
        **defaults: options for every customer, any of
            :class:`~rxlivechat.options.CustomerOptions` but those the pool
            sets (``http_session``, ``connect_gate``, ``telemetry``);
            :meth:`add` may override them per customer.
    """

    def __init__(
        self,
        *,
        max_concurrent_logins: int = 50,
        telemetry: Telemetry | None = None,
        connector_limit: int = 0,
        **defaults: Any,
    ) -> None:
        super().__init__()
        if max_concurrent_logins < 1:
            raise InvalidArgumentError("max_concurrent_logins must be at least 1")
        for option in ("http_session", "connect_gate", "telemetry"):
            if option in defaults:
                raise InvalidArgumentError(f"the pool sets {option} itself")
        check_names(defaults, "CustomerPool()", complete=False)
        self.defaults = defaults
        self.telemetry = telemetry
        self.dropped = 0
        """Merged-stream items dropped by the pool's full queues, in all."""
        self._connector_limit = connector_limit
        self._http: aiohttp.ClientSession | None = None
        self._gate = asyncio.Semaphore(max_concurrent_logins)
        self._customers: dict[str, tuple[CustomerSDK, abc.DisposableBase]] = {}
        self._stream: HotStream[PoolEvent] = HotStream(self._report)
        self._closed = False

    # Observable -------------------------------------------------------------------

    def _subscribe_core(
        self,
        observer: abc.ObserverBase[PoolEvent],
        scheduler: abc.SchedulerBase | None = None,
    ) -> abc.DisposableBase:
        return self._stream.subscribe(observer, scheduler=scheduler)

    def queue(
        self, *, bound: int = 10_000, overflow: Overflow = "buffer"
    ) -> EventQueue:
        """A bounded queue of the merged stream from now on (:class:`EventQueue`)."""
        self._check_open()
        return EventQueue(self, bound, overflow)

    # Customers --------------------------------------------------------------------

    async def add(self, key: str, **options: Any) -> CustomerSDK:
        """Add customer ``key`` and start connecting it (through the login gate).

        Returns at once, without waiting for the login (``await
        sdk.wait_connected()`` does). Options override the pool's defaults; a
        durable store's ``store=`` and ``customer_key=`` pass through.

        Raises:
            InvalidArgumentError: ``key`` is already in the pool, or an option is bad.
            SDKClosedError: the pool was closed.
        """
        self._check_open()
        if not key:
            raise InvalidArgumentError("key must be a non-empty string")
        if key in self._customers:
            raise InvalidArgumentError(f"customer {key!r} is already in the pool")
        if self._http is None:
            connector = aiohttp.TCPConnector(
                limit=self._connector_limit, ssl=self._tls_context(options)
            )
            self._http = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar()
            )
        sdk = CustomerSDK(
            **{**self.defaults, **options},
            http_session=self._http,
            connect_gate=self._gate,
            telemetry=None if self.telemetry is None else self.telemetry.customer(key),
        )
        stream = self._stream

        def forward(item: tuple[str, Any]) -> None:
            if stream.observers:
                stream.on_next((key, item[0], item[1]))

        self._customers[key] = (sdk, sdk.subscribe(forward))
        sdk.connect()
        return sdk

    async def remove(self, key: str) -> None:
        """Destroy customer ``key`` and forget it; waits until its socket is closed.

        Raises:
            KeyError: no such customer.
        """
        sdk, subscription = self._customers.pop(key)
        subscription.dispose()
        await sdk.destroy()

    def get(self, key: str) -> CustomerSDK | None:
        """Customer ``key``'s SDK, or ``None``."""
        entry = self._customers.get(key)
        return None if entry is None else entry[0]

    def __contains__(self, key: object) -> bool:
        return key in self._customers

    def __len__(self) -> int:
        return len(self._customers)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._customers))

    def keys(self) -> list[str]:
        """The customers' keys."""
        return list(self._customers)

    @property
    def connected(self) -> int:
        """How many customers are logged in right now."""
        return sum(1 for sdk, _ in self._customers.values() if sdk.connected)

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until every customer in the pool is logged in."""
        async with asyncio.timeout(timeout):
            await asyncio.gather(
                *(sdk.wait_connected() for sdk, _ in self._customers.values())
            )

    # Life -------------------------------------------------------------------------

    async def close(self) -> None:
        """Destroy every customer, complete the merged stream, close the session."""
        if self._closed:
            return
        self._closed = True
        customers, self._customers = self._customers, {}
        for _sdk, subscription in customers.values():
            subscription.dispose()
        await asyncio.gather(*(sdk.destroy() for sdk, _ in customers.values()))
        self._stream.on_completed()
        if self._http is not None:
            await self._http.close()  # and its connector

    async def __aenter__(self) -> CustomerPool:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @contextlib.asynccontextmanager
    async def consuming(
        self, *, bound: int = 10_000, overflow: Overflow = "buffer"
    ) -> AsyncIterator[EventQueue]:
        """A :meth:`queue` closed on exit."""
        queue = self.queue(bound=bound, overflow=overflow)
        try:
            yield queue
        finally:
            queue.close()

    # Internals --------------------------------------------------------------------

    def _tls_context(self, options: dict[str, Any]) -> ssl.SSLContext | bool:
        """The first customer's TLS context serves the shared session."""
        context: ssl.SSLContext | None = options.get("ssl", self.defaults.get("ssl"))
        return context or True  # True: verify certificates

    def _check_open(self) -> None:
        if self._closed:
            raise SDKClosedError("the pool was closed")

    def _report(self, exc: Exception) -> None:
        log.error("a subscriber of the pool raised: %r", exc, exc_info=exc)

    def _count_dropped(self) -> None:
        self.dropped += 1
        if self.telemetry is not None:
            self.telemetry.dropped.add(1, self.telemetry.attributes())

    def _count_buffered(self, delta: int) -> None:
        if self.telemetry is not None:
            self.telemetry.buffered.add(delta, self.telemetry.attributes())
