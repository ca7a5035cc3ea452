"""rxlivechat, used the way its README shows."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from typing import Any

import reactivex as rx
from reactivex import abc, operators as ops
from reactivex.disposable import Disposable

import rxlivechat
from rxlivechat import Event, Message, NewEvent, operators

from ..measure import Span, raise_nofile, rss_bytes
from ..servers import Server
from ..stub_server import CHAT_ID, HOLD_CHAT_ID
from .common import HELD, WARM_UP, Counter, burst, ratio


async def _stub_token() -> rxlivechat.Token:
    return rxlivechat.Token(access_token="bench")


async def _connect(server: Server, org: str, **options: Any) -> rxlivechat.CustomerSDK:
    settings: dict[str, Any] = {
        "organization_id": org or server.organization_id,
        "client_id": "bench",
        "api_url": server.api_url,
        "accounts_url": server.accounts_url,
    }
    if not server.organization_id:  # the stub issues no tokens
        settings["token_provider"] = _stub_token
    sdk = rxlivechat.init(**(settings | options))
    await sdk.wait_connected(timeout=30)
    return sdk


async def _send(sdk: rxlivechat.CustomerSDK, chat_id: str, count: int) -> None:
    for _ in range(count):
        event = await sdk.send_event(chat_id, Message(text="hello"))
        assert event.id is not None


async def seq(server: Server, org: str, n: int) -> dict[str, Any]:
    async with await _connect(server, org) as sdk:
        await _send(sdk, CHAT_ID, WARM_UP)
        with Span() as span:
            await _send(sdk, CHAT_ID, n)
    return span.result(n)


async def seq_dict(server: Server, org: str, n: int) -> dict[str, Any]:
    """1's round trips with the event as the seed writes it, a plain dict, in
    batches alternating with the typed style (ABBA), so both see the same machine."""
    batch = max(1, n // 10)
    async with await _connect(server, org) as sdk:
        await _send(sdk, CHAT_ID, WARM_UP)
        await _send_dicts(sdk, CHAT_ID, WARM_UP)
        typed, plain = Span(), Span()
        for round_no in range(10):
            order = (typed, plain) if round_no % 4 in (0, 3) else (plain, typed)
            for total in order:
                with Span() as span:
                    send = _send if total is typed else _send_dicts
                    await send(sdk, CHAT_ID, batch)
                total.wall += span.wall
                total.cpu += span.cpu
    typed_cpu_us = typed.cpu / (10 * batch) * 1e6
    result = plain.result(10 * batch, typed_cpu_us=typed_cpu_us)
    return result | {"ratio": result["cpu_us"] / typed_cpu_us}


async def _send_dicts(sdk: rxlivechat.CustomerSDK, chat_id: str, count: int) -> None:
    for _ in range(count):
        event = await sdk.send_event(chat_id, {"type": "message", "text": "hello"})
        assert event.id is not None


async def e2e_seq(server: Server, org: str, n: int) -> dict[str, Any]:
    async with await _connect(server, org) as sdk:
        chat = await sdk.start_chat([Message(text="hi")])
        await _send(sdk, chat.id, WARM_UP)
        with Span() as span:
            await _send(sdk, chat.id, n)
    return span.result(n)


async def window(server: Server, org: str, n: int) -> dict[str, Any]:
    async with await _connect(server, org) as sdk:
        await _send(sdk, CHAT_ID, WARM_UP)
        with Span() as span:
            await asyncio.gather(*(_send(sdk, CHAT_ID, n // 10) for _ in range(10)))
    return span.result(n // 10 * 10)


async def at_once(server: Server, org: str, n: int) -> dict[str, Any]:
    """Batches of 1,000 through reactivex's ``flat_map``; the SDK keeps 10 on the
    socket."""
    return await _at_once_through(ops.flat_map, server, org, n)


async def at_once_operators(server: Server, org: str, n: int) -> dict[str, Any]:
    """The same through ``rxlivechat.operators.flat_map``."""
    return await _at_once_through(operators.flat_map, server, org, n)


async def _at_once_through(
    flat_map: FlatMap, server: Server, org: str, n: int
) -> dict[str, Any]:
    batches = max(1, n // 1000)
    async with await _connect(server, org) as sdk:
        await _send(sdk, CHAT_ID, WARM_UP)

        def send(_: int) -> rx.Observable[Event]:
            return sdk.send_event(CHAT_ID, Message(text="hi"))

        span = await _flat_map_batches(flat_map, send, batches)
    return span.result(batches * 1000)


FlatMap = Callable[
    [Callable[[int], rx.Observable[Any]]],
    Callable[[rx.Observable[int]], rx.Observable[Any]],
]


async def _flat_map_batches(
    flat_map: FlatMap, inner: Callable[[int], rx.Observable[Any]], batches: int
) -> Span:
    """Batches of 1,000 inner observables composed by ``flat_map``."""
    with Span() as span:
        for _ in range(batches):
            sent = rx.from_iterable(range(1000)).pipe(flat_map(inner))
            done = await sent.pipe(ops.count())
            assert done == 1000
    return span


async def at_once_gather(server: Server, org: str, n: int) -> dict[str, Any]:
    """Batches of 1,000 awaited with ``asyncio.gather``, as the floor does."""
    batches = max(1, n // 1000)
    async with await _connect(server, org) as sdk:
        await _send(sdk, CHAT_ID, WARM_UP)
        with Span() as span:
            for _ in range(batches):
                events = await asyncio.gather(
                    *(sdk.send_event(CHAT_ID, Message(text="hi")) for _ in range(1000))
                )
                assert len(events) == 1000
    return span.result(batches * 1000)


async def rx_merge(server: Server, org: str, n: int) -> dict[str, Any]:
    """2b's and 2e's composition with no SDK: what each ``flat_map`` costs alone.

    The inner observables are as lean as an SDK call (``subscribe`` goes straight
    to the work, no trampoline) and complete on the next loop iteration. Batches
    alternate between the two operators; each gets ``n`` inners.
    """
    loop = asyncio.get_running_loop()

    def inner(_: int) -> rx.Observable[int]:
        return _NextTurn(loop)

    batches = max(1, n // 1000)
    spans: dict[FlatMap, Span] = {ops.flat_map: Span(), operators.flat_map: Span()}
    for _ in range(batches):
        for flat_map, total in spans.items():
            batch = await _flat_map_batches(flat_map, inner, 1)
            total.wall += batch.wall
            total.cpu += batch.cpu
    ours = spans[operators.flat_map].result(batches * 1000)
    return spans[ops.flat_map].result(batches * 1000, ours_cpu_us=ours["cpu_us"])


class _NextTurn(rx.Observable[int]):
    """Emits 1 and completes on the next loop iteration; subscribes as an SDK call
    does, with no trampoline and no auto-detach wrapper."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def subscribe(
        self,
        on_next: Any = None,
        on_error: Any = None,
        on_completed: Any = None,
        **_: Any,
    ) -> Disposable:
        if isinstance(on_next, abc.ObserverBase):  # an observer, not callbacks
            on_next, on_completed = on_next.on_next, on_next.on_completed
        handle = self._loop.call_soon(_complete, on_next, on_completed)
        return Disposable(handle.cancel)


def _complete(on_next: Callable[[int], None], on_completed: Callable[[], None]) -> None:
    on_next(1)
    on_completed()


async def pushes(server: Server, org: str, n: int) -> dict[str, Any]:
    async with await _connect(server, org) as sdk:
        counter = Counter(lambda p: isinstance(p, NewEvent) and p.event.id is not None)
        sdk.on("new_event", counter)
        await burst(server, org, counter, 1000)  # warm-up
        span = await burst(server, org, counter, n)
    return span.result(n)


async def waiting(server: Server, org: str, n: int) -> dict[str, Any]:
    """Push bursts with 0, 1,000, 1,000 and 0 requests waiting (ABBA)."""
    async with await _connect(server, org, request_timeout=600.0) as sdk:
        counter = Counter(lambda p: isinstance(p, NewEvent) and p.event.id is not None)
        sdk.on("new_event", counter)
        await burst(server, org, counter, 1000)  # warm-up
        idle = [await burst(server, org, counter, n)]
        answered: list[Any] = []
        held = [
            sdk.send_event(HOLD_CHAT_ID, Message(text="held")).subscribe(
                answered.append, answered.append
            )
            for _ in range(HELD)
        ]
        await asyncio.sleep(0.1)  # let the first 10 reach the socket
        busy = [await burst(server, org, counter, n) for _ in range(2)]
        if answered:
            raise RuntimeError(f"{len(answered)} held requests were settled")
        for subscription in reversed(held):  # queued ones first: nothing more is sent
            subscription.dispose()
        idle.append(await burst(server, org, counter, n))
    return ratio(idle, busy, n)


async def logins(server: Server, org: str, n: int) -> dict[str, Any]:
    """``n`` customers, each its own SDK, connected at once; RSS per connection."""
    raise_nofile(4 * n + 256)
    first = await _connect(server, org)  # pays for lazy imports and caches
    await first.destroy()
    gc.collect()
    before = rss_bytes()
    sdks: list[rxlivechat.CustomerSDK] = []
    try:
        with Span() as span:
            sdks.extend(
                rxlivechat.init(
                    organization_id=server.organization_id,
                    client_id="bench",
                    api_url=server.api_url,
                    accounts_url=server.accounts_url,
                )
                for _ in range(n)
            )
            await asyncio.gather(*(sdk.wait_connected(timeout=120) for sdk in sdks))
        await asyncio.sleep(1.0)  # idle
        gc.collect()
        after = rss_bytes()
    finally:
        await asyncio.gather(*(sdk.destroy() for sdk in sdks))
    return span.result(n, rss_per_conn=(after - before) / n)
