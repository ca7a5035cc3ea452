"""What it costs one Redis to keep N customers leased: partitions vs per-key leases.

``python -m benchmarks.coordination [--workers W] [--lease L] [--sizes 10000,...]``

A ``redis-server`` is started here on 127.0.0.1 (no persistence). For each N,
``W`` simulated workers share N customers and run their steady-state rounds (a
round every third of the lease), as fast as they can, for a few rounds:

* **partitions** (:mod:`rxlivechat.leases`, what the worker does): N customer keys
  in P = 1,024 partition sets; a worker's round is its heartbeat, one renewal
  script over the partitions it holds and one read of their versions;
* **per-key** (the leases this replaced): one lease key per customer; a worker's
  round is its heartbeat and one renewal script over its N / W customer keys.

Measured from Redis itself (``INFO``): commands and CPU seconds per round of all
the workers. Reported at the lease time ``L``: rounds per second are ``3 W / L``,
so Redis commands/s, keys written/s (a renewed lease is a key written) and the
share of one Redis core that keeping the leases takes.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import redis.asyncio

from rxlivechat.leases import PartitionLeases
from rxlivechat.partitions import DEFAULT_PARTITIONS, owners
from tests.redis_server import RedisServer

# The per-key renewal that partitions replaced (compare-and-extend per key).
_EXTEND = """
local extended = 0
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
    extended = extended + 1
  end
end
return extended
"""

# Writes the per-key leases on the server (a Python pipeline of 1M SETs is slow).
_FILL = """
local workers = tonumber(ARGV[3])
for i = tonumber(ARGV[1]), tonumber(ARGV[2]) do
  redis.call('SET', 'lease:customer-' .. i, 'w' .. (i % workers), 'PX', ARGV[4])
end
return 0
"""

TTL_MS = 60_000  # long enough that nothing expires while measuring


async def server_counts(client: redis.asyncio.Redis) -> tuple[int, float]:
    """Commands processed and CPU seconds used by the server so far."""
    stats = await client.info("stats")
    cpu = await client.info("cpu")
    used = float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])
    return int(stats["total_commands_processed"]), used


async def fill(client: redis.asyncio.Redis, keys: list[tuple[str, ...]]) -> None:
    """Write ``(command, *args)`` tuples in pipelined chunks."""
    for start in range(0, len(keys), 10_000):
        async with client.pipeline(transaction=False) as pipe:
            for command, *args in keys[start : start + 10_000]:
                _ = pipe.execute_command(command, *args)
            await pipe.execute()


async def partitions_round_cost(
    client: redis.asyncio.Redis, customers: int, workers: int, rounds: int
) -> dict[str, float]:
    """Commands and CPU seconds per round of all workers, partition leases."""
    await client.flushall()
    names = [f"w{i}" for i in range(workers)]
    leases = [
        PartitionLeases(
            client, namespace="bench", worker_id=n, lease_time=TTL_MS / 1000
        )
        for n in names
    ]
    await leases[0].add_customers(f"customer-{i}" for i in range(customers))
    owner = owners(names, DEFAULT_PARTITIONS)
    held = [[p for p, o in enumerate(owner) if o == n] for n in names]
    for lease, mine in zip(leases, held, strict=True):
        await lease.claim(mine)
    before = await server_counts(client)
    for _ in range(rounds):
        for lease, mine in zip(leases, held, strict=True):
            await lease.heartbeat()
            kept = await lease.renew(mine)
            await lease.versions(mine)
            assert len(kept) == len(mine)
    after = await server_counts(client)
    return {
        "commands": (after[0] - before[0] - 2) / rounds,  # minus the two INFOs
        "cpu": (after[1] - before[1]) / rounds,
        "keys": DEFAULT_PARTITIONS + workers,  # leases renewed + heartbeats
    }


async def per_key_round_cost(
    client: redis.asyncio.Redis, customers: int, workers: int, rounds: int
) -> dict[str, float]:
    """The same, one lease key per customer."""
    await client.flushall()
    extend = client.register_script(_EXTEND)
    mine = [
        [f"lease:customer-{i}" for i in range(w, customers, workers)]
        for w in range(workers)
    ]
    fill_leases = client.register_script(_FILL)
    for start in range(0, customers, 100_000):
        end = min(customers, start + 100_000) - 1
        await fill_leases(args=[start, end, workers, TTL_MS])
    before = await server_counts(client)
    for _ in range(rounds):
        for w, keys in enumerate(mine):
            await client.zadd("workers", {f"w{w}": time.time()})
            assert await extend(keys=keys, args=[f"w{w}", TTL_MS]) == len(keys)
    after = await server_counts(client)
    return {
        "commands": (after[0] - before[0] - 2) / rounds,
        "cpu": (after[1] - before[1]) / rounds,
        "keys": customers + workers,
    }


async def capacity(client: redis.asyncio.Redis) -> dict[str, float]:
    """What one Redis does here: pipelined SETs per CPU second, and per second."""
    await client.flushall()
    count = 200_000
    before = await server_counts(client)
    started = time.perf_counter()
    await fill(client, [("SET", f"k{i}", "v") for i in range(count)])
    wall = time.perf_counter() - started
    after = await server_counts(client)
    return {
        "per_cpu_second": count / (after[1] - before[1]),
        "per_second": count / wall,
    }


async def main_async(
    sizes: list[int], workers: int, lease: float
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="rxlivechat-bench-") as directory:
        server = RedisServer(Path(directory))
        server.start()
        client = redis.asyncio.Redis.from_url(server.url, decode_responses=True)
        try:
            limit = await capacity(client)
            print(
                f"one redis-server here: {limit['per_second']:,.0f} pipelined SET/s "
                f"from one client, {limit['per_cpu_second']:,.0f} SET per Redis CPU s"
            )
            per_second = 3 / lease  # rounds of all the workers per second
            for n in sizes:
                for scheme, cost in (
                    ("partitions", partitions_round_cost),
                    ("per-key", per_key_round_cost),
                ):
                    rounds = 20 if scheme == "partitions" else max(2, 200_000 // n)
                    measured = await cost(client, n, workers, rounds)
                    rows.append(
                        {
                            "scheme": scheme,
                            "customers": n,
                            "commands_per_s": measured["commands"] * per_second,
                            "keys_per_s": measured["keys"] * per_second,
                            "redis_core": measured["cpu"] * per_second,
                        }
                    )
        finally:
            await client.flushall()
            await client.aclose()
            server.stop()
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=200)
    parser.add_argument("--lease", type=float, default=10.0)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = asyncio.run(main_async(sizes, args.workers, args.lease))
    print(
        f"\n{args.workers} workers, lease {args.lease:g}s "
        f"({DEFAULT_PARTITIONS} partitions):\n"
    )
    print("| leases | customers | Redis commands/s | keys written/s | Redis core |")
    print("|---|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['scheme']} | {row['customers']:,} | {row['commands_per_s']:,.0f} "
            f"| {row['keys_per_s']:,.0f} | {row['redis_core']:.1%} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
