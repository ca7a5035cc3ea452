"""The fast floor: picows' core API on uvloop, with the raw floor's typed decode.

The least a Python client can do on the fastest stack there is (issue 27): picows
parses the frames in Cython and calls :meth:`FastClient.on_ws_frame` once per
frame, synchronously; the frame is decoded from its memoryview (no copy) with the
same msgspec Structs as :mod:`benchmarks.raw_client` (the envelope with a raw
payload, then the payload typed), pushes go to one callback, and a future is made
only for a reply someone awaits. No SDK, no queue (the scenarios it runs keep at
most 10 requests in flight), no reconnect: not a product.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any, TypeVar

import uvloop
from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

from ..measure import Span, fetch_token
from ..raw_client import (
    IncomingEvent,
    ListChatsResult,
    LoginResult,
    SendEventResult,
    ServerError,
    StartChatResult,
    _decode_envelope,
    _decode_incoming_event,
    _decoder,
    _encode,
    _Request,
    rtm_url,
)
from ..servers import Server
from ..stub_server import CHAT_ID
from .common import WARM_UP, Counter, burst

LOOP_FACTORY = uvloop.new_event_loop

T = TypeVar("T")
_TEXT = WSMsgType.TEXT


class FastClient(WSListener):
    """One RTM socket: requests by id, pushes to ``on_event``."""

    def __init__(self, on_event: Callable[[IncomingEvent], None] | None) -> None:
        super().__init__()
        self.on_event = on_event
        self.transport: WSTransport | None = None
        self._pending: dict[str, tuple[asyncio.Future[Any], type[Any]]] = {}
        self._ids = itertools.count(1)

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type is not _TEXT:  # picows answers pings itself
            return
        envelope = _decode_envelope(frame.get_payload_as_memoryview())
        if envelope.type == "push":
            if envelope.action == "incoming_event":
                event = _decode_incoming_event(envelope.payload)
                if self.on_event is not None:
                    self.on_event(event)
            return
        waiter = self._pending.pop(envelope.request_id or "", None)
        if waiter is None:
            return
        future, result = waiter
        if future.done():
            return
        if envelope.success:
            future.set_result(_decoder(result)(envelope.payload))
        else:
            future.set_exception(ServerError(bytes(envelope.payload).decode()))

    async def request(self, action: str, payload: Any, result: type[T]) -> T:
        assert self.transport is not None
        request_id = str(next(self._ids))
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = (future, result)
        try:
            frame = _Request(request_id=request_id, action=action, payload=payload)
            self.transport.send(_TEXT, _encode(frame))
            return await future
        finally:
            self._pending.pop(request_id, None)

    async def send_event(self, chat_id: str, text: str) -> SendEventResult:
        event = {"type": "message", "text": text}
        return await self.request(
            "send_event", {"chat_id": chat_id, "event": event}, SendEventResult
        )


async def _connect(
    server: Server, org: str, on_event: Callable[[IncomingEvent], None] | None = None
) -> FastClient:
    url = rtm_url(server.api_url, org or server.organization_id)
    _, client = await ws_connect(lambda: FastClient(on_event), url)
    assert isinstance(client, FastClient)
    if server.organization_id:  # the sandbox: a real customer token
        token = "Bearer " + fetch_token(server.accounts_url, server.organization_id)
    else:  # the stub takes any token
        token = "Bearer bench"
    await client.request("login", {"token": token}, LoginResult)
    await client.request("list_chats", {"limit": 10}, ListChatsResult)
    return client


async def _close(client: FastClient) -> None:
    transport = client.transport
    assert transport is not None
    transport.send_close()
    transport.disconnect()
    await transport.wait_disconnected()


async def _send(client: FastClient, chat_id: str, count: int) -> None:
    for _ in range(count):
        result = await client.send_event(chat_id, "hello")
        assert result.event_id


async def seq(server: Server, org: str, n: int) -> dict[str, Any]:
    client = await _connect(server, org)
    try:
        await _send(client, CHAT_ID, WARM_UP)
        with Span() as span:
            await _send(client, CHAT_ID, n)
    finally:
        await _close(client)
    return span.result(n)


async def e2e_seq(server: Server, org: str, n: int) -> dict[str, Any]:
    client = await _connect(server, org)
    try:
        first = {"type": "message", "text": "hi"}
        chat = await client.request(
            "start_chat", {"chat": {"thread": {"events": [first]}}}, StartChatResult
        )
        await _send(client, chat.chat_id, WARM_UP)
        with Span() as span:
            await _send(client, chat.chat_id, n)
    finally:
        await _close(client)
    return span.result(n)


async def window(server: Server, org: str, n: int) -> dict[str, Any]:
    client = await _connect(server, org)
    try:
        await _send(client, CHAT_ID, WARM_UP)
        with Span() as span:
            await asyncio.gather(*(_send(client, CHAT_ID, n // 10) for _ in range(10)))
    finally:
        await _close(client)
    return span.result(n // 10 * 10)


async def pushes(server: Server, org: str, n: int) -> dict[str, Any]:
    counter = Counter(lambda p: isinstance(p, IncomingEvent) and p.event.id is not None)
    client = await _connect(server, org, counter)
    try:
        await burst(server, org, counter, 1000)  # warm-up
        span = await burst(server, org, counter, n)
    finally:
        await _close(client)
    return span.result(n)
