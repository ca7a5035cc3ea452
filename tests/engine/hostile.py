"""A hostile LiveChat server for client tests: real HTTP and WebSocket on 127.0.0.1.

It speaks just enough of the protocol for a customer SDK to log in (the Accounts
token endpoint, the RTM socket, the Web API), answers every request from a
table of handlers a test replaces, and counts what it saw, so a test can make
it misbehave precisely: hang, repeat a page id, flood pushes, send garbage.

Like the real server it counts the requests pending on each socket and, with
``max_pending`` set, answers one more ``pending_requests_limit_reached``.

Below the WebSocket, a :class:`Connection` also gives the raw transport: a test
can stop reading (a peer that never reads, or a half-open one) and write raw
frames (:func:`server_frame`) that aiohttp would never send.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import socket
import struct
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

__all__ = [
    "HOLD",
    "Connection",
    "HostileServer",
    "Request",
    "error_reply",
    "ok_reply",
    "server_frame",
]

ORGANIZATION_ID = "hostile-org"
CUSTOMER_ID = "hostile-customer"

HOLD = object()
"""A handler's answer meaning "never reply" (the request stays pending)."""

Request = dict[str, Any]
Handler = Callable[["Connection", Request], Awaitable[Any]]
"""Returns the reply's payload (a dict), a full frame (:func:`error_reply`),
raw ``bytes`` to send as they are, or :data:`HOLD`."""


def ok_reply(request: Request, payload: Any) -> Any:
    """A full success frame answering ``request`` with ``payload``."""
    return _Frame(
        {
            "request_id": request.get("request_id"),
            "action": request.get("action"),
            "type": "response",
            "success": True,
            "payload": payload,
        }
    )


def error_reply(request: Request, error_type: str, message: str = "no") -> Any:
    """A full error frame answering ``request``."""
    return _Frame(
        {
            "request_id": request.get("request_id"),
            "action": request.get("action"),
            "type": "response",
            "success": False,
            "payload": {"error": {"type": error_type, "message": message}},
        }
    )


def server_frame(opcode: int, payload: bytes, *, final: bool = True) -> bytes:
    """A WebSocket frame as a server sends it: unmasked."""
    first = (0x80 if final else 0) | opcode
    size = len(payload)
    if size < 126:
        return struct.pack("!BB", first, size) + payload
    if size < 65536:
        return struct.pack("!BBH", first, 126, size) + payload
    return struct.pack("!BBQ", first, 127, size) + payload


class _Frame(dict[str, Any]):
    """A complete frame a handler returns instead of a payload."""


class Connection:
    """One RTM socket the server accepted."""

    def __init__(self, ws: web.WebSocketResponse, transport: asyncio.Transport) -> None:
        self.ws = ws
        self.transport = transport
        """The TCP connection under the WebSocket."""
        self.pending: set[str] = set()
        self.max_pending_seen = 0
        self.reading = True

    def stop_reading(self) -> None:
        """Read nothing more: what the client sends stays in the kernel's buffers."""
        self.reading = False
        self.transport.pause_reading()

    async def write_frames(self, frame: bytes, *, yield_every: int = 1) -> int:
        """Write ``frame`` (raw bytes) again and again until the socket closes.

        Returns how many times it was written. The loop yields every
        ``yield_every`` writes, so a client on the same loop reads them in
        between; it stops once the client is gone (the kernel's reset).
        """
        written = 0
        while not self.transport.is_closing():
            self.transport.write(frame)
            written += 1
            if written % yield_every == 0:
                await asyncio.sleep(0)
        return written

    async def push(self, action: str, payload: Any, **extra: Any) -> None:
        """Send a push."""
        frame = {"action": action, "type": "push", "payload": payload, **extra}
        await self.ws.send_str(json.dumps(frame))

    async def send_raw(self, data: str | bytes) -> None:
        """Send one TEXT frame exactly as given."""
        await self.ws.send_str(data if isinstance(data, str) else data.decode())


class HostileServer:
    """The server; ``async with HostileServer() as server:`` serves on a free port.

    Attributes:
        handlers: RTM action → handler; defaults answer ``login``, ``ping``,
            ``list_chats`` (with :attr:`chats`), ``list_threads`` (empty) and any
            other action with ``{}``.
        token: the token endpoint's handler (``aiohttp`` request → response).
        web: the Web API's handler (``aiohttp`` request → response).
        on_login: awaited after each login reply, with the connection.
        counts: how many of each RTM action (and ``token``, ``web``) were received.
        receive_buffer: ``SO_RCVBUF`` of the accepted sockets (``None``: the
            kernel's, autotuned up to 32 MiB on Linux); small, a server that
            stops reading pushes back on the client at once.
    """

    def __init__(
        self, *, max_pending: int | None = None, receive_buffer: int | None = None
    ) -> None:
        self.max_pending = max_pending
        self.receive_buffer = receive_buffer
        self.refused = 0
        self.chats: list[str] = []
        self.counts: collections.Counter[str] = collections.Counter()
        self.connections: list[Connection] = []
        self.on_login: Callable[[Connection], Awaitable[None]] | None = None
        self.handlers: dict[str, Handler] = {
            "login": self._login,
            "list_chats": self._list_chats,
            "list_threads": self._list_threads,
            "get_customer": self._get_customer,
        }
        self.token: Callable[[web.Request], Awaitable[web.StreamResponse]]
        self.token = self._token
        self.web: Callable[[web.Request], Awaitable[web.StreamResponse]]
        self.web = self._web
        self.organization_id = ORGANIZATION_ID
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def api_url(self) -> str:
        """The Customer Chat API's base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def accounts_url(self) -> str:
        """The Accounts API's base URL."""
        return self.api_url

    def options(self, **overrides: Any) -> dict[str, Any]:
        """``rxlivechat.init`` options that connect to this server."""
        return {
            "organization_id": ORGANIZATION_ID,
            "client_id": "hostile-client",
            "api_url": self.api_url,
            "accounts_url": self.accounts_url,
            "request_timeout": 5.0,
            "reconnect_delay": (0.05, 0.2),
        } | overrides

    async def hang(self) -> None:
        """Wait until the server closes (a handler that never answers)."""
        await self._closing.wait()

    async def drop_all(self) -> None:
        """Close every open socket (the client reconnects)."""
        for connection in self.connections:
            await connection.ws.close()

    async def __aenter__(self) -> HostileServer:
        app = web.Application()
        app.router.add_post("/v2/customer/token", self._token_route)
        app.router.add_get("/v3.6/customer/rtm/ws", self._socket)
        app.router.add_route("*", "/v3.6/customer/action/{action}", self._web_route)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
        await self._runner.setup()
        sock = socket.socket()
        if self.receive_buffer is not None:  # inherited by accepted sockets
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.receive_buffer)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closing.set()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for connection in self.connections:
            if not connection.reading:  # a close would wait for a reply unread
                connection.transport.abort()
                continue
            with contextlib.suppress(Exception):
                await connection.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # Routes -------------------------------------------------------------------------

    async def _token_route(self, request: web.Request) -> web.StreamResponse:
        self.counts["token"] += 1
        return await self.token(request)

    async def _web_route(self, request: web.Request) -> web.StreamResponse:
        self.counts["web"] += 1
        return await self.web(request)

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        assert request.transport is not None
        connection = Connection(ws, request.transport)
        self.connections.append(connection)
        async for message in ws:
            frame = json.loads(message.data)
            action, request_id = frame.get("action"), frame.get("request_id")
            self.counts[action] += 1
            if self.max_pending is not None and len(connection.pending) >= (
                self.max_pending
            ):
                self.refused += 1
                reply = error_reply(frame, "pending_requests_limit_reached")
                await ws.send_str(json.dumps(reply))
                continue
            connection.pending.add(request_id)
            connection.max_pending_seen = max(
                connection.max_pending_seen, len(connection.pending)
            )
            self._spawn(self._answer(connection, frame))
        return ws

    # Answers ------------------------------------------------------------------------

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, connection: Connection, frame: Request) -> None:
        action = frame["action"]
        handler = self.handlers.get(action, _empty)
        reply = await handler(connection, frame)
        if reply is HOLD:
            return
        connection.pending.discard(frame.get("request_id"))
        if connection.ws.closed:
            return
        with contextlib.suppress(ConnectionError, RuntimeError):
            if isinstance(reply, bytes | str):
                await connection.send_raw(reply)
            else:
                if not isinstance(reply, _Frame):
                    reply = ok_reply(frame, reply)
                await connection.ws.send_str(json.dumps(reply))
            if action == "login" and self.on_login is not None:
                await self.on_login(connection)

    async def _login(self, connection: Connection, request: Request) -> Any:
        return {"customer": {"type": "customer", "id": CUSTOMER_ID}}

    async def _list_chats(self, connection: Connection, request: Request) -> Any:
        summaries = [
            {"id": chat, "users": [], "active": True, "last_thread_id": "T1"}
            for chat in self.chats
        ]
        return {"chats_summary": summaries, "total_chats": len(summaries)}

    async def _list_threads(self, connection: Connection, request: Request) -> Any:
        return {"threads": [], "found_threads": 0}

    async def _get_customer(self, connection: Connection, request: Request) -> Any:
        return {"type": "customer", "id": CUSTOMER_ID}

    async def _token(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(
            {
                "access_token": "hostile-token",
                "token_type": "Bearer",
                "expires_in": 28800,
                "entity_id": CUSTOMER_ID,
                "organization_id": ORGANIZATION_ID,
                "client_id": "hostile-client",
            }
        )

    async def _web(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({})


async def _empty(connection: Connection, request: Request) -> Any:
    return {}


def thread(thread_id: str, *events: dict[str, Any]) -> dict[str, Any]:
    """A thread of ``list_threads`` with ``events``."""
    return {
        "id": thread_id,
        "created_at": "2026-01-01T00:00:00.000000Z",
        "active": True,
        "user_ids": [CUSTOMER_ID],
        "events": list(events),
    }


def message(event_id: str, text: str, created_at: str) -> dict[str, Any]:
    """A message event."""
    return {
        "id": event_id,
        "type": "message",
        "text": text,
        "author_id": "agent",
        "created_at": created_at,
    }


def incoming_event(chat_id: str, event: dict[str, Any]) -> dict[str, Any]:
    """The payload of an ``incoming_event`` push."""
    return {"chat_id": chat_id, "thread_id": "T1", "event": event}
