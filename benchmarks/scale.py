"""Issue 16's figures: many customers in one process (CustomerPool) on the sandbox.

Not part of the test suite nor of ``python -m benchmarks``. Run::

    python -m benchmarks.scale                     # 10,000 idle, 1,000 chatting
    python -m benchmarks.scale --idle 2000 --chatting 200 --idle-seconds 20

The sandbox runs in its own process (``serve`` below: a Sandbox with room for
that many sockets), each measurement in a fresh client process:

* ``idle``: N customers log in through one pool (50 logins at a time); the time to
  log all in; then CPU seconds of the client over ``--idle-seconds`` of idling
  (pings every 15 s), scaled to a minute; RSS.
* ``idle --tracemalloc``: the same logins with tracemalloc on: the client's heap
  per customer (traced memory after minus before, over N).
* ``chat``: N customers each start a chat, then all send ``--messages`` messages
  each, one after another per customer, all customers at once: messages per
  second and the p50/p99 of the send_event round trip.

Prints one JSON line per measurement, then a markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from typing import Any

from benchmarks.servers import ROOT, _process

LOGINS_AT_ONCE = 50


def raise_fd_limit() -> int:
    """Raise the soft limit of open files to the hard one; returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


async def serve() -> None:
    """The sandbox, sized for many sockets; prints ``READY api accounts org``."""
    from rxlivechat.sandbox import Sandbox

    raise_fd_limit()
    async with Sandbox(
        max_idle_connections=50_000,
        ping_timeout=120,
        login_timeout=600,
        chats_per_customer=1,
        request_log_entries=1000,
    ) as sandbox:
        print("READY", sandbox.api_url, sandbox.accounts_url, sandbox.organization_id)
        sys.stdout.flush()
        await asyncio.Event().wait()


def _pool(api: str, accounts: str, org: str) -> Any:
    from rxlivechat import CustomerPool

    return CustomerPool(
        max_concurrent_logins=LOGINS_AT_ONCE,
        organization_id=org,
        client_id="bench",
        api_url=api,
        accounts_url=accounts,
        request_timeout=120,
        connect_timeout=60,
    )


async def idle(
    api: str, accounts: str, org: str, n: int, seconds: float, traced: bool
) -> dict[str, Any]:
    """Log ``n`` customers in, then idle; see the module's docstring."""
    from benchmarks.measure import rss_bytes

    if traced:
        tracemalloc.start()
    pool = _pool(api, accounts, org)
    before = tracemalloc.get_traced_memory()[0] if traced else 0
    rss_before = rss_bytes()
    started = time.perf_counter()
    for i in range(n):
        _ = await pool.add(f"c{i}")
    await pool.wait_connected(timeout=3600)
    login_seconds = time.perf_counter() - started
    result: dict[str, Any] = {
        "scenario": "idle-traced" if traced else "idle",
        "customers": n,
        "login_seconds": round(login_seconds, 2),
        "logins_per_second": round(n / login_seconds, 1),
    }
    if traced:
        import gc

        gc.collect()
        heap = tracemalloc.get_traced_memory()[0] - before
        result["heap_bytes_per_customer"] = round(heap / n)
        tracemalloc.stop()
    else:
        cpu = time.process_time()
        await asyncio.sleep(seconds)
        cpu = time.process_time() - cpu
        result["idle_seconds"] = seconds
        result["cpu_seconds_per_idle_minute"] = round(cpu * 60 / seconds, 2)
        result["still_connected"] = pool.connected
        result["rss_bytes_per_customer"] = round((rss_bytes() - rss_before) / n)
    await pool.close()
    return result


async def chat(
    api: str, accounts: str, org: str, n: int, messages: int
) -> dict[str, Any]:
    """``n`` chatting customers; see the module's docstring."""
    from rxlivechat import Message

    pool = _pool(api, accounts, org)
    sdks = [await pool.add(f"c{i}") for i in range(n)]
    await pool.wait_connected(timeout=3600)
    chats = await asyncio.gather(
        *(sdk.start_chat([Message(text="hi")]) for sdk in sdks)
    )
    latencies: list[float] = []

    async def talk(sdk: Any, chat_id: str) -> None:
        for i in range(messages):
            sent = time.perf_counter()
            await sdk.send_event(chat_id, Message(text=f"m{i}"))
            latencies.append(time.perf_counter() - sent)

    started = time.perf_counter()
    await asyncio.gather(*(talk(s, c.id) for s, c in zip(sdks, chats, strict=True)))
    wall = time.perf_counter() - started
    await pool.close()
    latencies.sort()
    return {
        "scenario": "chat",
        "customers": n,
        "messages": len(latencies),
        "messages_per_second": round(len(latencies) / wall, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
    }


def _client(args: list[str], server: list[str]) -> dict[str, Any]:
    """One measurement in a fresh process; its JSON line."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.scale", *args, "--server", *server],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    line: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    print(json.dumps(line), flush=True)
    return line


def run_all(options: argparse.Namespace) -> None:
    """Start the sandbox, run every measurement, print the table."""
    command = [sys.executable, "-m", "benchmarks.scale", "serve"]
    with _process(command, lambda lines: lines[-1].startswith("READY")) as (_, lines):
        server = lines[-1].split()[1:]
        n = str(options.idle)
        idle_run = _client(
            ["idle", n, "--idle-seconds", str(options.idle_seconds)], server
        )
        traced = _client(["idle", n, "--tracemalloc"], server)
        chatting = _client(
            ["chat", str(options.chatting), "--messages", str(options.messages)], server
        )
    print()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} "
        f"cores, Python {platform.python_version()}"
    )
    print("| measure | value |\n|---|---|")
    rows = [
        ("idle customers, one process", idle_run["customers"]),
        ("time to log all in (s)", idle_run["login_seconds"]),
        ("logins per second", idle_run["logins_per_second"]),
        (
            "client heap per customer (tracemalloc, KiB)",
            round(traced["heap_bytes_per_customer"] / 1024, 1),
        ),
        ("RSS per customer (KiB)", round(idle_run["rss_bytes_per_customer"] / 1024, 1)),
        ("client CPU per idle minute (s)", idle_run["cpu_seconds_per_idle_minute"]),
        ("still connected after idling", idle_run["still_connected"]),
        ("chatting customers", chatting["customers"]),
        ("messages sent", chatting["messages"]),
        ("messages per second", chatting["messages_per_second"]),
        ("send_event p50 (ms)", chatting["p50_ms"]),
        ("send_event p99 (ms)", chatting["p99_ms"]),
    ]
    for name, value in rows:
        print(f"| {name} | {value} |")


def main() -> None:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale")
    parser.add_argument(
        "mode", nargs="?", default="all", choices=["all", "serve", "idle", "chat"]
    )
    parser.add_argument("n", nargs="?", type=int, default=0)
    parser.add_argument("--idle", type=int, default=10_000)
    parser.add_argument("--chatting", type=int, default=1_000)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--server", nargs=3, metavar=("API", "ACCOUNTS", "ORG"))
    options = parser.parse_args()
    raise_fd_limit()
    if options.mode == "serve":
        asyncio.run(serve())
    elif options.mode == "idle":
        api, accounts, org = options.server
        result = asyncio.run(
            idle(
                api, accounts, org, options.n, options.idle_seconds, options.tracemalloc
            )
        )
        print(json.dumps(result))
    elif options.mode == "chat":
        api, accounts, org = options.server
        print(
            json.dumps(
                asyncio.run(chat(api, accounts, org, options.n, options.messages))
            )
        )
    else:
        run_all(options)


if __name__ == "__main__":
    main()
