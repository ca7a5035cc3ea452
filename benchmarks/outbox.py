"""The outbox (issue 31): its throughput, and a bridge over a lossy link.

``python -m benchmarks.outbox [--messages N] [--rounds R]``
``python -m benchmarks.outbox --bridge [--lines N] [--kills K]``

Throughput: one customer (store: a new :class:`SQLiteStore` each round) on the
sandbox in its own process sends ``N`` messages to one chat, two ways, in a
rotating order: **plain**, ``await sdk.send_event(...)`` one after the other;
**outbox**, ``await sdk.outbox.put(...)`` one after the other (each returns once
committed), then ``await sdk.outbox.drain()``; and the same with puts 100 at a
time (a bridge that reads its source in batches: one commit per batch). The
three take turns in chunks of 100 messages (the machine's load falls on each
alike).
Reported: messages/s (wall time from the first call until the last is sent),
median over the rounds, the ratio, and this process's CPU per message; the
target is outbox ≥ 0.8x plain.

Bridge: the sandbox in this process with 10 to 30 ms of latency each way, 5 % of
``send_event`` replies lost after applying, and a socket drop every 0.4 to 1 s; the
bridge of the tests (``tests/outbox/bridge.py``, a child process) forwards
``--lines`` lines through ``sdk.outbox`` on SQLite (and on Redis where
``redis-server`` is installed), SIGKILLed ``--kills`` times at random moments.
Reported: lines lost, duplicated and out of order (read back from the chat), and
the faults it went through.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import rxlivechat
from rxlivechat import Message
from rxlivechat.sandbox import Sandbox
from rxlivechat.stores import SQLiteStore
from tests.redis_server import RedisServer

from .servers import ROOT, Server, sandbox

DASH = "\u2013"


WAYS = ("plain", "outbox", "outbox, puts 100 at a time")
CHUNKS = 20


async def throughput(
    server: Server, path: Path, n: int, order: list[str]
) -> dict[str, tuple[float, float]]:
    """Messages/s and client CPU µs/message of each way, one customer, one chat.

    The ways take turns in chunks of ``n // CHUNKS`` messages, so that a load
    that comes and goes on the machine falls on each way alike.
    """
    sdk = rxlivechat.init(
        organization_id=server.organization_id,
        client_id="bench",
        api_url=server.api_url,
        accounts_url=server.accounts_url,
        store=SQLiteStore(path),
    )
    spent = {way: [0.0, 0.0] for way in order}
    size = n // CHUNKS
    async with sdk:
        chat = await sdk.start_chat()
        await sdk.outbox.drain()  # opened
        for chunk in range(CHUNKS):
            for way in order:
                texts = [f"{way[0]}{chunk}-{i}" for i in range(size)]
                started, cpu = time.perf_counter(), time.process_time()
                if way == "plain":
                    for text in texts:
                        await sdk.send_event(chat.id, Message(text=text))
                elif way == "outbox":
                    for text in texts:
                        await sdk.outbox.put(chat.id, Message(text=text))
                else:
                    await asyncio.gather(
                        *(sdk.outbox.put(chat.id, Message(text=t)) for t in texts)
                    )
                await sdk.outbox.drain()
                spent[way][0] += time.perf_counter() - started
                spent[way][1] += time.process_time() - cpu
    total = size * CHUNKS
    return {
        way: (total / wall, cpu / total * 1e6) for way, (wall, cpu) in spent.items()
    }


def run_throughput(messages: int, rounds: int) -> None:
    results: dict[str, list[tuple[float, float]]] = {way: [] for way in WAYS}
    with (
        tempfile.TemporaryDirectory(prefix="rxlivechat-bench-") as tmp,
        sandbox() as server,
    ):
        for r in range(rounds):
            order = list(WAYS[r % 3 :] + WAYS[: r % 3])
            figures = asyncio.run(
                throughput(server, Path(tmp) / f"r{r}.db", messages, order)
            )
            for way, figure in figures.items():
                results[way].append(figure)
            shown = ", ".join(f"{w} {f[0]:,.0f}/s" for w, f in figures.items())
            print(f"round {r + 1}: {shown}", file=sys.stderr)
    plain = statistics.median(rate for rate, _ in results["plain"])
    print(
        f"{messages:,} messages to one chat, SQLite store; median of {rounds} rounds\n"
    )
    print(f"| way | messages/s | min{DASH}max | vs plain | client CPU µs/message |")
    print("|---|---:|---:|---:|---:|")
    for way, measured in results.items():
        rates = [rate for rate, _ in measured]
        rate = statistics.median(rates)
        cpu_us = statistics.median(cpu for _, cpu in measured)
        print(
            f"| {way} | {rate:,.0f} | {min(rates):,.0f}{DASH}{max(rates):,.0f} "
            f"| {rate / plain:.2f}x | {cpu_us:.0f} |"
        )


async def lossy_bridge(
    store: str, directory: Path, lines: int, kills: int
) -> dict[str, Any]:
    """One bridge run over a lossy link, killed ``kills`` times; its figures."""
    rng = random.Random(31)
    progress = directory / "progress"
    async with Sandbox(seed=31) as server:

        async def spawn() -> asyncio.subprocess.Process:
            return await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tests.outbox.bridge", store, server.api_url,
                server.accounts_url, server.organization_id, str(progress), str(lines),
                cwd=ROOT, stdout=asyncio.subprocess.PIPE,
            )  # fmt: skip

        async def read(process: asyncio.subprocess.Process) -> str:
            assert process.stdout is not None
            return (await process.stdout.readline()).decode().strip()

        drops = 0

        async def chaos() -> None:
            nonlocal drops
            while True:
                await asyncio.sleep(rng.uniform(0.4, 1.0))
                await server.drop_connections()
                drops += 1

        started = time.perf_counter()
        process = await spawn()
        chat_id = (await read(process)).split()[-1]  # started on a quiet link
        server.latency(0.01, jitter=0.02)
        server.lose_replies("send_event", probability=0.05)
        dropping = asyncio.ensure_future(chaos())
        killed = 0
        try:
            while True:
                life = rng.uniform(0.3, 2.5) if killed < kills else 600.0
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(life):
                        while await read(process) not in ("drained", ""):
                            pass
                        break
                process.send_signal(signal.SIGKILL)
                await process.wait()
                killed += 1
                process = await spawn()
        finally:
            dropping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await dropping
        code = await process.wait()
        wall = time.perf_counter() - started
        lost_replies = server.faults.replies_lost
        server.faults.clear()
        chat = server.store.chats[chat_id]
        texts = [
            e.text for t in chat.threads for e in t.events if isinstance(e, Message)
        ]
    counts = Counter(texts)
    expected = [f"line {i}" for i in range(lines)]
    return {
        "exit": code,
        "lost": sum(1 for t in expected if counts[t] == 0),
        "duplicated": sum(c - 1 for c in counts.values() if c > 1),
        "in order": texts == expected,
        "kills": killed,
        "drops": drops,
        "replies lost": lost_replies,
        "logins": server.count("login"),
        "send_event requests": server.count("send_event"),
        "lookups (list_threads)": server.count("list_threads"),
        "wall s": round(wall, 1),
    }


def run_bridge(lines: int, kills: int) -> None:
    with tempfile.TemporaryDirectory(prefix="rxlivechat-bench-") as tmp:
        directory = Path(tmp)
        stores = {"SQLite": str(directory / "bridge.db")}
        redis: RedisServer | None = None
        if shutil.which("redis-server") is not None:
            redis = RedisServer(directory)
            redis.start()
            stores["Redis"] = redis.url
        try:
            figures = {}
            for name, store in stores.items():
                run = directory / name
                run.mkdir()
                figures[name] = asyncio.run(lossy_bridge(store, run, lines, kills))
                print(f"{name}: {figures[name]}", file=sys.stderr)
        finally:
            if redis is not None:
                redis.stop()
    names = list(figures)
    print(f"{lines} lines through sdk.outbox, bridge SIGKILLed {kills} times\n")
    print("| | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    for key in figures[names[0]]:
        print(f"| {key} | " + " | ".join(str(figures[n][key]) for n in names) + " |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.outbox")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--bridge", action="store_true")
    parser.add_argument("--lines", type=int, default=200)
    parser.add_argument("--kills", type=int, default=5)
    args = parser.parse_args(argv)
    if args.bridge:
        run_bridge(args.lines, args.kills)
    else:
        run_throughput(args.messages, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
