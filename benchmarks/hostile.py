"""The client against a hostile server (issue 18, SDK half), with figures.

Not part of ``make bench``: run it alone (about a minute) against this checkout,
or against an older one to compare (``PYTHONPATH=<old checkout> python
benchmarks/hostile.py``; cases that need a newer API print an error)::

    python benchmarks/hostile.py [--case NAME] [--size N]

Each case runs in a fresh child process (its peak RSS is its own) against
:class:`tests.engine.hostile.HostileServer` in that process, and prints
``name: value`` lines.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import resource
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

sys.path.append(str(Path(__file__).resolve().parents[1]))  # after PYTHONPATH

import rxlivechat
from rxlivechat.protocol.frames import Push
from tests.engine.hostile import (
    Connection,
    HostileServer,
    Request,
    error_reply,
    incoming_event,
    message,
    thread,
)

MiB = 1024 * 1024
Case = Callable[[HostileServer, int], Awaitable[dict[str, Any]]]
CASES: dict[str, tuple[Case, int]] = {}


def case(default_size: int) -> Callable[[Case], Case]:
    """Register a case with the size it runs at by default."""

    def register(fn: Case) -> Case:
        CASES[fn.__name__.replace("_", "-")] = (fn, default_size)
        return fn

    return register


def peak_rss_mib() -> float:
    """This process's peak resident set size, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def until(predicate: Callable[[], bool], timeout: float) -> None:
    """Wait until ``predicate()`` holds, at most ``timeout`` seconds."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.005)


def record(sdk: rxlivechat.CustomerSDK) -> dict[str, list[Any]]:
    """The payloads of ``error`` and ``connection_restored`` events."""
    seen: dict[str, list[Any]] = {"error": [], "connection_restored": []}

    def keep(item: tuple[str, Any]) -> None:
        if item[0] in seen:
            seen[item[0]].append(item[1])

    sdk.subscribe(keep)
    return seen


@case(default_size=400)
async def endless_token(server: HostileServer, size: int) -> dict[str, Any]:
    """A token endpoint streaming ``size`` MiB of one JSON string."""
    sent = 0

    async def endless(request: web.Request) -> web.StreamResponse:
        nonlocal sent
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(b'{"access_token": "')
        chunk = b"x" * MiB
        while sent < size * MiB:
            await response.write(chunk)
            sent += len(chunk)
        await response.write(b'"}')
        return response

    server.token = endless
    before = peak_rss_mib()
    sdk = rxlivechat.init(**server.options(request_timeout=120.0))
    seen = record(sdk)
    started = time.perf_counter()
    await until(lambda: bool(seen["error"]), 300)
    elapsed = time.perf_counter() - started
    await sdk.destroy()
    return {
        "served_mib": round(sent / MiB),
        "peak_rss_growth_mib": round(peak_rss_mib() - before, 1),
        "first_error": type(seen["error"][0]).__name__,
        "seconds_to_error": round(elapsed, 2),
    }


@case(default_size=20_000)
async def early_pushes(server: HostileServer, size: int) -> dict[str, Any]:
    """``size`` pushes of 2 kB carrying a pending request's id."""
    done = asyncio.Event()

    async def get_customer(connection: Connection, request: Request) -> Any:
        for i in range(size):
            event = message(f"F{i}", "z" * 2000, "2026-01-01T00:00:01.000000Z")
            await connection.push(
                "incoming_event",
                incoming_event("C1", event),
                request_id=request["request_id"],
            )
        await done.wait()
        return {"type": "customer", "id": "hostile-customer"}

    server.handlers["get_customer"] = get_customer
    sdk = rxlivechat.init(**server.options(request_timeout=600.0))
    await sdk.wait_connected(10)
    seen = [0]
    sdk.frames.subscribe(lambda f: seen.__setitem__(0, seen[0] + isinstance(f, Push)))
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    pending = asyncio.ensure_future(_ask(sdk.get_customer()))
    await until(lambda: seen[0] >= size, 600)
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    done.set()
    await pending
    await sdk.destroy()
    return {"pushes": size, "held_while_pending_mib": round(held / MiB, 2)}


async def _ask(observable: Any) -> Any:
    return await observable


@case(default_size=50_000)
async def chat_ids(server: HostileServer, size: int) -> dict[str, Any]:
    """Pushes naming ``size`` distinct chats (an event, then its deactivation)."""

    async def flood(connection: Connection) -> None:
        for i in range(size):
            event = message(f"E{i}", "hi", "2026-01-01T00:00:01.000000Z")
            await connection.push("incoming_event", incoming_event(f"C{i}", event))
            await connection.push(
                "chat_deactivated", {"chat_id": f"C{i}", "thread_id": "T1"}
            )

    sdk = rxlivechat.init(auto_connect=False, **server.options())
    seen = [0]
    sdk.frames.subscribe(lambda f: seen.__setitem__(0, seen[0] + isinstance(f, Push)))
    gc.collect()
    tracemalloc.start()
    sdk.connect()
    await sdk.wait_connected(10)
    base = tracemalloc.get_traced_memory()[0]
    await flood(server.connections[-1])
    await until(lambda: seen[0] >= 2 * size, 600)
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    await sdk.destroy()
    return {"chats": size, "held_mib": round(held / MiB, 2)}


@case(default_size=50_000)
async def chat_ids_unbounded(server: HostileServer, size: int) -> dict[str, Any]:
    """As ``chat-ids``, with the engine's bound lifted: what the bound saves."""
    from rxlivechat.engine import engine

    engine.MAX_CHATS = 10**9
    return await chat_ids(server, size)


@case(default_size=10)
async def repeated_page_id(server: HostileServer, size: int) -> dict[str, Any]:
    """Every ``list_threads`` answers the same ``next_page_id``; runs ``size`` s."""
    server.chats = ["endless"]

    async def list_threads(connection: Connection, request: Request) -> Any:
        newer = message(
            f"E{server.counts['list_threads']}", "x", "2026-01-01T00:00:01.000000Z"
        )
        page = {"threads": [thread("T1", newer)], "found_threads": 1}
        return page | {"next_page_id": "the-same-page"}

    server.handlers["list_threads"] = list_threads
    sdk = rxlivechat.init(**server.options())
    seen = record(sdk)
    await sdk.wait_connected(10)
    await server.drop_all()
    await asyncio.sleep(size)
    result = {
        "seconds": size,
        "list_threads": server.counts["list_threads"],
        "logins": server.counts["login"],
        "errors": [type(e).__name__ for e in seen["error"]][:5],
        "peak_rss_mib": round(peak_rss_mib(), 1),
    }
    await sdk.destroy()
    return result


@case(default_size=10)
async def broken_chat(server: HostileServer, size: int) -> dict[str, Any]:
    """One chat's ``list_threads`` always fails; runs ``size`` s after a drop."""
    server.chats = ["broken", "fine"]

    async def list_threads(connection: Connection, request: Request) -> Any:
        if request["payload"]["chat_id"] == "broken":
            return error_reply(request, "internal", "this chat is broken")
        return {"threads": [], "found_threads": 0}

    server.handlers["list_threads"] = list_threads
    sdk = rxlivechat.init(**server.options())
    seen = record(sdk)
    await sdk.wait_connected(10)
    await server.drop_all()
    await asyncio.sleep(size)
    result = {
        "seconds": size,
        "logins": server.counts["login"],
        "list_threads": server.counts["list_threads"],
        "errors": len(seen["error"]),
        "connected": sdk.connected,
    }
    await sdk.destroy()
    return result


@case(default_size=10)
async def abandoned_requests(server: HostileServer, size: int) -> dict[str, Any]:
    """``size`` requests cancelled while held, then ``size`` more."""
    server.max_pending = 10
    held = asyncio.Event()

    async def get_customer(connection: Connection, request: Request) -> Any:
        await held.wait()
        return {"type": "customer", "id": "hostile-customer"}

    server.handlers["get_customer"] = get_customer
    sdk = rxlivechat.init(**server.options(request_timeout=30.0))
    await sdk.wait_connected(10)
    first = [asyncio.ensure_future(_ask(sdk.get_customer())) for _ in range(size)]
    await until(lambda: server.counts["get_customer"] >= min(size, 10), 10)
    for task in first:
        task.cancel()
    await asyncio.gather(*first, return_exceptions=True)
    second = [asyncio.ensure_future(_ask(sdk.get_customer())) for _ in range(size)]
    await asyncio.sleep(0.2)
    held.set()
    results = await asyncio.gather(*second, return_exceptions=True)
    await sdk.destroy()
    return {
        "requests": 2 * size,
        "refused_by_server": server.refused,
        "failed": sum(isinstance(r, Exception) for r in results),
        "max_pending_on_socket": max(c.max_pending_seen for c in server.connections),
    }


async def run_case(name: str, size: int) -> dict[str, Any]:
    """Run one case against a fresh hostile server."""
    fn, _ = CASES[name]
    async with HostileServer() as server:
        return await fn(server, size)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=sorted(CASES), help="only this case")
    parser.add_argument("--size", type=int, help="the case's size (see each)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:  # one case, in this process: print its JSON
        size = args.size or CASES[args.case][1]
        print(json.dumps(asyncio.run(run_case(args.case, size))))
        return 0
    for name in [args.case] if args.case else list(CASES):
        command = [sys.executable, __file__, "--child", "--case", name]
        if args.size:
            command += ["--size", str(args.size)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"{name}: error: {done.stderr.strip().splitlines()[-1:]}")
            continue
        for key, value in json.loads(done.stdout.splitlines()[-1]).items():
            print(f"{name}.{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
