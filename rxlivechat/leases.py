"""Fenced partition leases in Redis: which worker may run which customers.

Keys (``{ns}`` is the namespace, ``rxlivechat-workers:{organization_id}`` for the
worker)::

    {ns}:partitions         P, the number of partitions (set at the first start)
    {ns}:workers            sorted set: worker id -> when its heartbeat expires (ms)
    {ns}:lease:{p}          the id of the worker holding partition p, expiring
    {ns}:epoch:{p}          partition p's epoch: +1 at every claim, never expires
    {ns}:customers:{p}      set: the customer keys of partition p
    {ns}:versions           hash: p -> changes of {ns}:customers:{p}
    {ns}:logins             the shared login token bucket

Rules:

1. A claim takes a free partition (or one this worker id still holds from a
   past life) and raises its epoch, atomically: the epoch is the fencing token
   that every store write of its customers carries
   (:meth:`~rxlivechat.stores.BatchingStore.fence`), and the store refuses a
   write of an older epoch.
2. Renewal extends only the leases still held by this worker id
   (compare-and-extend); release deletes only those (compare-and-delete).
3. The cost is one script call per worker per round, whatever the customers:
   it touches the partitions held, not the customers.

``redis`` is an optional dependency (the ``redis`` extra).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .exceptions import InvalidArgumentError
from .partitions import DEFAULT_PARTITIONS, partition_of

if TYPE_CHECKING:
    import redis.asyncio

__all__ = ["PartitionLeases"]

# KEYS: lease, epoch of each partition in turn. ARGV: worker id, lease ms.
# Returns partition index (1-based pair) and new epoch for each one won.
_CLAIM = """
local won = {}
for i = 1, #KEYS, 2 do
  local holder = redis.call('GET', KEYS[i])
  if not holder or holder == ARGV[1] then
    local epoch = redis.call('INCR', KEYS[i + 1])
    redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2])
    won[#won + 1] = (i + 1) / 2
    won[#won + 1] = epoch
  end
end
return won
"""

_RENEW = """
local kept = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
    kept[#kept + 1] = i
  end
end
return kept
"""

_RELEASE = """
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then redis.call('DEL', key) end
end
return 0
"""

# A token bucket: ARGV rate (tokens/s), burst, tokens wanted. Returns how many
# were granted and, when none, the seconds until one is (as text: Lua numbers
# reach Redis as integers).
_TAKE = """
local rate, burst, want = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens') or burst)
local last = tonumber(redis.call('HGET', KEYS[1], 'at') or now)
tokens = math.min(burst, tokens + math.max(0, now - last) * rate)
local granted = math.min(want, math.floor(tokens))
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], 3600)
return {granted, tostring((1 - tokens) / rate)}
"""


class PartitionLeases:
    """One worker's view of the partition leases of a deployment.

    Args:
        client: a ``redis.asyncio.Redis`` (``decode_responses=True``).
        namespace: the prefix of every Redis key.
        worker_id: this worker's id (unique among the workers).
        lease_time: seconds a lease (and a heartbeat) lasts unless renewed.
        partitions: the deployment's partition count.

    Raises:
        InvalidArgumentError: a lease time or partition count below 1 unit.
    """

    def __init__(
        self,
        client: redis.asyncio.Redis,
        *,
        namespace: str,
        worker_id: str,
        lease_time: float,
        partitions: int = DEFAULT_PARTITIONS,
    ) -> None:
        if not lease_time > 0:
            raise InvalidArgumentError(f"lease_time must be positive: {lease_time}")
        if partitions < 1:
            raise InvalidArgumentError(f"partitions must be >= 1: {partitions}")
        self.client = client
        self.namespace = namespace
        self.worker_id = worker_id
        self.lease_time = lease_time
        self.partitions = partitions
        self._ttl_ms = max(1, int(lease_time * 1000))
        self._claim = client.register_script(_CLAIM)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)
        self._take = client.register_script(_TAKE)

    # Keys ------------------------------------------------------------------------

    def lease_key(self, partition: int) -> str:
        """Partition ``partition``'s lease."""
        return f"{self.namespace}:lease:{partition}"

    def epoch_key(self, partition: int) -> str:
        """Partition ``partition``'s epoch counter (the stores' fence reads it)."""
        return f"{self.namespace}:epoch:{partition}"

    def customers_key(self, partition: int) -> str:
        """The set of partition ``partition``'s customer keys."""
        return f"{self.namespace}:customers:{partition}"

    @property
    def workers_key(self) -> str:
        """The sorted set of live workers."""
        return f"{self.namespace}:workers"

    def partition_of(self, key: str) -> int:
        """Customer ``key``'s partition."""
        return partition_of(key, self.partitions)

    # Setup and membership --------------------------------------------------------

    async def agree(self) -> None:
        """Store the partition count at the first start; refuse another one.

        Raises:
            InvalidArgumentError: the deployment was started with another count.
        """
        key = f"{self.namespace}:partitions"
        await self.client.set(key, self.partitions, nx=True)
        found = str(await self.client.get(key))
        if found != str(self.partitions):
            raise InvalidArgumentError(
                f"{key} is {found}: this deployment has {found} partitions, not "
                f"{self.partitions} (a count is fixed per deployment)"
            )

    async def heartbeat(self) -> list[str]:
        """Say this worker is alive; the live workers (sorted)."""
        now = int(time.time() * 1000)
        async with self.client.pipeline(transaction=True) as pipe:
            _ = pipe.zadd(self.workers_key, {self.worker_id: now + self._ttl_ms})
            _ = pipe.zremrangebyscore(self.workers_key, "-inf", now)
            _ = pipe.zrange(self.workers_key, 0, -1)
            *_, live = await pipe.execute()
        return sorted(str(worker) for worker in live)

    async def leave(self) -> None:
        """Say this worker is gone."""
        await self.client.zrem(self.workers_key, self.worker_id)

    # Leases ----------------------------------------------------------------------

    async def claim(self, partitions: Sequence[int]) -> dict[int, int]:
        """Take the free ones of ``partitions``: partition -> its new epoch."""
        if not partitions:
            return {}
        keys = [k for p in partitions for k in (self.lease_key(p), self.epoch_key(p))]
        won = await self._claim(keys=keys, args=[self.worker_id, self._ttl_ms])
        return {
            partitions[int(won[i]) - 1]: int(won[i + 1]) for i in range(0, len(won), 2)
        }

    async def renew(self, partitions: Sequence[int]) -> set[int]:
        """Extend the leases this worker still holds; the partitions kept."""
        if not partitions:
            return set()
        kept = await self._renew(
            keys=[self.lease_key(p) for p in partitions],
            args=[self.worker_id, self._ttl_ms],
        )
        return {partitions[int(i) - 1] for i in kept}

    async def release(self, partitions: Iterable[int]) -> None:
        """Give leases up, those this worker still holds."""
        keys = [self.lease_key(p) for p in partitions]
        if keys:
            await self._release(keys=keys, args=[self.worker_id])

    # Customers -------------------------------------------------------------------

    async def add_customers(self, keys: Iterable[str]) -> None:
        """Add customer keys to their partitions."""
        await self._change("sadd", keys)

    async def remove_customers(self, keys: Iterable[str]) -> None:
        """Remove customer keys from their partitions."""
        await self._change("srem", keys)

    async def _change(self, command: str, keys: Iterable[str]) -> None:
        by_partition: dict[int, list[str]] = {}
        for key in keys:
            by_partition.setdefault(self.partition_of(key), []).append(key)
        if not by_partition:
            return
        async with self.client.pipeline(transaction=True) as pipe:
            for p, members in by_partition.items():
                _ = getattr(pipe, command)(self.customers_key(p), *members)
                _ = pipe.hincrby(f"{self.namespace}:versions", str(p), 1)
            await pipe.execute()

    async def versions(self, partitions: Sequence[int]) -> dict[int, int]:
        """How many times each partition's customer set changed."""
        if not partitions:
            return {}
        found = await self.client.hmget(
            f"{self.namespace}:versions", [str(p) for p in partitions]
        )
        return {p: int(v or 0) for p, v in zip(partitions, found, strict=True)}

    async def customers(self, partitions: Sequence[int]) -> dict[int, set[str]]:
        """Each partition's customer keys."""
        if not partitions:
            return {}
        async with self.client.pipeline(transaction=False) as pipe:
            for p in partitions:
                _ = pipe.smembers(self.customers_key(p))
            found: list[Any] = await pipe.execute()
        return {
            p: {str(k) for k in members}
            for p, members in zip(partitions, found, strict=True)
        }

    # Logins ----------------------------------------------------------------------

    async def take_logins(
        self, wanted: int, *, rate: float, burst: int
    ) -> tuple[int, float]:
        """Take up to ``wanted`` login tokens from the deployment's one bucket.

        Returns:
            ``(granted, wait)``: how many were granted; when none, the seconds
            until one is.
        """
        granted, wait = await self._take(
            keys=[f"{self.namespace}:logins"], args=[rate, burst, wanted]
        )
        return int(granted), max(0.0, float(wait))

    # Status ----------------------------------------------------------------------

    async def status(self) -> dict[str, Any]:
        """The assignment as Redis holds it: workers, partitions, customers, epochs."""
        now = int(time.time() * 1000)
        live = await self.client.zrangebyscore(self.workers_key, now, "+inf")
        every = range(self.partitions)
        holders = await self.client.mget([self.lease_key(p) for p in every])
        epochs = await self.client.mget([self.epoch_key(p) for p in every])
        async with self.client.pipeline(transaction=False) as pipe:
            for p in every:
                _ = pipe.scard(self.customers_key(p))
            counts: list[Any] = await pipe.execute()
        workers: dict[str, dict[str, Any]] = {
            str(w): {"partitions": 0, "customers": 0, "epochs": {}} for w in live
        }
        free = {"partitions": 0, "customers": 0}
        for p, holder, epoch, count in zip(every, holders, epochs, counts, strict=True):
            if holder is None:
                free["partitions"] += 1
                free["customers"] += int(count)
                continue
            entry = workers.setdefault(
                str(holder), {"partitions": 0, "customers": 0, "epochs": {}}
            )
            entry["partitions"] += 1
            entry["customers"] += int(count)
            entry["epochs"][p] = int(epoch or 0)
        return {
            "partitions": self.partitions,
            "customers": sum(int(c) for c in counts),
            "workers": workers,
            "unowned": free,
        }
