"""A worker cut off from Redis stops its customers before its lease can pass to
another worker, and never blocks; a worker that cannot reach Redis at start
retries, saying so, and stops cleanly. Real processes, a real redis-server behind
a proxy that stalls (silence, not errors)."""

from __future__ import annotations

import asyncio
import signal
import sys

import pytest
import redis.asyncio

from rxlivechat.cli.worker import namespace
from rxlivechat.leases import PartitionLeases
from rxlivechat.sandbox import Sandbox

from ..helpers import until
from ..redis_server import RedisServer, free_port
from .proxy import StallingProxy
from .test_workers import workers

LEASE_TIME = 6.0  # the margin asserted is a quarter of it: room on a loaded box
CUSTOMERS = 4

pytestmark = [pytest.mark.timeout(120), pytest.mark.sandbox(ping_timeout=60)]


async def test_a_worker_cut_off_from_redis_stops_its_customers_within_the_lease(
    sandbox: Sandbox, redis_server: RedisServer, redis_url: str
) -> None:
    keys = [f"customer-{i}" for i in range(CUSTOMERS)]
    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    await PartitionLeases(
        client,
        namespace=namespace(sandbox.organization_id),
        worker_id="test",
        lease_time=LEASE_TIME,
    ).add_customers(keys)
    await client.aclose()
    loop = asyncio.get_running_loop()
    async with (
        StallingProxy(redis_server.port) as proxy,
        workers(
            sandbox, redis_url, 1, lease_time=LEASE_TIME, redis_urls=[proxy.url]
        ) as (w0,),
    ):
        await until(
            lambda: w0.owned == set(keys) and set(w0.customer_ids) == set(keys),
            timeout=60,
        )
        assert len([c for c in sandbox.connections if c.logged_in]) == CUSTOMERS
        proxy.stall()
        stalled_at = loop.time()
        # Its leases last LEASE_TIME from its last renewal, so another worker
        # may claim them LEASE_TIME after the stall at the earliest: it must
        # have stopped every customer before.
        await until(lambda: not w0.owned, timeout=LEASE_TIME * 2)
        stopped_after = loop.time() - stalled_at
        assert stopped_after < LEASE_TIME, stopped_after
        await until(
            lambda: not [c for c in sandbox.connections if c.logged_in],
            timeout=LEASE_TIME,
        )
        # It does not block: SIGTERM ends it while Redis is still silent.
        w0.process.terminate()
        terminated_at = loop.time()
        assert await asyncio.wait_for(w0.process.wait(), LEASE_TIME * 5) == 0
        print(
            f"customers stopped {stopped_after:.2f}s after the stall "
            f"(lease {LEASE_TIME}s); exited {loop.time() - terminated_at:.2f}s "
            "after SIGTERM"
        )


async def test_redis_unreachable_at_start_is_retried_and_said(
    sandbox: Sandbox,
) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "rxlivechat",
        "worker",
        "--redis",
        url,
        "--organization-id",
        sandbox.organization_id,
        "--lease-time",
        str(LEASE_TIME),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(60):
            while not any("(attempt 2)" in line for line in lines):
                lines.append((await process.stderr.readline()).decode())
    finally:
        process.send_signal(signal.SIGTERM)
        rest = await asyncio.wait_for(process.stderr.read(), 30)
        code = await asyncio.wait_for(process.wait(), 30)
    text = "".join(lines) + rest.decode()
    assert f"Redis at {url} unreachable (attempt 1)" in text
    assert "retrying in" in text
    assert "Traceback" not in text
    assert code == 0


async def test_another_partition_count_is_refused_in_one_line(
    sandbox: Sandbox, redis_url: str
) -> None:
    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    await client.set(f"{namespace(sandbox.organization_id)}:partitions", 64)
    await client.aclose()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "rxlivechat",
        "worker",
        "--redis",
        redis_url,
        "--organization-id",
        sandbox.organization_id,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    assert "has 64 partitions, not 1024" in err.decode()
    assert "Traceback" not in err.decode()
