"""``python -m rxlivechat worker``: one of many processes sharing customers on Redis.

Every worker started with the same Redis URL and organization shares the set of
customer keys in ``rxlivechat-workers:{organization_id}:customers`` (add keys with
``--add KEY`` or ``SADD``). Each round (a third of the lease time) a worker:

1. says it is alive, and learns how many workers are;
2. renews its leases (:mod:`rxlivechat.leases`); a key it lost is stopped at once;
3. gives up keys beyond its fair share (``ceil(keys / workers)``), so a new worker
   gets some;
4. claims free keys up to its fair share and adds them to its
   :class:`~rxlivechat.pool.CustomerPool`.

A worker that cannot renew within two thirds of the lease time stops all its
customers before the leases can expire. A killed worker's leases expire and the
others claim its keys on their next round. Every customer keeps its identity and
checkpoints in a :class:`~rxlivechat.stores.RedisStore` on the same Redis, so the
new owner logs in as the same customer and resumes from the last committed event.

Output: one JSON line per event of the merged stream, ``{"customer": key, "event":
name, "payload": ...}``, and one per change of ownership, ``{"worker": id,
"claimed" | "released" | "lost": key}``; flushed line by line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import random
import sys
import uuid
from typing import Any, TextIO

import msgspec

from ..leases import Leases
from ..pool import CustomerPool
from ..stores import RedisStore
from .termination import on_termination

__all__ = ["Worker", "namespace", "run_worker"]

log = logging.getLogger("rxlivechat")

_encoder = msgspec.json.Encoder()


def namespace(organization_id: str) -> str:
    """The prefix of the workers' Redis keys (apart from the stores')."""
    return f"rxlivechat-workers:{organization_id}"


class Worker:
    """Runs the customers whose leases it holds, until stopped.

    Args:
        redis_url: the Redis every worker shares.
        organization_id: the LiveChat organization (names the shared key set).
        lease_time: seconds a lease lasts without renewal; a dead worker's
            customers are taken over within about this long.
        worker_id: this worker's id; a fresh one by default.
        max_concurrent_logins: the pool's login gate.
        out: where the JSON lines go (standard output by default).
        **customer_options: :class:`~rxlivechat.CustomerSDK` options of every
            customer (``client_id``, ``api_url``, ``accounts_url``...).
    """

    def __init__(
        self,
        *,
        redis_url: str,
        organization_id: str,
        lease_time: float = 10.0,
        worker_id: str | None = None,
        max_concurrent_logins: int = 50,
        out: TextIO | None = None,
        **customer_options: Any,
    ) -> None:
        self.redis_url = redis_url
        self.organization_id = organization_id
        self.lease_time = lease_time
        self.worker_id = worker_id or f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._out = out or sys.stdout
        self._customer_options = {
            "organization_id": organization_id,
            **customer_options,
        }
        self._max_concurrent_logins = max_concurrent_logins
        self.owned: set[str] = set()
        """The keys whose leases this worker holds."""
        self._rounds = 0

    def _write(self, line: dict[str, Any]) -> None:
        self._out.write(_encoder.encode(line).decode() + "\n")
        self._out.flush()

    def _show(self, item: tuple[str, str, Any]) -> None:
        key, name, payload = item
        if isinstance(payload, BaseException):
            payload = {"error": type(payload).__name__, "message": str(payload)}
        self._write(
            {"customer": key, "event": name, "payload": msgspec.to_builtins(payload)}
        )

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Share the customers until ``stop`` is set (or the task is cancelled)."""
        import redis.asyncio

        stop = stop or asyncio.Event()
        client = redis.asyncio.Redis.from_url(self.redis_url, decode_responses=True)
        leases = Leases(
            client,
            namespace=namespace(self.organization_id),
            worker_id=self.worker_id,
            lease_time=self.lease_time,
        )
        # The customers' identities and checkpoints, on the same Redis: a key
        # taken over logs in as the same customer and resumes where it was.
        store = RedisStore(self.redis_url)
        await store.open()
        pool = CustomerPool(
            max_concurrent_logins=self._max_concurrent_logins, **self._customer_options
        )
        pool.subscribe(self._show)
        self._write({"worker": self.worker_id, "started": self.lease_time})
        loop = asyncio.get_running_loop()
        renewed = loop.time()
        try:
            while not stop.is_set():
                try:
                    # A hung Redis must not outlast the lease: bound the round.
                    async with asyncio.timeout(self.lease_time / 3):
                        await self._round(leases, pool, store)
                    renewed = loop.time()
                except Exception as exc:  # Redis away: keep trying, within the lease
                    log.warning("worker round failed: %r", exc)
                    if loop.time() - renewed > self.lease_time * 2 / 3:
                        await self._drop_all(pool, "lost")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.lease_time / 3)
        finally:
            with contextlib.suppress(Exception):
                owned = list(self.owned)
                await asyncio.gather(*(self._release(pool, leases, k) for k in owned))
                await leases.leave()
            self.owned.clear()
            await pool.close()
            await store.close()
            await client.aclose()

    async def _round(
        self, leases: Leases, pool: CustomerPool, store: RedisStore
    ) -> None:
        live = await leases.heartbeat()
        self._rounds += 1
        if self._rounds == 1:  # let workers started together see each other first
            return
        lost = await leases.renew(sorted(self.owned))
        await asyncio.gather(*(self._drop(pool, key, "lost") for key in lost))
        keys = await leases.customers()
        share = math.ceil(len(keys) / max(live, 1))
        # Keys removed from the shared set, and keys beyond the fair share.
        extra = sorted(self.owned - keys) + sorted(self.owned & keys)[share:]
        await asyncio.gather(*(self._release(pool, leases, key) for key in extra))
        for key in self.owned - set(pool.keys()):  # a round cut short: run it now
            _ = await pool.add(key, **self._store_options(store, key))
        free = [
            k for k, owner in (await leases.owners(sorted(keys))).items() if not owner
        ]
        random.shuffle(free)  # workers claiming at once mostly take different keys
        for key in free:
            if len(self.owned) >= share:
                break
            if await leases.claim(key):
                self.owned.add(key)
                self._write({"worker": self.worker_id, "claimed": key})
                _ = await pool.add(key, **self._store_options(store, key))

    @staticmethod
    def _store_options(store: RedisStore, key: str) -> dict[str, Any]:
        """Customer ``key``'s options: its place in the durable store."""
        return {"store": store, "customer_key": key}

    async def _release(self, pool: CustomerPool, leases: Leases, key: str) -> None:
        await self._drop(pool, key, "released")  # stopped first, then freed
        await leases.release(key)

    async def _drop(self, pool: CustomerPool, key: str, why: str) -> None:
        self.owned.discard(key)
        if key in pool:
            await pool.remove(key)
        self._write({"worker": self.worker_id, why: key})

    async def _drop_all(self, pool: CustomerPool, why: str) -> None:
        await asyncio.gather(*(self._drop(pool, key, why) for key in list(self.owned)))


async def run_worker(
    *,
    redis_url: str,
    organization_id: str,
    add: list[str],
    seconds: float | None = None,
    **options: Any,
) -> int:
    """Run a worker until Ctrl-C, SIGTERM or ``seconds``; ``add`` joins keys first.

    SIGTERM (and Ctrl-Break on Windows) stops it as ``seconds`` does; Ctrl-C
    cancels it (``asyncio.run``'s handling): either way it releases its leases and
    leaves, on every platform.
    """
    import redis.asyncio

    if add:
        client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
        try:
            await client.sadd(f"rxlivechat-workers:{organization_id}:customers", *add)
        finally:
            await client.aclose()
    worker = Worker(redis_url=redis_url, organization_id=organization_id, **options)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    if seconds is not None:
        loop.call_later(seconds, stop.set)
    with on_termination(stop.set):  # Ctrl-C: asyncio.run cancels run(), same cleanup
        await worker.run(stop)
    return 0
