"""Soak: many customers on one sandbox for minutes, under random connection drops.

    .venv/bin/python benchmarks/soak.py --customers 200 --minutes 3

Every customer has a chat with a scripted agent that keeps writing; a chaos task
aborts random customers' sockets. At the end it reports messages sent, received,
lost and duplicated, reconnects, and the process's memory before and after (the
second half of the run must not grow: no leak per reconnect or per message).
Sandbox and customers share one process: this measures robustness and memory,
not speed. The sandbox keeps every message, so RSS grows with the run; the
client-side heap (tracemalloc, sandbox and aiohttp.web frames excluded) is the
figure that must stay flat between the middle and the end.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import time
import tracemalloc
from collections import Counter
from typing import Any

import rxlivechat
from rxlivechat import Disconnected, Message, NewEvent
from rxlivechat.sandbox import Sandbox

# Leave out what the sandbox holds (and this script's own counters), wherever in
# the call stack it was allocated.
_SERVER_SIDE = (
    tracemalloc.Filter(False, "*/rxlivechat/sandbox/*", all_frames=True),
    tracemalloc.Filter(False, "*/aiohttp/web*", all_frames=True),
    tracemalloc.Filter(False, "*/benchmarks/soak.py"),
)


def client_kib() -> int:
    """Memory allocated from client-side code (the sandbox's own excluded)."""
    snapshot = tracemalloc.take_snapshot().filter_traces(_SERVER_SIDE)
    return sum(stat.size for stat in snapshot.statistics("filename")) // 1024


def _stopped(reason: Disconnected, stopped: list[Any]) -> None:
    """Count a stop for good; destroy() at the end says "manual" and does not."""
    if reason.reason != "manual":
        stopped.append(reason)


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def soak(
    customers: int, seconds: float, drops_per_second: float
) -> dict[str, Any]:
    rng = random.Random(1)
    async with Sandbox() as sandbox:
        sdks: list[rxlivechat.CustomerSDK] = []
        received: list[Counter[str]] = []
        lost_events: list[int] = []
        stopped: list[Any] = []
        for _ in range(customers):
            sdk = rxlivechat.init(
                organization_id=sandbox.organization_id,
                client_id="soak",
                api_url=sandbox.api_url,
                accounts_url=sandbox.accounts_url,
                reconnect_delay=(0.05, 1.0),
                request_timeout=30,
            )
            counts: Counter[str] = Counter()

            def count(event: Any, counts: Counter[str] = counts) -> None:
                if isinstance(event, NewEvent) and isinstance(event.event, Message):
                    counts[event.event.text] += 1

            sdk.on("new_event", count)
            sdk.on("connection_lost", lambda _: lost_events.append(1))
            sdk.on("disconnected", lambda d: _stopped(d, stopped))
            sdks.append(sdk)
            received.append(counts)
        await asyncio.gather(*(s.wait_connected(timeout=60) for s in sdks))
        chats = [await s.start_chat() for s in sdks]
        agent = sandbox.agent("Soak agent")
        for chat in chats:
            await agent.join(chat.id)

        sent = [0] * customers
        stop = asyncio.Event()
        memory: dict[str, int] = {}

        async def talk() -> None:
            while not stop.is_set():
                i = rng.randrange(customers)
                sent[i] += 1
                await agent.send_message(chats[i].id, f"{i}:{sent[i]}")
                await asyncio.sleep(0.001)

        async def chaos() -> None:
            while not stop.is_set():
                await asyncio.sleep(rng.expovariate(drops_per_second))
                victim = sdks[rng.randrange(customers)].customer_id
                if victim is not None:
                    for conn in sandbox.connections_of(victim):
                        conn.abort()

        async def sample() -> None:
            await asyncio.sleep(seconds / 2)
            gc.collect()
            memory["middle"] = rss_kib()
            memory["client middle"] = client_kib()

        gc.collect()
        memory["start"] = rss_kib()
        started = time.monotonic()
        workers = [asyncio.ensure_future(c()) for c in (talk, chaos, sample)]
        await asyncio.sleep(seconds)
        stop.set()
        await asyncio.gather(*workers)
        # Let every customer reconnect and catch up.
        await asyncio.gather(*(s.wait_connected(timeout=60) for s in sdks))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(
            len(received[i]) < sent[i] for i in range(customers)
        ):
            await asyncio.sleep(0.1)
        gc.collect()
        memory["end"] = rss_kib()
        memory["client end"] = client_kib()
        elapsed = time.monotonic() - started
        missing = sum(max(0, sent[i] - len(received[i])) for i in range(customers))
        duplicated = sum(n - 1 for counts in received for n in counts.values() if n > 1)
        for sdk in sdks:
            await sdk.destroy()
    return {
        "customers": customers,
        "seconds": round(elapsed, 1),
        "messages sent": sum(sent),
        "messages received": sum(len(c) for c in received),
        "lost": missing,
        "duplicated": duplicated,
        "connection drops seen": len(lost_events),
        "customers stopped for good": len(stopped),
        "RSS start (MiB)": round(memory["start"] / 1024, 1),
        "RSS middle (MiB)": round(memory.get("middle", 0) / 1024, 1),
        "RSS end (MiB)": round(memory["end"] / 1024, 1),
        "client-side heap, middle (KiB)": memory.get("client middle", 0),
        "client-side heap, end (KiB)": memory["client end"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--drops-per-second", type=float, default=5.0)
    args = parser.parse_args()
    tracemalloc.start(25)
    result = asyncio.run(soak(args.customers, args.minutes * 60, args.drops_per_second))
    print("| measure | value |\n|---|---|")
    for key, value in result.items():
        print(f"| {key} | {value} |")


if __name__ == "__main__":
    main()
