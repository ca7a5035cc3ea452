"""Rebalancing on a real redis-server: a join moves about P/M partitions, all to
the newcomer; a worker that flaps in and out moves none. Counted from the lease
holders Redis keeps (workers in this process: no customers, only leases)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio

from rxlivechat.cli.worker import Worker, namespace
from rxlivechat.partitions import DEFAULT_PARTITIONS

from ..helpers import until

LEASE_TIME = 1.5
ORG = "org-rebalance"
P = DEFAULT_PARTITIONS

pytestmark = pytest.mark.timeout(120)


@contextlib.asynccontextmanager
async def running(url: str, name: str) -> AsyncIterator[Worker]:
    """A worker in this process until the block ends (it hands over and leaves)."""
    worker = Worker(
        redis_url=url,
        organization_id=ORG,
        lease_time=LEASE_TIME,
        worker_id=name,
        out=io.StringIO(),
    )
    stop = asyncio.Event()
    task = asyncio.get_running_loop().create_task(worker.run(stop))
    try:
        yield worker
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def cli_status(url: str) -> Any:
    """What ``python -m rxlivechat worker --status`` prints, parsed."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "rxlivechat",
        "worker",
        "--redis",
        url,
        "--organization-id",
        ORG,
        "--status",
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0
    return json.loads(out)


async def holders(client: redis.asyncio.Redis) -> list[str | None]:
    found = await client.mget([f"{namespace(ORG)}:lease:{p}" for p in range(P)])
    return [None if holder is None else str(holder) for holder in found]


async def settled(client: redis.asyncio.Redis, workers: int) -> list[str | None]:
    """The holders once every partition is held, by ``workers`` workers, for 2 s."""
    last: list[str | None] = []
    stable_since = asyncio.get_running_loop().time()
    async with asyncio.timeout(60):
        while True:
            now = await holders(client)
            if now != last:
                last, stable_since = now, asyncio.get_running_loop().time()
            elif (
                None not in now
                and len(set(now)) == workers
                and asyncio.get_running_loop().time() - stable_since > 2
            ):
                return now
            await asyncio.sleep(0.1)


async def test_a_join_moves_at_most_one_and_a_half_shares_to_the_newcomer(
    redis_url: str,
) -> None:
    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    try:
        async with running(redis_url, "w0"), running(redis_url, "w1"):
            before = await settled(client, 2)
            async with running(redis_url, "w2") as newcomer:
                after = await settled(client, 3)
                moved = [p for p in range(P) if before[p] != after[p]]
                assert {after[p] for p in moved} == {"w2"}
                assert len(moved) <= 1.5 * P / 3, len(moved)
                assert set(newcomer.held) == set(moved)
                status = await cli_status(redis_url)
                shown = {
                    w: entry["partitions"] for w, entry in status["workers"].items()
                }
                assert shown == {w: after.count(w) for w in ("w0", "w1", "w2")}
                assert status["unowned"] == {"partitions": 0, "customers": 0}
                # Claimed again: the epoch counts every claim of the partition.
                assert status["workers"]["w2"]["epochs"][str(moved[0])] > 1
                print(f"a join moved {len(moved)} of {P} partitions (P/M = {P // 3})")
    finally:
        await client.aclose()


async def test_a_worker_that_flaps_in_and_out_moves_nothing(redis_url: str) -> None:
    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    try:
        async with running(redis_url, "w0"), running(redis_url, "w1"):
            before = await settled(client, 2)
            epochs = await client.mget(
                [f"{namespace(ORG)}:epoch:{p}" for p in range(P)]
            )
            for _ in range(3):  # joins, leaves before the membership settles
                async with running(redis_url, "flapper") as flapper:
                    await until(lambda: flapper._rounds >= 2, timeout=10)
                await asyncio.sleep(LEASE_TIME / 3)
            await asyncio.sleep(LEASE_TIME * 2)
            assert await holders(client) == before
            # Not one claim since: no partition changed hands, even for a while.
            assert (
                await client.mget([f"{namespace(ORG)}:epoch:{p}" for p in range(P)])
                == epochs
            )
    finally:
        await client.aclose()
