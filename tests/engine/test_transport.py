"""The RTM socket against a real aiohttp WebSocket server on 127.0.0.1.

aiohttp's server is the judge here: it unmasks and checks what our client
writes, and sends what a real server sends (pings, close codes, big messages).
"""

from __future__ import annotations

import asyncio
import gc
import socket as socket_
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

import aiohttp
import pytest
from aiohttp import web

from rxlivechat.engine import transport, websocket as ws
from rxlivechat.engine.transport import Socket, connect
from rxlivechat.exceptions import ConnectError, ConnectionLost

from ..helpers import until
from .hostile import server_frame
from .test_websocket import unmask

Session = Callable[[web.WebSocketResponse], Awaitable[None]]


class Server:
    """One aiohttp app on a free port; ``session`` runs each accepted socket."""

    def __init__(self) -> None:
        self.session: Session = self._echo
        self.received: list[aiohttp.WSMessage] = []
        self.closed = asyncio.Event()
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def _echo(self, ws: web.WebSocketResponse) -> None:
        while not ws.closed:
            msg = await ws.receive()
            self.received.append(msg)
            if msg.type is aiohttp.WSMsgType.TEXT:
                await ws.send_str(msg.data)

    async def _accept(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=False, max_msg_size=0)
        await ws.prepare(request)
        try:
            await self.session(ws)
        finally:
            self.closed.set()
        return ws

    async def _forbid(self, request: web.Request) -> web.StreamResponse:
        return web.Response(status=403)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/ws", self._accept)
        app.router.add_get("/forbidden", self._forbid)
        self.runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.url = f"ws://127.0.0.1:{self.runner.addresses[0][1]}"


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    server = Server()
    await server.start()
    yield server
    assert server.runner is not None
    await server.runner.cleanup()


async def opened(server: Server, path: str = "/ws") -> tuple[Socket, list[bytes]]:
    """A socket to ``server``, listening into the returned list."""
    socket = await connect(server.url + path, timeout=5)
    seen: list[bytes] = []
    socket.listen(seen.append)
    return socket, seen


async def test_messages_of_every_length_form_round_trip(server: Server) -> None:
    socket, seen = await opened(server)
    sent = [b"", b"x", b"y" * 125, b"z" * 126, b"w" * 65535, b"v" * 65536]
    sent += ["żółw 😀 ".encode() * 80_000]  # a megabyte, multi-byte UTF-8
    for data in sent:
        socket.send(data)
    await until(lambda: len(seen) == len(sent))
    assert seen == sent  # the server unmasked each exactly, and echoed it
    await socket.close()


async def test_a_server_ping_is_answered_with_its_payload(server: Server) -> None:
    pongs: list[bytes] = []

    async def ping(ws: web.WebSocketResponse) -> None:
        await ws.ping(b"beat")
        async for msg in ws:
            if msg.type is aiohttp.WSMsgType.PONG:
                pongs.append(msg.data)
                await ws.close()

    server.session = ping
    socket, _ = await opened(server)
    await until(lambda: pongs == [b"beat"])
    await asyncio.wait_for(socket.done, 5)
    assert socket.done.result() is None  # a clean close


async def test_a_server_close_is_answered_and_ends_the_socket(server: Server) -> None:
    async def close(ws: web.WebSocketResponse) -> None:
        await ws.send_str('{"last": true}')
        await ws.close(code=4000, message=b"going")

    server.session = close
    socket, seen = await opened(server)
    await asyncio.wait_for(socket.done, 5)
    assert seen == [b'{"last": true}']
    assert socket.closed
    await socket.close()  # closing a closed socket is a no-op


async def test_close_sends_a_normal_close(server: Server) -> None:
    socket, _ = await opened(server)
    await socket.close()
    await asyncio.wait_for(server.closed.wait(), 5)
    assert [m.type for m in server.received] == [aiohttp.WSMsgType.CLOSE]
    assert server.received[0].data == 1000
    assert socket.done.result() is None


async def test_messages_before_listen_are_kept_in_order(server: Server) -> None:
    async def hello(ws: web.WebSocketResponse) -> None:
        for i in range(3):
            await ws.send_str(f"early {i}")
        await ws.receive()

    server.session = hello
    socket = await connect(server.url + "/ws", timeout=5)
    await asyncio.sleep(0.1)  # they arrive with no one listening
    seen: list[bytes] = []
    socket.listen(seen.append)
    assert seen == [b"early 0", b"early 1", b"early 2"]
    await socket.close()


async def test_a_refused_handshake_is_a_connect_error(server: Server) -> None:
    with pytest.raises(ConnectError, match="403"):
        await connect(server.url + "/forbidden", timeout=5)


async def test_a_server_that_never_answers_is_a_connect_error() -> None:
    with socket_.socket() as silent:  # accepts (the kernel's backlog), never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        with pytest.raises(ConnectError, match="TimeoutError"):
            await connect(f"ws://127.0.0.1:{port}/ws", timeout=0.3)


async def test_nothing_listening_is_a_connect_error() -> None:
    with socket_.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(ConnectError, match="cannot connect"):
        await connect(f"ws://127.0.0.1:{port}/ws", timeout=5)


async def test_a_message_over_the_limit_fails_the_socket(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transport, "MAX_MESSAGE_SIZE", 1000)

    async def flood(ws: web.WebSocketResponse) -> None:
        await ws.send_bytes(b"x" * 1001)
        await ws.receive()

    server.session = flood
    socket, seen = await opened(server)
    with pytest.raises(ConnectionLost, match="over 1000 bytes"):
        await asyncio.wait_for(socket.done, 5)
    assert seen == []


async def test_a_handler_that_raises_fails_the_socket_with_its_error(
    server: Server,
) -> None:
    socket = await connect(server.url + "/ws", timeout=5)

    def broken(data: bytes) -> Any:
        raise KeyError(data)

    socket.listen(broken)
    socket.send(b"boom")
    with pytest.raises(KeyError):
        await asyncio.wait_for(socket.done, 5)
    assert socket.closed


async def raw_server(reply: bytes, *, then_close: bool) -> asyncio.Server:
    """A TCP server answering any request with ``reply`` (not HTTP-aware)."""

    async def answer(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(reply)
        await writer.drain()
        if then_close:
            writer.close()
        else:
            await reader.read()  # until the client gives up
        writer.close()

    return await asyncio.start_server(answer, "127.0.0.1", 0)


@pytest.mark.parametrize(
    ("reply", "then_close", "message"),
    [
        (b"HTTP/1.1 101 OK\r\n" + b"X-Junk: y\r\n" * 10_000, False, "too large"),
        (b"HTTP/1.1 101 Switching", True, "closed during the handshake"),
        (b"HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n\r\n", False, "Connection"),
    ],
)
async def test_a_broken_handshake_reply_is_a_connect_error(
    reply: bytes, then_close: bool, message: str
) -> None:
    server = await raw_server(reply, then_close=then_close)
    port = server.sockets[0].getsockname()[1]
    async with server:
        with pytest.raises(ConnectError, match=message):
            await connect(f"ws://127.0.0.1:{port}/ws", timeout=5)


def switching(request: bytes) -> bytes:
    """A server's ``101`` reply to the opening ``request``."""
    key = next(
        line.split(":", 1)[1].strip()
        for line in request.decode().split("\r\n")
        if line.lower().startswith("sec-websocket-key:")
    )
    return (
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Accept: {ws.accept_key(key)}\r\n\r\n"
    ).encode()


async def test_what_handlers_send_goes_out_in_order_before_a_close() -> None:
    # Sent from inside the handler (as a reply frees a slot for the next
    # request), frames are corked and written together: none lost, none
    # reordered, and the server's close is answered after them. A raw server
    # sends 50 messages and its close in one write, so one read holds them all.
    received: list[tuple[int, bytes]] = []

    async def session(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        writer.write(switching(await reader.readuntil(b"\r\n\r\n")))
        go = await reader.readexactly(6 + 2)  # the client's "go", once listening
        assert unmask(go) == (ws.TEXT, b"go")
        writer.write(
            b"".join(server_frame(ws.TEXT, b"q%d" % i) for i in range(50))
            + server_frame(ws.CLOSE, ws.close_payload(4000))
        )
        data = await reader.read()  # until the client closes
        while data:
            size = data[1] & 0x7F  # every frame here is short
            received.append(unmask(data[: 6 + size]))
            data = data[6 + size :]
        writer.close()

    server = await asyncio.start_server(session, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        socket = await connect(f"ws://127.0.0.1:{port}/ws", timeout=5)
        socket.listen(lambda data: socket.send(b"a" + data[1:]))
        socket.send(b"go")
        await asyncio.wait_for(socket.done, 5)
        await until(lambda: bool(received))
    assert received[:50] == [(ws.TEXT, b"a%d" % i) for i in range(50)]
    assert received[50:] == [(ws.CLOSE, ws.close_payload(4000))]


async def test_a_handshake_nobody_waits_for_leaves_no_unhandled_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # connect() cancelled while asyncio is still making the transport never
    # waits for the handshake; the socket closing then must not leave an
    # exception nobody reads (asyncio logs those as "never retrieved").
    server = await raw_server(b"", then_close=True)  # reads the request, hangs up
    port = server.sockets[0].getsockname()[1]
    url = f"ws://127.0.0.1:{port}/ws"
    async with server:
        loop = asyncio.get_running_loop()
        _, socket = await loop.create_connection(
            lambda: Socket(url, 1024), "127.0.0.1", port
        )
        await asyncio.wait_for(socket.done, 5)
    del socket
    gc.collect()
    await asyncio.sleep(0)  # the loop reports unread exceptions from a callback
    assert "never retrieved" not in caplog.text


async def test_a_handshake_reply_after_connect_gave_up_is_no_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # connect() timed out or was cancelled: its wait for the handshake is
    # cancelled, and the reply may still come before the socket is aborted.
    answer = asyncio.Event()

    async def late(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        await answer.wait()
        writer.write(switching(request))
        await reader.read()
        writer.close()

    server = await asyncio.start_server(late, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        _, socket = await asyncio.get_running_loop().create_connection(
            lambda: Socket(f"ws://127.0.0.1:{port}/ws", 1024), "127.0.0.1", port
        )
        waiting = asyncio.ensure_future(socket.opened())
        await asyncio.sleep(0)
        waiting.cancel()  # as a timeout does
        await asyncio.wait({waiting})
        answer.set()
        await asyncio.sleep(0.2)  # the reply arrives
        assert "data_received() call failed" not in caplog.text
        await socket.close(timeout=0)  # this server never answers a close


async def never_reading_server(
    session: Callable[[asyncio.Transport], Awaitable[object]],
) -> asyncio.Server:
    """A raw server that answers the handshake, stops reading, then runs
    ``session`` on its transport (and aborts it after)."""
    listener = socket_.socket()
    # Its own small receive buffer (no autotuning to 32 MiB): what the client
    # writes backs up into the client, where the bound is checked.
    listener.setsockopt(socket_.SOL_SOCKET, socket_.SO_RCVBUF, 4096)
    listener.bind(("127.0.0.1", 0))

    async def accepted(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        writer.write(switching(await reader.readuntil(b"\r\n\r\n")))
        transport = cast(asyncio.Transport, writer.transport)
        transport.pause_reading()  # never reads again
        try:
            await session(transport)
        finally:
            transport.abort()

    return await asyncio.start_server(accepted, sock=listener)


async def test_a_peer_that_pings_and_never_reads_costs_the_limit_at_most() -> None:
    # Every pong straight to the transport grew a client to 1.86 GB in 25 s.
    # Now one pong is owed at most, on top of WRITE_LIMIT (1 MiB) unsent.
    ping = server_frame(ws.PING, b"p" * 125)
    pings = 400_000  # a pong each: 52 MiB to hold
    sent = 0

    async def flood(transport: asyncio.Transport) -> None:
        nonlocal sent
        while sent < pings and not transport.is_closing():
            transport.write(ping * 100)
            sent += 100
            await asyncio.sleep(0)

    server = await never_reading_server(flood)
    port = server.sockets[0].getsockname()[1]
    held = 0
    async with server:
        socket = await connect(f"ws://127.0.0.1:{port}/ws", timeout=5)
        socket.listen(lambda data: None)
        while sent < pings and not socket.done.done():
            held = max(held, socket.unsent)
            await asyncio.sleep(0)
        await socket.close(timeout=0)
    assert sent == pings  # read to the end: never refused
    assert held <= transport.WRITE_LIMIT + 2 * len(ping) + 8


async def test_a_peer_that_does_not_read_for_the_grace_period_is_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Whatever fills the buffer (here our own large messages): paused for
    # NOT_READING_GRACE (10 s; 1 s here), the socket fails, named.
    monkeypatch.setattr(transport, "NOT_READING_GRACE", 1.0)
    finished = asyncio.Event()
    server = await never_reading_server(lambda _: finished.wait())
    port = server.sockets[0].getsockname()[1]
    async with server:
        socket = await connect(f"ws://127.0.0.1:{port}/ws", timeout=5)
        loop = asyncio.get_running_loop()
        while not socket.paused:
            socket.send(b"x" * 256 * 1024)
            await asyncio.sleep(0)  # the kernel takes what it can
        paused_at = loop.time()
        with pytest.raises(ConnectionLost, match=r"peer not reading: \d+ bytes"):
            await asyncio.wait_for(socket.done, 10)
        assert loop.time() - paused_at >= 1.0
        finished.set()


async def test_pings_read_together_are_answered_by_one_pong_for_the_last() -> None:
    # RFC 6455 §5.5.3: a pong for the most recent ping only. 1,000 pings in
    # one write cost the client one pong, not 1,000.
    pongs: list[tuple[int, bytes]] = []

    async def session(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        writer.write(switching(await reader.readuntil(b"\r\n\r\n")))
        writer.write(b"".join(server_frame(ws.PING, b"%d" % i) for i in range(1000)))
        writer.write(server_frame(ws.CLOSE, ws.close_payload(1000)))
        data = await reader.read()  # until the client closes
        while data:
            size = data[1] & 0x7F  # every frame here is short
            pongs.append(unmask(data[: 6 + size]))
            data = data[6 + size :]
        writer.close()

    server = await asyncio.start_server(session, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        socket = await connect(f"ws://127.0.0.1:{port}/ws", timeout=5)
        await asyncio.wait_for(socket.done, 5)
        await until(lambda: bool(pongs))
    # Reads may split the 1,000: a pong per read, the last for ping 999.
    assert 2 <= len(pongs) <= 1000 // 10
    assert pongs[-2] == (ws.PONG, b"999")
    assert pongs[-1] == (ws.CLOSE, ws.close_payload(1000))
