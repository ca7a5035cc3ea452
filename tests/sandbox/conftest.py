"""Fixtures for the sandbox tests: a sandbox, an HTTP session, a raw RTM client.

The raw client speaks the wire through the protocol core (``encode_request`` /
``decode_frame``) over aiohttp's client WebSocket, with no SDK in between, and
reads frames only when a test asks (no background task).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from rxlivechat.protocol import methods as m
from rxlivechat.protocol.base import Method
from rxlivechat.protocol.codec import decode_frame, encode_request
from rxlivechat.protocol.frames import ErrorResponse, Frame, Push, Response
from rxlivechat.sandbox import Sandbox


class Rtm:
    """A raw RTM client: send typed requests, read typed frames."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.pushes: list[Push[Any]] = []
        self._pending: dict[str, type[Method[Any]]] = {}
        self._responses: dict[str, Response[Any] | ErrorResponse] = {}
        self._ids = itertools.count(1)

    async def send(self, method: Method[Any], request_id: str | None = None) -> str:
        rid = request_id or f"r{next(self._ids)}"
        self._pending[rid] = type(method)
        await self.ws.send_str(encode_request(method, rid).decode())
        return rid

    async def send_json(self, frame: Any) -> None:
        await self.ws.send_str(json.dumps(frame))

    async def recv(self, timeout: float = 3.0) -> Frame:
        msg = await self.ws.receive(timeout=timeout)
        if msg.type is not aiohttp.WSMsgType.TEXT:
            raise ConnectionError(f"socket message {msg.type!r}: {msg.data!r}")
        frame = decode_frame(msg.data, self._pending)
        if isinstance(frame, Push):
            self.pushes.append(frame)
        elif frame.request_id is not None:
            self._responses[frame.request_id] = frame
        return frame

    async def reply(
        self, request_id: str, timeout: float = 3.0
    ) -> Response[Any] | ErrorResponse:
        async with asyncio.timeout(timeout):
            while request_id not in self._responses:
                await self.recv(timeout)
        return self._responses.pop(request_id)

    async def call(self, method: Method[Any], timeout: float = 3.0) -> Any:
        """Send and wait for the reply; returns the result or raises on error."""
        reply = await self.reply(await self.send(method), timeout)
        assert isinstance(reply, Response), reply
        return reply.payload

    async def error(self, method: Method[Any], timeout: float = 3.0) -> ErrorResponse:
        reply = await self.reply(await self.send(method), timeout)
        assert isinstance(reply, ErrorResponse), reply
        return reply

    async def push(self, action: str, timeout: float = 3.0) -> Push[Any]:
        """The oldest unread push of ``action`` (reading more frames if needed)."""
        async with asyncio.timeout(timeout):
            while True:
                for push in self.pushes:
                    if push.action == action:
                        self.pushes.remove(push)
                        return push
                await self.recv(timeout)

    async def closed(self, timeout: float = 3.0) -> int | None:
        """Read until the server closes the socket; returns the close code."""
        async with asyncio.timeout(timeout):
            while True:
                msg = await self.ws.receive()
                if msg.type is aiohttp.WSMsgType.CLOSE:
                    return int(msg.data)
                if msg.type in (
                    aiohttp.WSMsgType.CLOSE,
                    aiohttp.WSMsgType.CLOSING,
                    aiohttp.WSMsgType.CLOSED,
                    aiohttp.WSMsgType.ERROR,
                ):
                    return self.ws.close_code
                if msg.type is aiohttp.WSMsgType.TEXT:
                    frame = decode_frame(msg.data, self._pending)
                    if isinstance(frame, Push):
                        self.pushes.append(frame)


Connect = Callable[..., Awaitable[Rtm]]


@pytest.fixture
async def sandbox(request: pytest.FixtureRequest) -> AsyncIterator[Sandbox]:
    """A seeded sandbox; ``@pytest.mark.sandbox(...)`` adds options."""
    marker = request.node.get_closest_marker("sandbox")
    options = {"seed": 1234, **(marker.kwargs if marker else {})}
    async with Sandbox(**options) as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def connect(
    http: aiohttp.ClientSession,
) -> AsyncIterator[Callable[..., Awaitable[Rtm]]]:
    """``await connect(sandbox, token=None, login=True)`` → a raw RTM client."""
    async with contextlib.AsyncExitStack() as stack:

        async def open_rtm(
            sandbox: Sandbox,
            token: str | None = None,
            *,
            login: bool = True,
            url: str | None = None,
            **login_fields: Any,
        ) -> Rtm:
            ws = await stack.enter_async_context(
                http.ws_connect(url or sandbox.ws_url, autoping=True)
            )
            rtm = Rtm(ws)
            if login:
                if token is None:
                    token = (await sandbox.create_customer_token()).access_token
                await rtm.call(m.Login(token=f"Bearer {token}", **login_fields))
                if login_fields.get("pushes") is None:
                    await rtm.push("customer_side_storage_updated")
            return rtm

        yield open_rtm


async def until(condition: Callable[[], bool], timeout: float = 3.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.005)
