"""The floor: a minimal RTM client on aiohttp + msgspec with a dict of futures.

What the transport and the codec cost with no SDK at all: one reader task, an
envelope decode with the payload kept raw, then a typed decode of the payload
(replies into the result type the caller names, ``incoming_event`` pushes into
typed Structs handed to one callback). Like the SDK it keeps at most 10
requests on the socket (the server's limit) and makes the rest wait.

Not a product: no reconnect, no timeouts, no error types.
"""

from __future__ import annotations

import asyncio
import datetime
import itertools
from collections.abc import Callable
from typing import Any, TypeVar

import aiohttp
import msgspec

T = TypeVar("T")

MAX_IN_FLIGHT = 10


class Message(msgspec.Struct, tag_field="type", tag="message", kw_only=True):
    text: str
    id: str | None = None
    created_at: datetime.datetime | None = None
    author_id: str | None = None
    properties: dict[str, dict[str, Any]] | None = None


class IncomingEvent(msgspec.Struct):
    chat_id: str
    thread_id: str
    event: Message


class SendEventResult(msgspec.Struct):
    event_id: str


class StartChatResult(msgspec.Struct):
    chat_id: str
    thread_id: str | None = None


class Customer(msgspec.Struct):
    id: str


class LoginResult(msgspec.Struct):
    customer: Customer


class ListChatsResult(msgspec.Struct):
    chats_summary: list[dict[str, Any]]
    total_chats: int


class Empty(msgspec.Struct):
    pass


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


class ServerError(Exception):
    pass


_encode = msgspec.json.Encoder().encode
_decode_envelope = msgspec.json.Decoder(_Envelope).decode
_decode_incoming_event = msgspec.json.Decoder(IncomingEvent).decode
_decoders: dict[type[Any], Callable[[msgspec.Raw], Any]] = {}


def _decoder(tp: type[T]) -> Callable[[msgspec.Raw], T]:
    decode = _decoders.get(tp)
    if decode is None:
        decode = _decoders[tp] = msgspec.json.Decoder(tp).decode
    return decode


def rtm_url(api_url: str, organization_id: str) -> str:
    return (
        api_url.replace("http", "ws", 1)
        + f"/v3.6/customer/rtm/ws?organization_id={organization_id}"
    )


class RawClient:
    def __init__(self, on_event: Callable[[IncomingEvent], None] | None = None):
        self.on_event = on_event
        self._pending: dict[str, tuple[asyncio.Future[Any], type[Any]]] = {}
        self._ids = itertools.count(1)
        self._slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._ws: aiohttp.ClientWebSocketResponse[Any] | None = None
        self._reader: asyncio.Task[None] | None = None

    async def connect(self, http: aiohttp.ClientSession, url: str) -> None:
        self._ws = await http.ws_connect(
            url, decode_text=False, heartbeat=None, max_msg_size=64 * 1024 * 1024
        )
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def login(self, token: str) -> LoginResult:
        login = await self.request("login", {"token": token}, LoginResult)
        await self.request("list_chats", {"limit": 10}, ListChatsResult)
        return login

    async def request(self, action: str, payload: Any, result: type[T]) -> T:
        assert self._ws is not None
        async with self._slots:
            request_id = str(next(self._ids))
            future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
            self._pending[request_id] = (future, result)
            try:
                frame = _Request(request_id=request_id, action=action, payload=payload)
                await self._ws.send_frame(_encode(frame), aiohttp.WSMsgType.TEXT)
                return await future
            finally:
                self._pending.pop(request_id, None)

    async def send_event(self, chat_id: str, text: str) -> SendEventResult:
        event = {"type": "message", "text": text}
        return await self.request(
            "send_event", {"chat_id": chat_id, "event": event}, SendEventResult
        )

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
            if envelope.type == "push":
                if envelope.action == "incoming_event":
                    event = _decode_incoming_event(envelope.payload)
                    if self.on_event is not None:
                        self.on_event(event)
                continue
            waiter = self._pending.pop(envelope.request_id or "", None)
            if waiter is None:
                continue
            future, result = waiter
            if future.done():
                continue
            if envelope.success:
                future.set_result(_decoder(result)(envelope.payload))
            else:
                future.set_exception(ServerError(bytes(envelope.payload).decode()))
