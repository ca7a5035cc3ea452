"""Commits per second through MemoryStore, SQLiteStore and RedisStore, side by side.

``python -m benchmarks.stores [--commits N] [--chats K] [--rounds R]``

Each round, for each store in a rotating order: a fresh store (a new SQLite file,
an emptied ``redis-server`` started here on 127.0.0.1), one customer, ``N``
commits spread over ``K`` chats the way an event loop delivers pushes (it yields
every 100 commits, so the background writer runs meanwhile), then ``flush()``.
Reported, median over the rounds:

* **commits/s**: ``N`` / wall time from the first commit to the end of the flush;
* **loop CPU µs/commit**: CPU time of the event loop's thread per commit, what the
  push path pays (SQLite's writing thread is not counted: it is off the loop).

The full push-path comparison (pushes through the SDK into a store) comes with
the engine's use of the store (issue 15).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rxlivechat.stores import BatchingStore, MemoryStore, RedisStore, SQLiteStore
from tests.redis_server import RedisServer

START = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)
STEP = datetime.timedelta(milliseconds=1)
DASH = "\u2013"  # an en dash, for ranges


async def measure(store: BatchingStore, commits: int, chats: int) -> dict[str, float]:
    """One run: ``commits`` commits, then a flush."""
    async with store.customer("org", "bench") as customer:
        moments = [START + STEP * i for i in range(commits)]
        wall, cpu = time.perf_counter(), time.thread_time()
        for i, moment in enumerate(moments):
            customer.commit(f"chat-{i % chats}", f"event-{i}", moment, "thread")
            if i % 100 == 99:
                await asyncio.sleep(0)
        await customer.flush()
        wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
        batches = store.batches_written
        snapshot = await customer.load()
    assert sum(len(c.recent_ids) for c in snapshot.checkpoints.values()) > 0
    return {
        "rate": commits / wall,
        "loop_us": cpu / commits * 1e6,
        "batches": batches,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stores")
    parser.add_argument("--commits", type=int, default=100_000)
    parser.add_argument("--chats", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="rxlivechat-bench-") as tmp:
        directory = Path(tmp)
        redis = _start_redis(directory)
        makers: dict[str, Callable[[int], BatchingStore]] = {
            "MemoryStore": lambda _: MemoryStore(),
            "SQLiteStore": lambda n: SQLiteStore(directory / f"round{n}.db"),
        }
        if redis is not None:

            def fresh_redis(_: int) -> BatchingStore:
                assert redis is not None
                redis.command(b"FLUSHALL")
                return RedisStore(redis.url)

            makers["RedisStore"] = fresh_redis
        results: dict[str, list[dict[str, float]]] = {name: [] for name in makers}
        try:
            names = list(makers)
            for n in range(args.rounds):
                for name in names[n % len(names) :] + names[: n % len(names)]:
                    store = makers[name](n)
                    result = asyncio.run(measure(store, args.commits, args.chats))
                    results[name].append(result)
                    print(
                        f"round {n + 1} {name}: {result['rate']:,.0f} commits/s",
                        file=sys.stderr,
                    )
        finally:
            if redis is not None:
                redis.stop()

    base = statistics.median(r["rate"] for r in results["MemoryStore"])
    print(
        f"{args.commits:,} commits over {args.chats} chats, "
        f"median of {args.rounds} rounds\n"
    )
    print(
        f"| store | commits/s | min{DASH}max | vs memory "
        "| loop CPU µs/commit | batches |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name, rounds in results.items():
        rates = [r["rate"] for r in rounds]
        rate = statistics.median(rates)
        loop_us = statistics.median(r["loop_us"] for r in rounds)
        batches = statistics.median(r["batches"] for r in rounds)
        print(
            f"| {name} | {rate:,.0f} | {min(rates):,.0f}{DASH}{max(rates):,.0f} "
            f"| {rate / base:.2f}x | {loop_us:.2f} | {batches:.0f} |"
        )
    if redis is None:
        print("\nRedisStore: skipped (redis-server is not installed)")
    return 0


def _start_redis(directory: Path) -> RedisServer | None:
    if shutil.which("redis-server") is None:
        return None
    server = RedisServer(directory)
    server.start()
    return server


if __name__ == "__main__":
    sys.exit(main())
