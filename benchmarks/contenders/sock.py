"""Our own socket as a floor: the fast floor's client on rxlivechat's RTM socket.

:class:`rxlivechat.engine.transport.Socket` (an ``asyncio.Protocol`` with a
pure-Python RFC 6455 reader) on uvloop, with the raw floor's typed decode and a
future only per reply: everything of :mod:`.fast` but picows. Beside the fast
floor it prices the compiled transport (picows) against ours; beside
rxlivechat on uvloop, what the SDK adds over its own socket.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any, TypeVar

import uvloop

from rxlivechat.engine.transport import connect

from ..measure import Span, fetch_token
from ..raw_client import (
    IncomingEvent,
    ListChatsResult,
    LoginResult,
    SendEventResult,
    ServerError,
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


class SocketClient:
    """One RTM socket: requests by id, pushes to ``on_event``."""

    def __init__(self, on_event: Callable[[IncomingEvent], None] | None) -> None:
        self.on_event = on_event
        self._pending: dict[str, tuple[asyncio.Future[Any], type[Any]]] = {}
        self._ids = itertools.count(1)

    async def open(self, url: str) -> None:
        self.socket = await connect(url, timeout=30)
        self.socket.listen(self.on_message)

    def on_message(self, data: bytes) -> None:
        envelope = _decode_envelope(data)
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
        request_id = str(next(self._ids))
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = (future, result)
        try:
            frame = _Request(request_id=request_id, action=action, payload=payload)
            self.socket.send(_encode(frame))
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
) -> SocketClient:
    client = SocketClient(on_event)
    await client.open(rtm_url(server.api_url, org or server.organization_id))
    if server.organization_id:  # the sandbox: a real customer token
        token = "Bearer " + fetch_token(server.accounts_url, server.organization_id)
    else:  # the stub takes any token
        token = "Bearer bench"
    await client.request("login", {"token": token}, LoginResult)
    await client.request("list_chats", {"limit": 10}, ListChatsResult)
    return client


async def _send(client: SocketClient, chat_id: str, count: int) -> None:
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
        await client.socket.close()
    return span.result(n)


async def pushes(server: Server, org: str, n: int) -> dict[str, Any]:
    counter = Counter(lambda p: isinstance(p, IncomingEvent) and p.event.id is not None)
    client = await _connect(server, org, counter)
    try:
        await burst(server, org, counter, 1000)  # warm-up
        span = await burst(server, org, counter, n)
    finally:
        await client.socket.close()
    return span.result(n)
