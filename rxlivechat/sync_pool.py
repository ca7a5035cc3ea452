"""Many blocking customers on one background thread (:func:`connect_sync_pool`).

.. code-block:: text

    your threads                     one daemon thread, one loop, one HTTP session
    pool.add("alice").start_chat()  ──►  CustomerPool ──► CustomerSDK "alice"
    pool.add("bob").get_customer()  ──►              └──► CustomerSDK "bob"
"""

from __future__ import annotations

import contextlib
from types import TracebackType
from typing import Any

from .exceptions import SDKClosedError
from .pool import CustomerPool
from .sandbox.sync import CLOSE_TIMEOUT, OPEN, LoopThread
from .sdk import CustomerSDK
from .sync import SyncCustomerSDK
from .sync_iterators import Backlog

__all__ = ["SyncCustomerPool", "connect_sync_pool"]

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
        **defaults: options for every customer, as
            :class:`~rxlivechat.pool.CustomerPool` takes them (any of
            :class:`~rxlivechat.options.CustomerOptions` but those the pool
            sets); :meth:`SyncCustomerPool.add` may override them per customer.

    Example:
        >>> pool = connect_sync_pool(organization_id=org, client_id=c)  # doctest: +SKIP
        >>> with pool:
        ...     alice = pool.add("alice")
        ...     alice.start_chat([Message(text="Hi")])
    """
    runner = LoopThread("rxlivechat-pool", _POOL_CLOSED)
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

    def __init__(self, pool: CustomerPool, runner: LoopThread) -> None:
        self.pool = pool
        """The async :class:`~rxlivechat.pool.CustomerPool` underneath."""
        self._runner = runner
        self._customers: dict[str, SyncCustomerSDK] = {}
        self._closed = False
        OPEN.add(self)

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

        async def add() -> tuple[CustomerSDK, Backlog]:
            sdk = await self.pool.add(key, **options)
            return sdk, Backlog(sdk)

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
        OPEN.discard(self)
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
