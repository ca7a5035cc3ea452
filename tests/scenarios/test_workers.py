"""Workers sharing customers on a real redis-server: a worker killed, its customers
taken over by the others, the agent's messages counted end to end.

Three ``python -m rxlivechat worker`` processes share 300 customer keys against a
sandbox in this process. Their JSON lines tell who claimed what and which messages
each customer received; Redis tells who holds each lease; the sandbox tells which
customers are logged in.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis.asyncio

from rxlivechat.cli.worker import namespace
from rxlivechat.leases import PartitionLeases
from rxlivechat.partitions import DEFAULT_PARTITIONS, partition_of
from rxlivechat.sandbox import Sandbox

from ..helpers import until

CUSTOMERS = 300
LEASE_TIME = 3.0
RECONNECT = 15.0
"""Allowance for the takeover's logins, beyond the lease time (a loaded machine)."""

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.sandbox(max_idle_connections=2048, ping_timeout=60),
]


@dataclass
class WorkerProcess:
    """A worker process and what its output said."""

    name: str
    process: asyncio.subprocess.Process
    owned: set[str] = field(default_factory=set)
    customer_ids: dict[str, str] = field(default_factory=dict)
    received: set[tuple[str, str]] = field(default_factory=set)
    connected_after: dict[str, float] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)
    """Events handed out per customer."""
    reader: asyncio.Task[None] | None = None

    def take(self, line: dict[str, Any], now: float) -> None:
        """Update the view from one JSON line."""
        if "claimed" in line:
            self.owned.add(line["claimed"])
        for gone in ("released", "lost"):
            if gone in line:
                self.owned.discard(line[gone])
        key, event = line.get("customer"), line.get("event")
        if key is None:
            return
        self.events[key] = self.events.get(key, 0) + 1
        payload = line["payload"]
        if event in ("connected", "connection_restored"):
            self.customer_ids[key] = payload["customer_id"]
            self.connected_after[key] = now
        elif event == "new_event" and payload["event"].get("type") == "message":
            self.received.add((key, payload["event"]["text"]))

    async def read(self) -> None:
        """Follow the process's output until it ends."""
        assert self.process.stdout is not None
        loop = asyncio.get_running_loop()
        async for raw in self.process.stdout:
            self.take(json.loads(raw), loop.time())


@contextlib.asynccontextmanager
async def workers(
    sandbox: Sandbox,
    url: str,
    count: int,
    *,
    lease_time: float = LEASE_TIME,
    redis_urls: list[str] | None = None,
) -> AsyncIterator[list[WorkerProcess]]:
    """``count`` worker processes, stopped (SIGTERM, then SIGKILL) at the end.

    Worker ``n`` reaches Redis at ``redis_urls[n]`` when given (a proxy).
    """
    started: list[WorkerProcess] = []
    try:
        for n in range(count):
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "rxlivechat",
                "worker",
                "--redis",
                url if redis_urls is None else redis_urls[n],
                "--organization-id",
                sandbox.organization_id,
                "--api-url",
                sandbox.api_url,
                "--accounts-url",
                sandbox.accounts_url,
                "--lease-time",
                str(lease_time),
                "--worker-id",
                f"w{n}",
                "--log-level",
                "WARNING",
                stdout=asyncio.subprocess.PIPE,
            )
            worker = WorkerProcess(f"w{n}", process)
            worker.reader = asyncio.get_running_loop().create_task(worker.read())
            started.append(worker)
        yield started
    finally:
        for worker in started:
            if worker.process.returncode is None:
                worker.process.send_signal(signal.SIGCONT)  # if a test stopped it
                worker.process.terminate()
        for worker in started:
            try:
                await asyncio.wait_for(worker.process.wait(), 15)
            except TimeoutError:
                worker.process.kill()
                await worker.process.wait()
            if worker.reader is not None:
                await worker.reader


async def _scenario(sandbox: Sandbox, url: str, *, takeover_messages: bool) -> None:
    keys = [f"customer-{i:03}" for i in range(CUSTOMERS)]
    client = redis.asyncio.Redis.from_url(url, decode_responses=True)
    prefix = namespace(sandbox.organization_id)
    await PartitionLeases(
        client, namespace=prefix, worker_id="test", lease_time=LEASE_TIME
    ).add_customers(keys)
    agent = sandbox.agent("Jane")
    loop = asyncio.get_running_loop()
    try:
        async with workers(sandbox, url, 3) as running:

            def ids() -> dict[str, str]:
                merged: dict[str, str] = {}
                for worker in running:
                    merged |= {k: v for k, v in worker.customer_ids.items()}
                return merged

            # 1. Every key claimed once and logged in, the keys spread over all three.
            def spread() -> bool:
                return (
                    len(ids()) == CUSTOMERS
                    and sum(len(w.owned) for w in running) == CUSTOMERS
                    and all(w.owned for w in running)
                )

            try:
                await until(spread, timeout=60)
            except TimeoutError:
                state = _state(running, set(), loop.time())
                raise AssertionError(f"{len(ids())} logged in; {state}") from None
            chats = {
                key: sandbox.seed_chat(customer_id, active=True, agent=agent)
                for key, customer_id in ids().items()
            }
            sent: list[tuple[str, str]] = []

            async def say(label: str) -> None:
                for key, chat_id in chats.items():
                    text = f"{label} to {key}"
                    await agent.send_message(chat_id, text)
                    sent.append((key, text))

            await say("before")
            victim, survivors = running[0], running[1:]
            orphans = set(victim.owned)
            # 2. SIGKILL: no goodbye, its leases stay until they expire.
            victim.process.send_signal(signal.SIGKILL)
            killed_at = loop.time()
            await say("meanwhile")

            # 3. Within the lease time plus a reconnect, every key is owned again
            # by exactly one live worker, and logged in there.
            def owned_again() -> bool:
                owners = [k for w in survivors for k in w.owned]
                return (
                    len(owners) == CUSTOMERS
                    and set(owners) == set(keys)
                    and all(
                        any(w.connected_after.get(k, 0) > killed_at for w in survivors)
                        for k in orphans
                    )
                )

            try:
                await until(owned_again, timeout=LEASE_TIME + RECONNECT)
            except TimeoutError:
                raise AssertionError(_state(running, orphans, killed_at)) from None
            leases = await client.mget(
                [f"{prefix}:lease:{partition_of(k, DEFAULT_PARTITIONS)}" for k in keys]
            )
            assert set(leases) == {w.name for w in survivors}
            for worker in survivors:
                assert {
                    k
                    for k, owner in zip(keys, leases, strict=True)
                    if owner == worker.name
                } == worker.owned
            assert len([c for c in sandbox.connections if c.logged_in]) == CUSTOMERS
            await say("after")

            # 4. Counted end to end: every message reached its customer's stream.
            def received() -> set[tuple[str, str]]:
                return set().union(*(w.received for w in running))

            counted = [
                item for item in sent if takeover_messages or item[0] not in orphans
            ]
            try:
                await until(lambda: set(counted) <= received(), timeout=20)
            except TimeoutError:
                missing = set(counted) - received()
                labels = sorted({text.split()[0] for _, text in missing})
                raise AssertionError(
                    f"{len(missing)} of {len(counted)} messages never arrived "
                    f"({labels}); the killed worker had {len(orphans)} customers, "
                    f"{len({k for k, _ in missing} & orphans)} of them miss some; "
                    f"{_changed(running, orphans)} of them logged in as someone else"
                ) from None
    finally:
        await client.aclose()


def _changed(running: list[WorkerProcess], orphans: set[str]) -> int:
    """How many of the orphans came back as another customer."""
    victim, survivors = running[0], running[1:]
    return sum(
        1
        for key in orphans
        if any(
            w.customer_ids.get(key, victim.customer_ids[key])
            != victim.customer_ids[key]
            for w in survivors
        )
    )


def _state(running: list[WorkerProcess], orphans: set[str], killed_at: float) -> str:
    """What the workers said, for a failure's message."""
    lines = []
    for w in running:
        reconnected = [k for k in orphans if w.connected_after.get(k, 0) > killed_at]
        lines.append(
            f"{w.name}: owns {len(w.owned)}, of the orphans {len(w.owned & orphans)}"
            f" claimed and {len(reconnected)} logged in again"
        )
    return f"{len(orphans)} orphans; " + "; ".join(lines)


async def test_a_killed_workers_customers_are_owned_again_by_one_live_worker(
    sandbox: Sandbox, redis_url: str
) -> None:
    """Ownership, and no message lost by the customers the workers kept."""
    await _scenario(sandbox, redis_url, takeover_messages=False)


async def test_taken_over_customers_lose_no_message(
    sandbox: Sandbox, redis_url: str
) -> None:
    """The same, counting the messages sent to the killed worker's customers."""
    await _scenario(sandbox, redis_url, takeover_messages=True)
