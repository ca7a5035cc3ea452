"""The cost of durability on the push path: pushes/s through the SDK, per store.

``python -m benchmarks.durability [--pushes N] [--rounds R]``

The fast stub (:mod:`benchmarks.stub_server`) pushes ``N`` ``incoming_event``
frames to an SDK made with ``store=`` a :class:`MemoryStore`, an
:class:`SQLiteStore` (a new file each round) and a :class:`RedisStore` (a
``redis-server`` started here on 127.0.0.1, emptied each round), in a rotating
order, side by side in one run. A subscriber counts the events (``sdk.on``), and
each event is auto-committed once it returned. Reported, median over the rounds:

* **pushes/s**: ``N`` / wall time from asking for the burst until the ``N``-th
  event is delivered *and* every commit is written (``await sdk.flush()``);
* **CPU µs/push**: this process's CPU (every thread, SQLite's writer included).

The target (issue 15): SQLite at least 0.8x of memory.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import rxlivechat
from rxlivechat import NewEvent
from rxlivechat.stores import MemoryStore, RedisStore, SQLiteStore, Store
from tests.redis_server import RedisServer

from .contenders.common import Counter
from .measure import BURST_TIMEOUT, Span, new_org, trigger_burst
from .servers import Server, stub

DASH = "\u2013"  # an en dash, for ranges
WARM_UP = 1000


async def _stub_token() -> rxlivechat.Token:
    return rxlivechat.Token(access_token="bench")


async def measure(server: Server, store: Store, pushes: int) -> dict[str, Any]:
    """One run: a burst of ``pushes`` to an SDK on ``store``, then a flush."""
    org = new_org()
    sdk = rxlivechat.init(
        organization_id=org,
        client_id="bench",
        api_url=server.api_url,
        accounts_url=server.accounts_url,
        token_provider=_stub_token,
        store=store,
    )
    async with sdk:
        await sdk.wait_connected(timeout=30)
        counter = Counter(lambda p: isinstance(p, NewEvent) and p.event.id is not None)
        sdk.on("new_event", counter)
        spans: list[Span] = []
        for n in (WARM_UP, pushes):
            done = counter.expect(n)
            with Span() as span:
                trigger_burst(server.api_url, org, n)
                await asyncio.wait_for(done, BURST_TIMEOUT)
                await sdk.flush()
            spans.append(span)
    return spans[-1].result(pushes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.durability")
    parser.add_argument("--pushes", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)

    with (
        tempfile.TemporaryDirectory(prefix="rxlivechat-bench-") as tmp,
        stub() as server,
    ):
        directory = Path(tmp)
        redis = _start_redis(directory)
        makers: dict[str, Callable[[int], Store]] = {
            "MemoryStore": lambda _: MemoryStore(),
            "SQLiteStore": lambda n: SQLiteStore(directory / f"round{n}.db"),
        }
        if redis is not None:

            def fresh_redis(_: int) -> Store:
                assert redis is not None
                redis.command(b"FLUSHALL")
                return RedisStore(redis.url)

            makers["RedisStore"] = fresh_redis
        results: dict[str, list[dict[str, Any]]] = {name: [] for name in makers}
        try:
            names = list(makers)
            for n in range(args.rounds):
                for name in names[n % len(names) :] + names[: n % len(names)]:
                    store = makers[name](n)
                    result = asyncio.run(measure(server, store, args.pushes))
                    results[name].append(result)
                    print(
                        f"round {n + 1} {name}: {result['rate']:,.0f} pushes/s",
                        file=sys.stderr,
                    )
        finally:
            if redis is not None:
                redis.stop()

    base = statistics.median(r["rate"] for r in results["MemoryStore"])
    print(
        f"{args.pushes:,} pushes through the SDK, auto-commit, flushed; "
        f"median of {args.rounds} rounds\n"
    )
    print(f"| store | pushes/s | min{DASH}max | vs memory | CPU µs/push |")
    print("|---|---:|---:|---:|---:|")
    for name, rounds in results.items():
        rates = [r["rate"] for r in rounds]
        rate = statistics.median(rates)
        cpu_us = statistics.median(r["cpu_us"] for r in rounds)
        print(
            f"| {name} | {rate:,.0f} | {min(rates):,.0f}{DASH}{max(rates):,.0f} "
            f"| {rate / base:.2f}x | {cpu_us:.2f} |"
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
