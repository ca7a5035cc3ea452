"""Walk a 10,000-event chat history: rxlivechat against raw list_threads requests.

    .venv/bin/python benchmarks/history_walk.py [--runs 7] [--threads 400]
        [--events-per-thread 25] [--page-sizes 25,100]

The sandbox runs in a child process (this script, started with ``--serve``): it
seeds the chat straight into its store and serves it, so the CPU time measured
here (``time.process_time()``) is the client's alone. Per page size
(``min_events_count``), three clients walk the whole chat, newest page first,
with the very same requests (``{chat_id, sort_order: desc, min_events_count}``,
then ``{chat_id, page_id}`` until there is no ``next_page_id``):

* ``raw``: a minimal client on aiohttp + msgspec: one reader task, a dict of
  futures keyed by ``request_id``, the envelope decoded with the payload kept
  raw, then the payload decoded into small typed Structs (threads reversed,
  events flattened). No SDK, no Rx: the floor.
* ``rxlivechat Observable``: ``ChatHistory`` as an ``Observable[Event]``, with a
  subscriber that counts the events.
* ``rxlivechat async for``: ``async for page in history``.

Each client walks once to warm up, then ``--runs`` times, interleaved; the table
gives medians: events per second (wall clock) and client CPU µs per event, and
each as a ratio to ``raw``. The wall rate includes the sandbox's own time (it is
Python too), so the CPU column is the one that shows the SDK's overhead.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import functools
import itertools
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import msgspec

import rxlivechat
from rxlivechat import Token
from rxlivechat.sandbox import Sandbox

# The sandbox (child process) ----------------------------------------------------------


async def serve(threads: int, events_per_thread: int) -> None:
    """Seed the chat, print how to reach it (one JSON line), serve until stdin ends."""
    # The raw client sends no pings: keep its socket however long the runs take.
    async with Sandbox(ping_timeout=24 * 3600.0) as sandbox:
        token = await sandbox.create_customer_token()
        chat_id = sandbox.seed_chat(
            token.entity_id, threads=threads, events_per_thread=events_per_thread
        )
        info = {
            "api_url": sandbox.api_url,
            "accounts_url": sandbox.accounts_url,
            "organization_id": sandbox.organization_id,
            "access_token": token.access_token,
            "entity_id": token.entity_id,
            "chat_id": chat_id,
        }
        print(json.dumps(info), flush=True)
        await asyncio.to_thread(sys.stdin.buffer.read)  # EOF: the parent is done


# The raw client -----------------------------------------------------------------------


class RawMessage(msgspec.Struct, tag_field="type", tag="message", kw_only=True):
    text: str
    id: str | None = None
    created_at: datetime.datetime | None = None
    author_id: str | None = None


class RawThread(msgspec.Struct):
    id: str
    events: list[RawMessage] = []


class RawPage(msgspec.Struct):
    threads: list[RawThread]
    found_threads: int
    next_page_id: str | None = None


class _Envelope(msgspec.Struct):
    action: str
    type: str | None = None
    request_id: str | None = None
    success: bool | None = None
    payload: msgspec.Raw = msgspec.Raw(b"{}")


class _Request(msgspec.Struct):
    request_id: str
    action: str
    payload: Any


_encode = msgspec.json.Encoder().encode
_decode_envelope = msgspec.json.Decoder(_Envelope).decode
_decode_page = msgspec.json.Decoder(RawPage).decode


class RawClient:
    """One socket, one reader task, replies matched by a dict of futures."""

    def __init__(self) -> None:
        self._pending: dict[str, asyncio.Future[msgspec.Raw]] = {}
        self._ids = itertools.count(1)
        self._ws: aiohttp.ClientWebSocketResponse[Any] | None = None
        self._reader: asyncio.Task[None] | None = None

    async def connect(self, http: aiohttp.ClientSession, url: str, token: str) -> None:
        self._ws = await http.ws_connect(
            url, decode_text=False, heartbeat=None, max_msg_size=64 * 1024 * 1024
        )
        self._reader = asyncio.get_running_loop().create_task(self._read())
        await self.request("login", {"token": f"Bearer {token}"})

    async def request(self, action: str, payload: Any) -> msgspec.Raw:
        assert self._ws is not None
        request_id = str(next(self._ids))
        future: asyncio.Future[msgspec.Raw] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            frame = _Request(request_id=request_id, action=action, payload=payload)
            await self._ws.send_frame(_encode(frame), aiohttp.WSMsgType.TEXT)
            return await future
        finally:
            self._pending.pop(request_id, None)

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)

    async def _read(self) -> None:
        assert self._ws is not None
        async for message in self._ws:
            if message.type is not aiohttp.WSMsgType.TEXT:
                continue
            envelope = _decode_envelope(message.data)
            if envelope.type != "response" and envelope.success is None:
                continue  # a push
            future = self._pending.pop(envelope.request_id or "", None)
            if future is None or future.done():
                continue
            if envelope.success:
                future.set_result(envelope.payload)
            else:
                error = bytes(envelope.payload).decode()
                future.set_exception(RuntimeError(f"{envelope.action}: {error}"))


async def raw_walk(client: RawClient, chat_id: str, per_page: int) -> int:
    """The whole walk; returns how many events it saw (oldest first in a page)."""
    payload: dict[str, Any] = {
        "chat_id": chat_id,
        "sort_order": "desc",
        "min_events_count": per_page,
    }
    seen = 0
    while True:
        page = _decode_page(await client.request("list_threads", payload))
        events = [e for t in reversed(page.threads) for e in t.events]
        seen += len(events)
        if page.next_page_id is None:
            return seen
        payload = {"chat_id": chat_id, "page_id": page.next_page_id}


# rxlivechat ---------------------------------------------------------------------------


async def rx_walk(sdk: rxlivechat.CustomerSDK, chat_id: str, per_page: int) -> int:
    # A plain subscriber that counts: an Rx operator chain (ops.count() is three
    # operators per event) would measure reactivex, not the history.
    history = sdk.get_chat_history(chat_id, events_per_page=per_page)
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    seen = 0

    def on_next(_: Any) -> None:
        nonlocal seen
        seen += 1

    history.subscribe(on_next, done.set_exception, lambda: done.set_result(None))
    await done
    return seen


async def rx_pages_walk(
    sdk: rxlivechat.CustomerSDK, chat_id: str, per_page: int
) -> int:
    seen = 0
    async for page in sdk.get_chat_history(chat_id, events_per_page=per_page):
        seen += len(page.value)
    return seen


# The runs -----------------------------------------------------------------------------


@dataclass
class Samples:
    rates: list[float] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return statistics.median(self.rates)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpu_us)


async def measure(
    walk: Callable[[], Awaitable[int]], expected: int
) -> tuple[float, float]:
    wall0, cpu0 = time.perf_counter(), time.process_time()
    seen = await walk()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    if seen != expected:
        raise RuntimeError(f"the walk saw {seen} events, not {expected}")
    return seen / wall, cpu / seen * 1e6


async def bench(
    info: dict[str, str], runs: int, expected: int, page_sizes: list[int]
) -> dict[int, dict[str, Samples]]:
    async def provider() -> Token:
        return Token(access_token=info["access_token"], entity_id=info["entity_id"])

    chat_id = info["chat_id"]
    results: dict[int, dict[str, Samples]] = {}
    async with aiohttp.ClientSession() as http:
        raw = RawClient()
        url = info["api_url"].replace("http", "ws", 1)
        await raw.connect(
            http,
            f"{url}/v3.6/customer/rtm/ws?organization_id={info['organization_id']}",
            info["access_token"],
        )
        sdk = rxlivechat.init(
            organization_id=info["organization_id"],
            client_id="bench",
            api_url=info["api_url"],
            accounts_url=info["accounts_url"],
            token_provider=provider,
            request_timeout=60.0,
        )
        try:
            await sdk.wait_connected(timeout=30)
            for per_page in page_sizes:
                walks: dict[str, Callable[[], Awaitable[int]]] = {
                    "raw aiohttp + msgspec": functools.partial(
                        raw_walk, raw, chat_id, per_page
                    ),
                    "rxlivechat Observable": functools.partial(
                        rx_walk, sdk, chat_id, per_page
                    ),
                    "rxlivechat async for": functools.partial(
                        rx_pages_walk, sdk, chat_id, per_page
                    ),
                }
                samples = results[per_page] = {name: Samples() for name in walks}
                for run in range(runs + 1):  # run 0 warms up
                    for name, walk in walks.items():
                        rate, cpu = await measure(walk, expected)
                        if run:
                            samples[name].rates.append(rate)
                            samples[name].cpu_us.append(cpu)
        finally:
            await sdk.destroy()
            await raw.close()
    return results


def table(
    results: dict[int, dict[str, Samples]], threads: int, events_per_thread: int
) -> str:
    lines = [
        "| events/page | client | requests | events/s (median) | client CPU µs/event "
        "(median) | events/s vs raw | CPU vs raw |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for per_page, samples in results.items():
        raw = samples["raw aiohttp + msgspec"]
        threads_per_page = -(-per_page // events_per_thread)
        requests = -(-threads // threads_per_page)
        for name, s in samples.items():
            lines.append(
                f"| {per_page} | {name} | {requests} | {s.rate:,.0f} | {s.cpu:.2f} | "
                f"{s.rate / raw.rate:.2f} | {s.cpu / raw.cpu:.2f} |"
            )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="measured runs per client")
    parser.add_argument("--threads", type=int, default=400)
    parser.add_argument("--events-per-thread", type=int, default=25)
    parser.add_argument(
        "--page-sizes",
        default="25,100",
        help="min_events_count values, comma-separated",
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.threads, args.events_per_thread))
        return 0

    expected = args.threads * args.events_per_thread
    page_sizes = [int(size) for size in args.page_sizes.split(",")]
    child = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            "--threads",
            str(args.threads),
            "--events-per-thread",
            str(args.events_per_thread),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert child.stdout is not None
        info = json.loads(child.stdout.readline())
        results = asyncio.run(bench(info, args.runs, expected, page_sizes))
    finally:
        assert child.stdin is not None
        child.stdin.close()  # the sandbox stops at EOF
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    print(
        f"History walk: {expected:,} events in {args.threads} threads, sandbox in a "
        f"separate process, median of {args.runs} runs (Python "
        f"{sys.version.split()[0]}, rxlivechat {rxlivechat.__version__})\n"
    )
    print(table(results, args.threads, args.events_per_thread))
    return 0


if __name__ == "__main__":
    sys.exit(main())
