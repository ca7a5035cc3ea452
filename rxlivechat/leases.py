"""Leases in Redis: each customer key is run by exactly one worker at a time.

Keys (``{ns}`` is the namespace; the worker's is
``rxlivechat-workers:{organization_id}``, apart from the stores' keys)::

    {ns}:customers          set: every customer key the workers share
    {ns}:lease:{key}        the owning worker's id, expiring after the lease time
    {ns}:workers            sorted set: worker id -> when its heartbeat expires (ms)

Rules:

1. A worker claims a key with ``SET lease NX PX ttl``: one wins.
2. It renews its leases every third of the lease time with a script that extends
   a lease only while it still holds this worker's id (compare-and-extend), and
   releases one with a compare-and-delete: a worker never extends or frees a lease
   that expired and was claimed by another.
3. A worker that cannot renew in time stops its customers before its leases can
   expire, so two workers never run one customer: the lease time must exceed the
   renew period plus the longest stall (``lease_time / 3`` is left as margin).
4. A dead worker's leases expire; the others claim them on their next round.

``redis`` is an optional dependency (the ``redis`` extra), imported when a
:class:`Leases` is made.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import redis.asyncio

__all__ = ["Leases"]

_EXTEND = """
local extended = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
    extended[#extended + 1] = i
  end
end
return extended
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class Leases:
    """One worker's leases on the shared customer keys.

    Args:
        client: a ``redis.asyncio.Redis`` (``decode_responses=True``).
        namespace: the prefix of every Redis key.
        worker_id: this worker's id (unique among the workers).
        lease_time: seconds a lease lasts unless renewed.
    """

    def __init__(
        self,
        client: redis.asyncio.Redis,
        *,
        namespace: str,
        worker_id: str,
        lease_time: float,
    ) -> None:
        if lease_time <= 0:
            raise ValueError("lease_time must be positive")
        self.client = client
        self.namespace = namespace
        self.worker_id = worker_id
        self.lease_time = lease_time
        self._ttl_ms = max(1, int(lease_time * 1000))
        self._extend = client.register_script(_EXTEND)
        self._release = client.register_script(_RELEASE)

    def lease_key(self, key: str) -> str:
        """The Redis key of customer ``key``'s lease."""
        return f"{self.namespace}:lease:{key}"

    @property
    def customers_key(self) -> str:
        """The Redis set of the shared customer keys."""
        return f"{self.namespace}:customers"

    @property
    def workers_key(self) -> str:
        """The Redis sorted set of live workers."""
        return f"{self.namespace}:workers"

    async def customers(self) -> set[str]:
        """Every customer key the workers share."""
        members: Iterable[Any] = await self.client.smembers(self.customers_key)
        return {str(member) for member in members}

    async def add_customers(self, keys: Iterable[str]) -> None:
        """Add customer keys to the shared set."""
        keys = list(keys)
        if keys:
            await self.client.sadd(self.customers_key, *keys)

    async def owners(self, keys: Sequence[str]) -> dict[str, str | None]:
        """Who holds each key's lease (``None``: nobody)."""
        if not keys:
            return {}
        values = await self.client.mget([self.lease_key(k) for k in keys])
        return {
            key: None if value is None else str(value)
            for key, value in zip(keys, values, strict=True)
        }

    async def claim(self, key: str) -> bool:
        """Try to take ``key``'s lease; whether this worker now holds it."""
        taken = await self.client.set(
            self.lease_key(key), self.worker_id, nx=True, px=self._ttl_ms
        )
        return bool(taken)

    async def renew(self, keys: Sequence[str]) -> set[str]:
        """Extend the leases this worker still holds; returns the keys it lost."""
        if not keys:
            return set()
        extended = await self._extend(
            keys=[self.lease_key(k) for k in keys],
            args=[self.worker_id, self._ttl_ms],
        )
        kept = {keys[int(i) - 1] for i in extended}
        return set(keys) - kept

    async def release(self, key: str) -> None:
        """Give ``key``'s lease up, if this worker still holds it."""
        await self._release(keys=[self.lease_key(key)], args=[self.worker_id])

    async def heartbeat(self) -> int:
        """Say this worker is alive; returns how many workers are."""
        now = int(time.time() * 1000)
        async with self.client.pipeline(transaction=True) as pipe:
            # Queued on the pipeline; their replies come from execute().
            _ = pipe.zadd(self.workers_key, {self.worker_id: now + self._ttl_ms})
            _ = pipe.zremrangebyscore(self.workers_key, "-inf", now)
            _ = pipe.zcard(self.workers_key)
            *_, live = await pipe.execute()
        return int(live)

    async def leave(self) -> None:
        """Say this worker is gone (its leases are released one by one)."""
        await self.client.zrem(self.workers_key, self.worker_id)
