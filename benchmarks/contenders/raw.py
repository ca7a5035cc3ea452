"""The floor: :class:`benchmarks.raw_client.RawClient` (aiohttp + msgspec)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp

from ..measure import Span, raise_nofile, rss_bytes
from ..raw_client import IncomingEvent, RawClient, StartChatResult, rtm_url
from ..servers import Server
from ..stub_server import CHAT_ID, HOLD_CHAT_ID
from .common import HELD, WARM_UP, Counter, burst, ratio


async def _token(http: aiohttp.ClientSession, server: Server) -> str:
    if not server.organization_id:  # the stub takes any token
        return "Bearer bench"
    body = {
        "grant_type": "cookie",
        "response_type": "token",
        "client_id": "bench",
        "organization_id": server.organization_id,
    }
    async with http.post(f"{server.accounts_url}/v2/customer/token", json=body) as r:
        token = await r.json()
    return f"{token['token_type']} {token['access_token']}"


@contextlib.asynccontextmanager
async def _client(
    server: Server, org: str, on_event: Callable[[IncomingEvent], None] | None = None
) -> AsyncIterator[RawClient]:
    # No cookies: every token is a new customer, as with one SDK per customer.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        client = RawClient(on_event)
        await client.connect(
            http, rtm_url(server.api_url, org or server.organization_id)
        )
        try:
            await client.login(await _token(http, server))
            yield client
        finally:
            await client.close()


async def _send(client: RawClient, chat_id: str, count: int) -> None:
    for _ in range(count):
        result = await client.send_event(chat_id, "hello")
        assert result.event_id


async def seq(server: Server, org: str, n: int) -> dict[str, Any]:
    async with _client(server, org) as client:
        await _send(client, CHAT_ID, WARM_UP)
        with Span() as span:
            await _send(client, CHAT_ID, n)
    return span.result(n)


async def e2e_seq(server: Server, org: str, n: int) -> dict[str, Any]:
    async with _client(server, org) as client:
        first = {"type": "message", "text": "hi"}
        chat = await client.request(
            "start_chat", {"chat": {"thread": {"events": [first]}}}, StartChatResult
        )
        await _send(client, chat.chat_id, WARM_UP)
        with Span() as span:
            await _send(client, chat.chat_id, n)
    return span.result(n)


async def window(server: Server, org: str, n: int) -> dict[str, Any]:
    async with _client(server, org) as client:
        await _send(client, CHAT_ID, WARM_UP)
        with Span() as span:
            await asyncio.gather(*(_send(client, CHAT_ID, n // 10) for _ in range(10)))
    return span.result(n // 10 * 10)


async def at_once(server: Server, org: str, n: int) -> dict[str, Any]:
    """Batches of 1,000 submitted at once; a semaphore keeps 10 on the socket."""
    batches = max(1, n // 1000)
    async with _client(server, org) as client:
        await _send(client, CHAT_ID, WARM_UP)
        with Span() as span:
            for _ in range(batches):
                results = await asyncio.gather(
                    *(client.send_event(CHAT_ID, "hi") for _ in range(1000))
                )
                assert len(results) == 1000
    return span.result(batches * 1000)


async def at_once_gather(server: Server, org: str, n: int) -> dict[str, Any]:
    """The floor's ``at_once`` is already ``asyncio.gather``: the same run."""
    return await at_once(server, org, n)


async def at_once_operators(server: Server, org: str, n: int) -> dict[str, Any]:
    """The floor has no operators: its ``at_once`` (``asyncio.gather``) again."""
    return await at_once(server, org, n)


async def pushes(server: Server, org: str, n: int) -> dict[str, Any]:
    counter = Counter(lambda p: isinstance(p, IncomingEvent) and p.event.id is not None)
    async with _client(server, org, counter):
        await burst(server, org, counter, 1000)  # warm-up
        span = await burst(server, org, counter, n)
    return span.result(n)


async def waiting(server: Server, org: str, n: int) -> dict[str, Any]:
    """Push bursts with 0, 1,000, 1,000 and 0 requests waiting (ABBA)."""
    counter = Counter(lambda p: isinstance(p, IncomingEvent) and p.event.id is not None)
    async with _client(server, org, counter) as client:
        await burst(server, org, counter, 1000)  # warm-up
        idle = [await burst(server, org, counter, n)]
        loop = asyncio.get_running_loop()
        held = [
            loop.create_task(client.send_event(HOLD_CHAT_ID, "held"))
            for _ in range(HELD)
        ]
        await asyncio.sleep(0.1)  # let the first 10 reach the socket
        busy = [await burst(server, org, counter, n) for _ in range(2)]
        if any(task.done() for task in held):
            raise RuntimeError("held requests were settled")
        for task in reversed(held):
            task.cancel()
        await asyncio.gather(*held, return_exceptions=True)
        idle.append(await burst(server, org, counter, n))
    return ratio(idle, busy, n)


async def logins(server: Server, org: str, n: int) -> dict[str, Any]:
    """``n`` customers on one shared aiohttp session; RSS per connection."""
    raise_nofile(4 * n + 256)
    async with aiohttp.ClientSession(
        cookie_jar=aiohttp.DummyCookieJar(),
        connector=aiohttp.TCPConnector(limit=0),  # the default 100 counts sockets
    ) as http:

        async def one() -> RawClient:
            client = RawClient()
            token = await _token(http, server)
            await client.connect(http, rtm_url(server.api_url, server.organization_id))
            await client.login(token)
            return client

        await (await one()).close()  # pays for lazy imports and caches
        gc.collect()
        before = rss_bytes()
        tasks = [asyncio.ensure_future(one()) for _ in range(n)]
        try:
            with Span() as span:
                await asyncio.gather(*tasks)
            await asyncio.sleep(1.0)  # idle
            gc.collect()
            after = rss_bytes()
        finally:
            for task in tasks:
                task.cancel()
            done = await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.gather(*(c.close() for c in done if isinstance(c, RawClient)))
    return span.result(n, rss_per_conn=(after - before) / n)
