"""The cost curve of many customers in one process (issues 16 and 27), on the sandbox.

Not part of the test suite nor of ``python -m benchmarks``. Run::

    python -m benchmarks.scale           # 1k, 10k, 19.5k idle; 1,000 chatting
    python -m benchmarks.scale --sizes 1000,5000 --idle-seconds 20 --chatting 200
    python -m benchmarks.scale --json scale.json --chart docs/scale.png
    python -m benchmarks.scale report --json scale.json --chart docs/scale.png

Each size gets a fresh sandbox in its own process (``serve`` below: a Sandbox with
room for that many sockets), and each measurement a fresh client process with
one ``CustomerPool`` (50 logins at a time):

* ``idle`` (once per event loop, asyncio's and uvloop's, alternating which goes
  first): the time to log all in; then the client's CPU over ``--idle-seconds``
  of idling (a ping every 15 s each), per customer-minute; RSS per customer.
* ``idle --tracemalloc``: the same logins with tracemalloc on: the client's heap
  per customer (traced memory after minus before, over N).
* ``chat`` (once per loop): N customers each start a chat, then all send
  ``--messages`` messages each, one after another per customer, all customers at
  once: messages per second and the p50/p95/p99 of the send_event round trip.

The open-files limit is raised to the hard limit (20,000 on the team's machines,
which an unprivileged process cannot raise): each customer holds one socket, so
one process holds at most about that many customers, hence 19,500, not 20,000.

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
from collections.abc import Callable
from typing import Any

from benchmarks.servers import ROOT, _process

LOGINS_AT_ONCE = 50
SIZES = (1_000, 10_000, 19_500)
LOOPS = ("asyncio", "uvloop")
SPARE_FDS = 300
"""Files a client process needs besides its customers' sockets (HTTP, pipes...)."""


def raise_fd_limit() -> int:
    """Raise the soft limit of open files to the hard one; returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """``asyncio`` (None: its default loop) or ``uvloop``."""
    if name == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    return None


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
    import gc

    from benchmarks.measure import rss_bytes

    if traced:
        tracemalloc.start()
    pool = _pool(api, accounts, org)
    gc.collect()
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
        gc.collect()
        heap = tracemalloc.get_traced_memory()[0] - before
        result["heap_bytes_per_customer"] = round(heap / n)
        tracemalloc.stop()
    else:
        await asyncio.sleep(5)  # the logins' HTTP connections close, caches settle
        gc.collect()
        cpu = time.process_time()
        await asyncio.sleep(seconds)
        cpu = time.process_time() - cpu
        result["idle_seconds"] = seconds
        result["cpu_seconds_per_idle_minute"] = round(cpu * 60 / seconds, 3)
        result["cpu_ms_per_customer_minute"] = round(cpu * 60 / seconds / n * 1e3, 4)
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
    cpu = time.process_time()
    await asyncio.gather(*(talk(s, c.id) for s, c in zip(sdks, chats, strict=True)))
    cpu = time.process_time() - cpu
    wall = time.perf_counter() - started
    await pool.close()
    latencies.sort()

    def at(share: float) -> float:
        return round(latencies[int(len(latencies) * share) - 1] * 1000, 1)

    return {
        "scenario": "chat",
        "customers": n,
        "messages": len(latencies),
        "messages_per_second": round(len(latencies) / wall, 1),
        "client_cpu_us_per_message": round(cpu / len(latencies) * 1e6, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
    }


def _client(args: list[str], server: list[str], loop: str) -> dict[str, Any]:
    """One measurement in a fresh process; its JSON line."""
    command = [sys.executable, "-m", "benchmarks.scale", *args, "--loop", loop]
    done = subprocess.run(
        [*command, "--server", *server],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    line: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    line["loop"] = loop
    print(json.dumps(line), flush=True)
    return line


def _sandbox() -> Any:
    command = [sys.executable, "-m", "benchmarks.scale", "serve"]
    return _process(command, lambda lines: lines[-1].startswith("READY"))


def run_all(options: argparse.Namespace) -> list[dict[str, Any]]:
    """Every size and loop, each size on a fresh sandbox; the JSON lines."""
    sizes = [int(size) for size in options.sizes.split(",") if size]
    most = raise_fd_limit() - SPARE_FDS
    if sizes and max(sizes) > most:
        sys.exit(f"{max(sizes):,} customers need more open files: the limit is {most}")
    lines: list[dict[str, Any]] = []
    for number, n in enumerate(sizes):
        order = LOOPS if number % 2 == 0 else LOOPS[::-1]
        for loop in order:
            with _sandbox() as (_, ready):
                server = ready[-1].split()[1:]
                idle_args = [
                    "idle",
                    str(n),
                    "--idle-seconds",
                    str(options.idle_seconds),
                ]
                lines.append(_client(idle_args, server, loop))
        if options.heap:
            with _sandbox() as (_, ready):
                server = ready[-1].split()[1:]
                traced = ["idle", str(n), "--tracemalloc"]
                lines.append(_client(traced, server, "asyncio"))
    if options.chatting:
        for loop in LOOPS:
            with _sandbox() as (_, ready):
                server = ready[-1].split()[1:]
                chat_args = ["chat", str(options.chatting)]
                chat_args += ["--messages", str(options.messages)]
                lines.append(_client(chat_args, server, loop))
    return lines


def table(lines: list[dict[str, Any]]) -> str:
    """The curve as markdown: one row per size, then the chat runs."""
    idle = {(r["customers"], r["loop"]): r for r in lines if r["scenario"] == "idle"}
    heap = {r["customers"]: r for r in lines if r["scenario"] == "idle-traced"}
    rows = [
        "| idle customers | heap per customer (KiB) | RSS per customer (KiB), "
        "asyncio / uvloop | idle CPU per customer-minute (ms), asyncio / uvloop | "
        "log-in time (s), asyncio / uvloop | still connected |",
        "|---|---|---|---|---|---|",
    ]
    for n in sorted({n for n, _ in idle} | set(heap)):
        runs = [idle.get((n, loop), {}) for loop in LOOPS]

        def pair(
            key: str, scale: float = 1.0, digits: int = 1, runs: list[Any] = runs
        ) -> str:
            values = [r.get(key) for r in runs]
            return " / ".join(
                "?" if v is None else f"{v * scale:,.{digits}f}" for v in values
            )

        traced = heap.get(n, {}).get("heap_bytes_per_customer")
        rows.append(
            f"| {n:,} | {'?' if traced is None else f'{traced / 1024:.1f}'} | "
            f"{pair('rss_bytes_per_customer', 1 / 1024)} | "
            f"{pair('cpu_ms_per_customer_minute', digits=3)} | "
            f"{pair('login_seconds')} | "
            f"{pair('still_connected', digits=0)} |"
        )
    chats = [r for r in lines if r["scenario"] == "chat"]
    if chats:
        rows += [
            "",
            "| chatting customers | loop | messages | messages/s | client CPU per "
            "message (µs) | p50 (ms) | p95 (ms) | p99 (ms) |",
            "|---|---|---|---|---|---|---|---|",
        ]
        rows += [
            f"| {r['customers']:,} | {r['loop']} | {r['messages']:,} | "
            f"{r['messages_per_second']:,.0f} | {r['client_cpu_us_per_message']} | "
            f"{r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} |"
            for r in chats
        ]
    return "\n".join(rows)


def chart(lines: list[dict[str, Any]], path: str) -> None:
    """Draw the curve (per-customer costs against the number of customers)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    heap = sorted(
        (r["customers"], r["heap_bytes_per_customer"] / 1024)
        for r in lines
        if r["scenario"] == "idle-traced"
    )
    figure, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    heap_axes, cpu_axes, login_axes = axes
    heap_axes.plot(
        *zip(*heap, strict=True), "^-", color="tab:blue", label="heap (tracemalloc)"
    )
    for loop, style, color in (
        ("asyncio", "s--", "tab:orange"),
        ("uvloop", "o-", "tab:green"),
    ):
        idle = sorted(
            (r["customers"], r)
            for r in lines
            if r["scenario"] == "idle" and r["loop"] == loop
        )
        if not idle:
            continue
        sizes = [n for n, _ in idle]
        heap_axes.plot(
            sizes,
            [r["rss_bytes_per_customer"] / 1024 for _, r in idle],
            style,
            color=color,
            label=f"RSS, {loop}",
        )
        cpu = [r["cpu_ms_per_customer_minute"] for _, r in idle]
        cpu_axes.plot(sizes, cpu, style, color=color, label=loop)
        logins = [r["login_seconds"] for _, r in idle]
        login_axes.plot(sizes, logins, style, color=color, label=loop)
    heap_axes.set_title("memory per idle customer (KiB)")
    cpu_axes.set_title("idle CPU per customer-minute (ms)")
    login_axes.set_title("time to log all in (s)")
    for ax in axes:
        ax.set_xlabel("customers in one process")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    figure.suptitle(
        f"rxlivechat, many customers in one process (CustomerPool, sandbox in "
        f"another; {os.cpu_count()} cores, Python {platform.python_version()})",
        fontsize=10,
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main() -> None:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale")
    parser.add_argument(
        "mode",
        nargs="?",
        default="all",
        choices=["all", "report", "serve", "idle", "chat"],
        help="report: the table and chart of an earlier run's --json",
    )
    parser.add_argument("n", nargs="?", type=int, default=0)
    parser.add_argument("--sizes", default=",".join(str(n) for n in SIZES))
    parser.add_argument("--chatting", type=int, default=1_000)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument(
        "--no-heap",
        dest="heap",
        action="store_false",
        help="skip the tracemalloc runs (the slowest: logins under tracemalloc)",
    )
    parser.add_argument("--loop", choices=LOOPS, default="asyncio")
    parser.add_argument("--chart", help="also draw the curve into this PNG")
    parser.add_argument("--json", help="also write the JSON lines to this file")
    parser.add_argument("--server", nargs=3, metavar=("API", "ACCOUNTS", "ORG"))
    options = parser.parse_args()
    raise_fd_limit()
    if options.mode == "serve":
        asyncio.run(serve())
        return
    if options.mode in ("all", "report"):
        if options.mode == "report":
            with open(options.json) as saved:
                lines = json.load(saved)
        else:
            lines = run_all(options)
        print()
        print(
            f"machine: {platform.processor() or platform.machine()}, "
            f"{os.cpu_count()} cores, Python {platform.python_version()}, "
            f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end"
        )
        print(table(lines))
        if options.json and options.mode == "all":
            with open(options.json, "w") as out:
                json.dump(lines, out, indent=1)
        if options.chart:
            chart(lines, options.chart)
        return
    api, accounts, org = options.server
    job = (
        idle(api, accounts, org, options.n, options.idle_seconds, options.tracemalloc)
        if options.mode == "idle"
        else chat(api, accounts, org, options.n, options.messages)
    )
    with asyncio.Runner(loop_factory=loop_factory(options.loop)) as runner:
        print(json.dumps(runner.run(job)))


if __name__ == "__main__":
    main()
