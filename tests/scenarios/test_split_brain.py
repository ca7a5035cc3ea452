"""A worker stopped past its lease (SIGSTOP: a GC pause, a swap storm, a VM
migration) cannot act when it resumes: counted on real processes and Redis.

Two ``python -m rxlivechat worker`` processes share six customers; w0 is stopped
with SIGSTOP, w1 takes its three customers over, logs in as them and receives the
200 messages an agent sends to each; w0 is resumed with SIGCONT. Counted:

* events of the lost customers that w0 hands out after the resume: 0;
* store writes carrying w0's stale epoch that Redis accepted (MONITOR sees every
  script call and every write a script makes): 0;
* messages received by the new owner: all 600.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import shlex
import signal
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio

from rxlivechat.cli.worker import Worker, namespace
from rxlivechat.leases import PartitionLeases
from rxlivechat.partitions import DEFAULT_PARTITIONS, owners, partition_of
from rxlivechat.sandbox import Sandbox

from ..helpers import until
from ..redis_server import RedisServer
from .test_workers import workers

LEASE_TIME = 3.0
MESSAGES = 200

pytestmark = [pytest.mark.timeout(180), pytest.mark.sandbox(ping_timeout=60)]


def _keys_of(worker: str, count: int) -> list[str]:
    """``count`` customer keys whose partitions w0 and w1 assign to ``worker``."""
    assignment = owners(["w0", "w1"], DEFAULT_PARTITIONS)
    keys = (f"customer-{i}" for i in range(10_000))
    chosen = (
        k for k in keys if assignment[partition_of(k, DEFAULT_PARTITIONS)] == worker
    )
    return [next(chosen) for _ in range(count)]


class Writes:
    """Every store script call and script write Redis runs, from MONITOR."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        """EVALSHA calls: their words; each followed by the writes it made."""
        self.writes: list[int] = []
        """Per call, how many writes its script made."""

    def take(self, line: str) -> None:
        """One MONITOR line: ``+<time> [<db> <client>] "WORD" "WORD"...``."""
        client, _, command = line.partition("] ")
        words = shlex.split(command)
        if not words:
            return
        name = words[0].upper()
        if client.endswith(" lua"):
            if name in ("SET", "HSET") and self.calls:
                self.writes[-1] += 1
        elif name == "EVALSHA":
            self.calls.append(words)
            self.writes.append(0)

    def accepted(self, epoch_key: str, epoch: int) -> int:
        """Writes accepted from calls that carried ``epoch`` for ``epoch_key``."""
        return sum(
            writes
            for words, writes in zip(self.calls, self.writes, strict=True)
            if _carries(words, epoch_key, epoch)
        )

    def attempts(self, epoch_key: str, epoch: int) -> int:
        """Calls that carried ``epoch`` for ``epoch_key``."""
        return sum(1 for words in self.calls if _carries(words, epoch_key, epoch))


def _carries(words: list[str], epoch_key: str, epoch: int) -> bool:
    """Whether a store script call carries ``epoch`` for that customer.

    ``EVALSHA sha 5 format identity epoch-key counter target a1 a2 epoch ...``
    """
    return (
        len(words) > 10
        and words[2] == "5"
        and words[5] == epoch_key
        and int(words[10]) == epoch
    )


async def _number(client: redis.asyncio.Redis, key: str) -> int:
    value = await client.get(key)
    assert value is not None, key
    return int(value)


@contextlib.asynccontextmanager
async def monitoring(port: int) -> AsyncIterator[Writes]:
    """Follow Redis's MONITOR (its raw lines, quoting kept) while the block runs."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"MONITOR\r\n")
    assert await reader.readline() == b"+OK\r\n"
    writes = Writes()

    async def follow() -> None:
        async for raw in reader:
            writes.take(raw.decode().rstrip("\r\n"))

    task = asyncio.get_running_loop().create_task(follow())
    try:
        yield writes
    finally:
        writer.close()
        await asyncio.wait({task}, timeout=5)


async def test_a_worker_resumed_after_losing_its_lease_hands_out_and_writes_nothing(
    sandbox: Sandbox, redis_server: RedisServer, redis_url: str
) -> None:
    orphans, kept = _keys_of("w0", 3), _keys_of("w1", 3)
    keys = orphans + kept
    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    prefix = namespace(sandbox.organization_id)
    leases = PartitionLeases(
        client, namespace=prefix, worker_id="test", lease_time=LEASE_TIME
    )
    await leases.add_customers(keys)
    agent = sandbox.agent("Jane")
    loop = asyncio.get_running_loop()
    try:
        async with workers(sandbox, redis_url, 2, lease_time=LEASE_TIME) as running:
            w0, w1 = running
            await until(
                lambda: (
                    w0.owned == set(orphans)
                    and w1.owned == set(kept)
                    and set(w0.customer_ids) | set(w1.customer_ids) == set(keys)
                ),
                timeout=60,
            )
            ids = w0.customer_ids | w1.customer_ids
            chats = {
                key: sandbox.seed_chat(ids[key], active=True, agent=agent)
                for key in keys
            }
            for key in orphans:
                await agent.send_message(chats[key], f"before to {key}")
            await until(
                lambda: {(k, f"before to {k}") for k in orphans} <= w0.received,
                timeout=20,
            )
            w0_epochs = {
                key: await _number(client, leases.epoch_key(leases.partition_of(key)))
                for key in orphans
            }

            w0.process.send_signal(signal.SIGSTOP)
            stopped_at = loop.time()
            await until(
                lambda: (
                    w1.owned == set(keys)
                    and all(w1.connected_after.get(k, 0) > stopped_at for k in orphans)
                ),
                timeout=LEASE_TIME * 3 + 30,
            )
            sent = set()
            for n in range(MESSAGES):
                for key in orphans:
                    text = f"stopped {n} to {key}"
                    await agent.send_message(chats[key], text)
                    sent.add((key, text))
            await until(lambda: sent <= w1.received, timeout=60)
            assert loop.time() - stopped_at > LEASE_TIME  # stopped past the lease

            async with monitoring(redis_server.port) as writes:
                handed_before = {k: w0.events.get(k, 0) for k in orphans}
                w0.process.send_signal(signal.SIGCONT)
                # It finds out, and says so, within the lease time.
                await until(lambda: not (w0.owned & set(orphans)), timeout=LEASE_TIME)
                await asyncio.sleep(LEASE_TIME)  # room for anything it would do

            handed_after = {k: w0.events.get(k, 0) - handed_before[k] for k in orphans}
            assert handed_after == dict.fromkeys(orphans, 0)
            assert not {text for _, text in w0.received if text.startswith("stopped")}
            attempts = sum(
                writes.attempts(
                    f"rxlivechat:{sandbox.organization_id}:{key}:epoch", w0_epochs[key]
                )
                for key in orphans
            )
            stale = {
                key: writes.accepted(
                    f"rxlivechat:{sandbox.organization_id}:{key}:epoch", w0_epochs[key]
                )
                for key in orphans
            }
            assert stale == dict.fromkeys(orphans, 0), stale
            print(f"stale-epoch write attempts seen: {attempts}, accepted: {stale}")
            for key in orphans:  # w1's epoch is the newest, and the one written
                epoch = await _number(
                    client, leases.epoch_key(leases.partition_of(key))
                )
                assert epoch > w0_epochs[key]
                stored = f"rxlivechat:{sandbox.organization_id}:{key}:epoch"
                assert await _number(client, stored) == epoch
            assert sent <= w1.received
    finally:
        await client.aclose()


async def test_a_refused_write_stops_the_partitions_customers_at_once(
    sandbox: Sandbox, redis_url: str
) -> None:
    """Another owner's claim (the epoch raised) refuses the next write: stopped."""
    key = "customer-fenced"
    out = io.StringIO()
    worker = Worker(
        redis_url=redis_url,
        organization_id=sandbox.organization_id,
        lease_time=LEASE_TIME,
        worker_id="w0",
        out=out,
        client_id="rxlivechat-worker",
        api_url=sandbox.api_url,
        accounts_url=sandbox.accounts_url,
    )
    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    leases = PartitionLeases(
        client,
        namespace=namespace(sandbox.organization_id),
        worker_id="test",
        lease_time=LEASE_TIME,
    )
    await leases.add_customers([key])
    counter = leases.epoch_key(leases.partition_of(key))
    stop = asyncio.Event()
    task = asyncio.get_running_loop().create_task(worker.run(stop))

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in out.getvalue().splitlines()]

    try:
        await until(lambda: any(ln.get("claimed") == key for ln in lines()), 30)
        sdk = worker._pool.get(key) if worker._pool else None
        assert sdk is not None
        await sdk.wait_connected()
        chat = sandbox.seed_chat(sdk.customer_id, active=True, agent=sandbox.agent("J"))
        await client.incr(counter)  # as if another worker had claimed it
        await sandbox.agent("J").send_message(chat, "after the claim")
        await until(lambda: any(ln.get("lost") == key for ln in lines()), 10)
        # Still the partition's rendezvous owner, and its lease holder: it claims
        # again, above the raised epoch, and runs the customer anew.
        raised = int(await client.get(counter) or 0)
        await until(
            lambda: any(
                ln.get("claimed") == key and ln["epoch"] > raised for ln in lines()
            ),
            LEASE_TIME * 3,
        )
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await client.aclose()
