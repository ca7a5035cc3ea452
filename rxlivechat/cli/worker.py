"""``python -m rxlivechat worker``: one of many processes sharing customers on Redis.

Customers hash into partitions (:mod:`rxlivechat.partitions`); a worker leases
partitions (:mod:`rxlivechat.leases`) and runs their customers. Each round (a
third of the lease time) it:

1. says it is alive and learns the live workers; renews its leases, the
   deadline counted from before the call was sent;
2. once the membership has been the same for :data:`SETTLE_ROUNDS` rounds, gives
   up the partitions another worker should own (rendezvous hashing): stops their
   customers, writes their commits, then releases (no overlap with the next owner);
3. claims the free partitions it should own; each claim raises the partition's
   epoch, the fencing token of every store write of its customers;
4. starts and stops customers added to or removed from its partitions.

Self-fencing: a partition whose renewal was not confirmed within two thirds of
the lease is lost at once; an event of a customer whose partition is not held
in time is never handed out (checked against ``time.monotonic()`` as each event
arrives, so a process resumed after a stall hands out nothing of what it lost);
a watchdog treats a loop stalled for a third of the lease as every lease lost;
a store write refused for a newer epoch (:class:`~rxlivechat.exceptions.FencedError`)
loses the partition too.

Output: one JSON line per event, ``{"customer": key, "event": name, "payload":
...}``, and one per customer started or stopped, ``{"worker": id, "claimed" |
"released" | "lost": key, ...}``; logs on standard error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import time
import uuid
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TextIO

import msgspec

from ..exceptions import FencedError, InvalidArgumentError
from ..leases import PartitionLeases
from ..partitions import DEFAULT_PARTITIONS, assigned
from ..pool import CustomerPool
from ..stores import RedisStore
from .termination import on_termination

if TYPE_CHECKING:
    import redis.asyncio

__all__ = ["SETTLE_ROUNDS", "Worker", "namespace", "run_worker", "show_status"]

log = logging.getLogger("rxlivechat.worker")

_encoder = msgspec.json.Encoder()

SETTLE_ROUNDS = 4
"""Rounds the membership must stay the same before a worker gives partitions
up (4 rounds: longer than a heartbeat lasts): a worker that joins and dies, or
flaps in and out, moves nothing."""

MAX_CONNECT_DELAY = 10.0
"""Seconds at most between two tries to reach Redis at start."""


def spans(partitions: Iterable[int]) -> str:
    """``0-5,9,12-20``: partition numbers, short (a log line, not a thousand)."""
    ordered = sorted(partitions)
    runs: list[list[int]] = []
    for p in ordered:
        if runs and p == runs[-1][1] + 1:
            runs[-1][1] = p
        else:
            runs.append([p, p])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs) or "none"


def namespace(organization_id: str) -> str:
    """The prefix of the workers' Redis keys (apart from the stores')."""
    return f"rxlivechat-workers:{organization_id}"


class _Held:
    """A partition this worker holds."""

    __slots__ = ("customers", "epoch", "valid_until", "version")

    def __init__(self, epoch: int, valid_until: float, version: int) -> None:
        self.epoch = epoch
        self.valid_until = valid_until
        """``time.monotonic()`` after which the lease may have passed to another."""
        self.version = version
        self.customers: set[str] = set()


class Worker:
    """Runs the customers of the partitions it leases, until stopped.

    Args:
        redis_url: the Redis every worker shares.
        organization_id: the LiveChat organization (names the shared keys).
        lease_time: seconds a lease lasts without renewal; a dead worker's
            customers are taken over within about this long.
        partitions: the deployment's partition count (fixed per deployment).
        worker_id: this worker's id; a fresh one by default.
        max_concurrent_logins: the pool's login gate (per process).
        login_rate: logins per second of the whole deployment (one token bucket
            in Redis; a burst of as many).
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
        partitions: int = DEFAULT_PARTITIONS,
        worker_id: str | None = None,
        max_concurrent_logins: int = 50,
        login_rate: float = 200.0,
        out: TextIO | None = None,
        **customer_options: Any,
    ) -> None:
        self.redis_url = redis_url
        self.organization_id = organization_id
        self.lease_time = lease_time
        self.partitions = partitions
        self.worker_id = worker_id or f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.login_rate = login_rate
        self._out = out or sys.stdout
        self._customer_options = {
            "organization_id": organization_id,
            **customer_options,
        }
        self._max_concurrent_logins = max_concurrent_logins
        self.held: dict[int, _Held] = {}
        """The partitions whose leases this worker holds."""
        self.suppressed = 0
        """Events not handed out: their partition was not held in time."""
        self._call_timeout = lease_time / 6
        self._members: list[str] = []
        self._desired: set[int] = set()
        self._stable = 0
        self._rounds = 0
        self._partition_of: dict[str, int] = {}
        self._starts: deque[tuple[int, int, str]] = deque()
        self._start_wanted = asyncio.Event()
        self._stopping: dict[str, asyncio.Task[None]] = {}
        self._leases: PartitionLeases | None = None
        self._store: RedisStore | None = None
        self._pool: CustomerPool | None = None

    @property
    def owned(self) -> set[str]:
        """The customer keys this worker runs (of the partitions it holds)."""
        return {key for held in self.held.values() for key in held.customers}

    def _write(self, line: dict[str, Any]) -> None:
        self._out.write(_encoder.encode(line).decode() + "\n")
        self._out.flush()

    # The gate on events ----------------------------------------------------------

    def _show(self, item: tuple[str, str, Any]) -> None:
        key, name, payload = item
        partition = self._partition_of.get(key)
        held = None if partition is None else self.held.get(partition)
        if held is None or time.monotonic() >= held.valid_until:
            # Not ours in time: hand nothing out, and write nothing of it.
            self.suppressed += 1
            if held is not None and partition is not None:
                self._lose([partition], "the lease passed its deadline")
            elif self._store is not None:
                self._store.revoke(self.organization_id, key, "not owned")
            return
        if isinstance(payload, BaseException):
            payload = {"error": type(payload).__name__, "message": str(payload)}
        self._write(
            {"customer": key, "event": name, "payload": msgspec.to_builtins(payload)}
        )

    # Life ------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Share the customers until ``stop`` is set (or the task is cancelled)."""
        stop = stop or asyncio.Event()
        client = await self._connect(stop)
        if client is None:
            return
        leases = self._leases = PartitionLeases(
            client,
            namespace=namespace(self.organization_id),
            worker_id=self.worker_id,
            lease_time=self.lease_time,
            partitions=self.partitions,
        )
        # Identities and checkpoints on the same Redis, every write fenced by
        # its partition's epoch: a customer taken over resumes where it was.
        store = self._store = RedisStore(self.redis_url, timeout=self._call_timeout)
        store.on_fenced(self._on_fenced)
        pool = self._pool = CustomerPool(
            max_concurrent_logins=self._max_concurrent_logins, **self._customer_options
        )
        pool.subscribe(self._show)
        self._write({"worker": self.worker_id, "started": self.lease_time})
        log.info(
            "worker %s: lease %.1fs, %d partitions",
            self.worker_id,
            self.lease_time,
            self.partitions,
        )
        loop = asyncio.get_running_loop()
        tasks = [
            loop.create_task(self._watch(), name="lease watchdog"),
            loop.create_task(self._start_customers(), name="paced logins"),
        ]
        try:
            await store.open()
            while not stop.is_set():
                try:
                    await self._round()
                except Exception as exc:  # Redis away: the deadlines decide
                    log.warning("worker round failed: %r", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.lease_time / 3)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            with contextlib.suppress(Exception):
                await self._release(sorted(self.held))
                async with asyncio.timeout(self._call_timeout):
                    await leases.leave()
            self._lose(list(self.held), "stopping")
            await self._settle_stops()
            await pool.close()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self.lease_time):
                    await store.close()
            await client.aclose()

    async def _connect(self, stop: asyncio.Event) -> redis.asyncio.Redis | None:
        """Reach Redis and agree on the partitions; retried with backoff."""
        import redis.asyncio
        import redis.exceptions

        delay = 0.5
        attempt = 0
        while not stop.is_set():
            attempt += 1
            client = redis.asyncio.Redis.from_url(
                self.redis_url,
                decode_responses=True,
                socket_timeout=self._call_timeout,
                socket_connect_timeout=self._call_timeout,
            )
            try:
                await client.ping()
                await PartitionLeases(
                    client,
                    namespace=namespace(self.organization_id),
                    worker_id=self.worker_id,
                    lease_time=self.lease_time,
                    partitions=self.partitions,
                ).agree()
            except (redis.exceptions.RedisError, OSError) as exc:
                await client.aclose()
                log.warning(
                    "Redis at %s unreachable (attempt %d): %s; retrying in %.1fs",
                    self.redis_url,
                    attempt,
                    exc,
                    delay,
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                delay = min(delay * 2, MAX_CONNECT_DELAY)
                continue
            except BaseException:
                await client.aclose()
                raise
            log.info("Redis at %s reached (attempt %d)", self.redis_url, attempt)
            return client
        return None

    async def _round(self) -> None:
        leases = self._leases
        assert leases is not None
        sent = time.monotonic()  # before the call: the lease runs from no later
        live = await leases.heartbeat()
        held = sorted(self.held)
        kept = await leases.renew(held)
        valid_until = sent + self.lease_time * 2 / 3
        lost = []
        for partition in held:
            entry = self.held.get(partition)
            if entry is None:
                continue  # lost meanwhile (the watchdog)
            if partition in kept and time.monotonic() < entry.valid_until:
                entry.valid_until = valid_until
            else:
                lost.append(partition)
        self._lose(lost, "the lease was not renewed")
        self._rounds += 1
        if live != self._members:
            self._members, self._stable = live, 0
            self._desired = assigned(self.worker_id, live, self.partitions)
        else:
            self._stable += 1
        if self._rounds == 1:  # let workers started together see each other first
            return
        if self._stable >= SETTLE_ROUNDS:
            extra = sorted(set(self.held) - self._desired)
            if extra:
                await self._release(extra)
        await self._claim(sorted(self._desired - set(self.held)))
        await self._follow_customers()

    async def _claim(self, wanted: list[int]) -> None:
        leases = self._leases
        assert leases is not None
        if not wanted:
            return
        sent = time.monotonic()
        won = await leases.claim(wanted)
        if not won:
            return
        partitions = sorted(won)
        versions = await leases.versions(partitions)
        members = await leases.customers(partitions)
        valid_until = sent + self.lease_time * 2 / 3
        for partition in partitions:
            entry = _Held(won[partition], valid_until, versions[partition])
            self.held[partition] = entry
            self._start(partition, entry, members[partition])
        log.info(
            "claimed partitions %s (%d customers); holding %d",
            spans(partitions),
            sum(len(members[p]) for p in partitions),
            len(self.held),
        )

    def _start(self, partition: int, entry: _Held, keys: set[str]) -> None:
        """Fence the customers with the partition's epoch and queue their logins."""
        leases, store = self._leases, self._store
        assert leases is not None
        assert store is not None
        for key in sorted(keys):
            entry.customers.add(key)
            self._partition_of[key] = partition
            store.fence(
                self.organization_id,
                key,
                entry.epoch,
                counter=leases.epoch_key(partition),
            )
            self._starts.append((partition, entry.epoch, key))
        self._start_wanted.set()

    async def _start_customers(self) -> None:
        """Log the queued customers in, paced by the deployment's token bucket."""
        leases, pool, store = self._leases, self._pool, self._store
        assert leases is not None
        assert pool is not None
        assert store is not None
        burst = max(1, int(self.login_rate))
        while True:
            await self._start_wanted.wait()
            self._start_wanted.clear()
            while self._starts:
                try:
                    async with asyncio.timeout(self._call_timeout):
                        granted, wait = await leases.take_logins(
                            min(len(self._starts), burst),
                            rate=self.login_rate,
                            burst=burst,
                        )
                except Exception as exc:
                    log.warning("cannot take login tokens: %r", exc)
                    await asyncio.sleep(self._call_timeout)
                    continue
                if not granted:
                    await asyncio.sleep(wait)
                    continue
                for _ in range(min(granted, len(self._starts))):
                    partition, epoch, key = self._starts.popleft()
                    entry = self.held.get(partition)
                    if entry is None or entry.epoch != epoch or key in pool:
                        continue
                    stopping = self._stopping.get(key)
                    if stopping is not None:
                        await asyncio.wait({stopping})
                    try:
                        _ = await pool.add(key, store=store, customer_key=key)
                    except Exception as exc:  # bad options: this one, not the rest
                        log.error("cannot start customer %s: %r", key, exc)
                        continue
                    self._write(
                        {
                            "worker": self.worker_id,
                            "claimed": key,
                            "partition": partition,
                            "epoch": epoch,
                        }
                    )

    async def _follow_customers(self) -> None:
        """Start customers added to the held partitions, stop those removed."""
        leases = self._leases
        assert leases is not None
        held = sorted(self.held)
        versions = await leases.versions(held)
        changed = [
            p for p in held if p in self.held and versions[p] != self.held[p].version
        ]
        if not changed:
            return
        members = await leases.customers(changed)
        for partition in changed:
            entry = self.held.get(partition)
            if entry is None:
                continue
            entry.version = versions[partition]
            for key in entry.customers - members[partition]:
                entry.customers.discard(key)
                self._stop(key, "released")
            self._start(partition, entry, members[partition] - entry.customers)

    # Stopping --------------------------------------------------------------------

    def _lose(self, partitions: list[int], why: str) -> None:
        """These partitions are not ours now: nothing of them runs or is written."""
        entries = [(p, self.held.pop(p)) for p in partitions if p in self.held]
        if not entries:
            return
        log.warning(
            "lost partitions %s: %s; holding %d",
            spans(p for p, _ in entries),
            why,
            len(self.held),
        )
        store = self._store
        for _, entry in entries:
            for key in sorted(entry.customers):
                if store is not None:  # its buffered commits dropped at once
                    store.revoke(self.organization_id, key, why)
                self._stop(key, "lost")

    def _stop(self, key: str, why: str) -> None:
        """Stop customer ``key`` in the background (bounded)."""
        self._write({"worker": self.worker_id, why: key})
        pool = self._pool
        if pool is None or key not in pool or key in self._stopping:
            return

        async def stop() -> None:
            try:
                async with asyncio.timeout(self.lease_time / 3):
                    await pool.remove(key)
            except Exception as exc:  # its socket is closed first; a store stuck
                log.warning("stopping customer %s: %r", key, exc)
            finally:
                del self._stopping[key]

        self._stopping[key] = asyncio.get_running_loop().create_task(stop())

    async def _settle_stops(self) -> None:
        if self._stopping:
            await asyncio.wait(set(self._stopping.values()))

    async def _release(self, partitions: list[int]) -> None:
        """Hand partitions over: stop their customers, write, then release."""
        leases = self._leases
        assert leases is not None
        for partition in partitions:
            entry = self.held.get(partition)
            if entry is not None:
                for key in sorted(entry.customers):
                    self._stop(key, "released")
        await self._settle_stops()  # their commits written under a valid epoch
        for partition in partitions:
            self.held.pop(partition, None)
        async with asyncio.timeout(self._call_timeout):
            await leases.release(partitions)
        log.info(
            "released partitions %s; holding %d", spans(partitions), len(self.held)
        )

    def _on_fenced(self, customer: tuple[str, str], error: FencedError) -> None:
        partition = self._partition_of.get(customer[1])
        if partition is not None:
            self._lose([partition], f"a store write was refused: {error}")

    async def _watch(self) -> None:
        """Lose leases whose deadline passed, and all of them after a loop stall."""
        period = self.lease_time / 12
        expected = time.monotonic() + period
        while True:
            await asyncio.sleep(period)
            now = time.monotonic()
            if now - expected > self.lease_time / 3:
                self._lose(list(self.held), f"the loop stalled {now - expected:.1f}s")
            else:
                late = [p for p, e in self.held.items() if now >= e.valid_until]
                self._lose(late, "not renewed in time")
            expected = now + period


async def show_status(*, redis_url: str, organization_id: str, out: TextIO) -> int:
    """Print the assignment Redis holds, as one JSON document."""
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    try:
        found = await client.get(f"{namespace(organization_id)}:partitions")
        if found is None:
            out.write(f"no workers have run for {organization_id} on {redis_url}\n")
            return 1
        leases = PartitionLeases(
            client,
            namespace=namespace(organization_id),
            worker_id="status",
            lease_time=1.0,
            partitions=int(found),
        )
        status = await leases.status()
    finally:
        await client.aclose()
    out.write(msgspec.json.format(_encoder.encode(status)).decode() + "\n")
    return 0


async def run_worker(
    *,
    redis_url: str,
    organization_id: str,
    add: list[str],
    seconds: float | None = None,
    log_level: str = "INFO",
    status: bool = False,
    **options: Any,
) -> int:
    """Run a worker until Ctrl-C, SIGTERM or ``seconds``; ``add`` joins keys first.

    Logs go to standard error at ``log_level``. With ``status``, prints the
    assignment and returns instead. SIGTERM (and Ctrl-Break on Windows) stops it
    as ``seconds`` does; Ctrl-C cancels it: either way it hands its partitions
    over and leaves.
    """
    import redis.asyncio

    logging.basicConfig(
        level=log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if log_level.upper() != "DEBUG":  # one line per customer is the SDK's INFO
        logging.getLogger("rxlivechat").setLevel(logging.WARNING)
        log.setLevel(log_level.upper())
    if status:
        return await show_status(
            redis_url=redis_url, organization_id=organization_id, out=sys.stdout
        )
    worker = Worker(redis_url=redis_url, organization_id=organization_id, **options)
    if add:
        client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
        try:
            await PartitionLeases(
                client,
                namespace=namespace(organization_id),
                worker_id=worker.worker_id,
                lease_time=worker.lease_time,
                partitions=worker.partitions,
            ).add_customers(add)
        finally:
            await client.aclose()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    if seconds is not None:
        loop.call_later(seconds, stop.set)
    with on_termination(stop.set):  # Ctrl-C: asyncio.run cancels run(), same cleanup
        try:
            await worker.run(stop)
        except InvalidArgumentError as exc:  # another partition count: one line
            log.error("%s", exc)
            return 2
    return 0
