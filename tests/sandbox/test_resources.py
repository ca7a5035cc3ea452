"""Resources an attacker could exhaust: connections, memory, body and frame sizes.

The attacks of issue 18, at test size: raw sockets that never finish a request,
a customer that stops reading, oversized bodies and frames, a request log and
an upload store that grew without bound. Memory is measured with tracemalloc
(what the attack left allocated once its sockets are gone); a bystander
customer keeps working throughout.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gc
import io
import json
import os
import socket
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest

from rxlivechat.protocol import methods as m
from rxlivechat.sandbox import Bounds, Sandbox

from .conftest import Connect, Rtm
from .test_security import TOKEN_BODY, token_url, upload_url

MB = 1_000_000


@contextlib.contextmanager
def retained() -> Iterator[list[int]]:
    """Bytes still allocated at the end of the block, from allocations made in it."""
    gc.collect()
    tracemalloc.start()
    result = [0]
    try:
        yield result
    finally:
        gc.collect()
        result[0] = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()


async def bystander_works(sandbox: Sandbox, rtm: Rtm) -> None:
    """A logged-in customer is still answered, and a new one can get a token."""
    await rtm.call(m.Ping(), timeout=5)
    async with aiohttp.ClientSession() as http:
        body = {**TOKEN_BODY, "organization_id": sandbox.organization_id}
        async with asyncio.timeout(5), http.post(token_url(sandbox), json=body) as r:
            assert r.status == 200


async def open_raw(port: int, rcvbuf: int | None = None) -> tuple[Any, Any]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    return await asyncio.open_connection(sock=sock)


async def closed_by_server(reader: asyncio.StreamReader, timeout: float) -> bool:
    """Read until EOF (True) or until ``timeout`` passes with the socket open."""
    try:
        async with asyncio.timeout(timeout):
            while await reader.read(65536):
                pass
    except TimeoutError:
        return False
    except ConnectionError:
        pass
    return True


# HTTP connections -----------------------------------------------------------------


@pytest.fixture
async def short() -> AsyncIterator[Sandbox]:
    async with Sandbox(http_idle_timeout=0.5, http_body_timeout=0.5) as sandbox:
        yield sandbox


async def test_silent_and_half_open_connections_are_closed(
    short: Sandbox, connect: Connect
) -> None:
    bystander = await connect(short)
    heads = [b"", b"GET / HTTP/1.1\r\n", b"GET / HTTP/1.1\r\nHost: 127.0.0.1"]
    peers = [await open_raw(short.port) for _ in range(30)]
    for i, (_, writer) in enumerate(peers):
        writer.write(heads[i % len(heads)])
    await bystander_works(short, bystander)
    try:
        closed = await asyncio.gather(
            *(closed_by_server(reader, timeout=10) for reader, _ in peers)
        )
        assert all(closed)
    finally:
        for _, writer in peers:
            writer.close()
    await bystander_works(short, bystander)


async def test_an_idle_keep_alive_connection_is_closed(short: Sandbox) -> None:
    reader, writer = await open_raw(short.port)
    try:
        writer.write(f"GET /nowhere HTTP/1.1\r\nHost: {short.netloc}\r\n\r\n".encode())
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 404")
        assert await closed_by_server(reader, timeout=10)
    finally:
        writer.close()


async def test_a_stalled_body_is_cut_off(short: Sandbox) -> None:
    token = (await short.create_customer_token()).access_token
    reader, writer = await open_raw(short.port)
    try:
        writer.write(
            f"POST /v3.6/customer/action/get_customer?organization_id="
            f"{short.organization_id} HTTP/1.1\r\nHost: {short.netloc}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            "Content-Length: 100\r\n\r\n{".encode()
        )
        assert await closed_by_server(reader, timeout=10)
    finally:
        writer.close()


async def test_idle_connections_beyond_the_cap_are_closed_oldest_first(
    connect: Connect,
) -> None:
    # Timeouts bound how long a silent connection lives, the cap how many:
    # 1,030 of them used to exhaust a 1,024-descriptor limit.
    async with Sandbox(max_idle_connections=20) as sandbox:
        bystander = await connect(sandbox)
        peers = [await open_raw(sandbox.port) for _ in range(60)]
        try:
            closed = await asyncio.gather(
                *(closed_by_server(reader, timeout=3) for reader, _ in peers)
            )
            assert sum(closed) >= 40
            assert not any(closed[-10:])  # the newest are kept
            await bystander_works(sandbox, bystander)
        finally:
            for _, writer in peers:
                writer.close()


def test_timeouts_have_realistic_defaults() -> None:
    sandbox = Sandbox()
    assert 5 <= sandbox.http_idle_timeout <= 120
    assert 5 <= sandbox.http_body_timeout <= 120
    assert 1 <= sandbox.send_timeout <= sandbox.ping_timeout
    assert 64 <= sandbox.max_idle_connections <= 512


# A customer that stops reading ----------------------------------------------------


async def raw_websocket(sandbox: Sandbox, rcvbuf: int) -> tuple[Any, Any]:
    """A WebSocket opened by hand on a socket with a small receive buffer."""
    reader, writer = await open_raw(sandbox.port, rcvbuf=rcvbuf)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        f"GET /v3.6/customer/rtm/ws?organization_id={sandbox.organization_id} "
        f"HTTP/1.1\r\nHost: {sandbox.netloc}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
    return reader, writer


def text_frame(payload: bytes) -> bytes:
    """One masked TEXT frame, as a client sends it (RFC 6455 §5.2)."""
    mask = os.urandom(4)
    size = len(payload)
    if size < 126:
        head = bytes([0x81, 0x80 | size])
    elif size < 1 << 16:
        head = bytes([0x81, 0x80 | 126]) + size.to_bytes(2, "big")
    else:
        head = bytes([0x81, 0x80 | 127]) + size.to_bytes(8, "big")
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + body


async def test_a_customer_that_stops_reading_is_dropped(connect: Connect) -> None:
    async with Sandbox(send_timeout=1.0) as sandbox:
        bystander = await connect(sandbox)
        token = await sandbox.create_customer_token()
        reader, writer = await raw_websocket(sandbox, rcvbuf=4096)
        login = {"action": "login", "payload": {"token": token.access_token}}
        writer.write(text_frame(json.dumps(login).encode()))
        await sandbox.wait_for_login(token.entity_id)
        (stuck,) = sandbox.connections_of(token.entity_id)
        try:
            # It never reads again: 50 MB of frames fill the socket buffers
            # (a few MB), then each send waits on backpressure.
            frame = b"x" * 500_000
            flood = asyncio.gather(*(stuck.send(frame) for _ in range(100)))
            async with asyncio.timeout(15):
                await flood  # every send ends: the stuck peer was dropped
            assert sandbox.connections_of(token.entity_id) == []
            assert await closed_by_server(reader, timeout=10)
        finally:
            writer.close()
        await bystander_works(sandbox, bystander)


# Sizes ----------------------------------------------------------------------------


async def test_frames_over_the_limit_close_the_socket(
    sandbox: Sandbox, connect: Connect
) -> None:
    bystander = await connect(sandbox)
    rtm = await connect(sandbox)
    text = "x" * (sandbox.max_frame_bytes + 1)
    await rtm.send_json({"action": "ping", "payload": {"pad": text}})
    assert await rtm.closed() == aiohttp.WSCloseCode.MESSAGE_TOO_BIG
    await bystander_works(sandbox, bystander)


@pytest.mark.parametrize("where", ["web", "token"])
async def test_http_bodies_over_the_limit_are_refused(
    sandbox: Sandbox, http: aiohttp.ClientSession, where: str
) -> None:
    token = (await sandbox.create_customer_token()).access_token
    url = sandbox.action_url("get_customer") if where == "web" else token_url(sandbox)
    body = b'{"pad": "' + b"x" * sandbox.max_body_bytes + b'"}'
    async with http.post(
        url,
        data=io.BytesIO(body),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        },
    ) as r:
        assert r.status == 413


@pytest.mark.parametrize("expires_in", [-1, 0, 10**15, 2**62, "soon", 1.5])
async def test_expires_in_is_validated(
    sandbox: Sandbox, http: aiohttp.ClientSession, expires_in: Any
) -> None:
    body = {
        **TOKEN_BODY,
        "organization_id": sandbox.organization_id,
        "expires_in": expires_in,
    }
    async with http.post(token_url(sandbox), json=body) as r:
        assert r.status == 400
        assert (await r.json())["oauth_exception"] == "invalid_request"


async def test_expires_in_within_bounds(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    for expires_in in (1, 60, sandbox.tokens.max_ttl):
        body = {
            **TOKEN_BODY,
            "organization_id": sandbox.organization_id,
            "expires_in": expires_in,
        }
        async with http.post(token_url(sandbox), json=body) as r:
            assert r.status == 200
            assert (await r.json())["expires_in"] == expires_in


# Memory ---------------------------------------------------------------------------


async def test_frames_refused_before_login_are_not_kept(
    http: aiohttp.ClientSession, connect: Connect
) -> None:
    async with Sandbox() as sandbox:
        bystander = await connect(sandbox)
        frame = json.dumps(
            {
                "action": "send_event",
                "payload": {
                    "chat_id": "X",
                    "event": {"type": "message", "text": "x" * 900_000},
                },
            }
        )
        with retained() as kept:
            async with http.ws_connect(sandbox.ws_url) as ws:
                for _ in range(30):
                    await ws.send_str(frame)
                    reply = await ws.receive_json(timeout=5)
                    assert reply["payload"]["error"]["type"] == "authorization"
            await asyncio.sleep(0.1)
        # 30 x 0.9 MB went through; what stays is a summary per request.
        assert kept[0] < 3 * MB, kept[0]
        assert sandbox.count("send_event") == 30
        assert all(r.payload is None for r in sandbox.requests.of("send_event"))
        await bystander_works(sandbox, bystander)


async def test_the_request_log_keeps_a_bounded_number_of_payload_bytes(
    connect: Connect,
) -> None:
    # 400 KB of session fields: over the default customer_bytes (64 KiB).
    bounds = Bounds(customer_bytes=MB)
    async with Sandbox(request_log_bytes=2 * MB, bounds=bounds) as sandbox:
        rtm = await connect(sandbox)
        fields = [{"k": "x" * 400_000}]
        with retained() as kept:
            for _ in range(30):
                await rtm.call(m.SetCustomerSessionFields(session_fields=fields))
        assert kept[0] < 8 * MB, kept[0]
        assert sandbox.count("set_customer_session_fields") == 30
        logged = sandbox.requests.of("set_customer_session_fields")
        assert len(logged) == 30
        assert logged[-1].payload == m.SetCustomerSessionFields(session_fields=fields)
        assert logged[0].payload is None  # evicted, still counted
        await bystander_works(sandbox, rtm)


async def test_the_request_log_keeps_a_bounded_number_of_entries(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    sandbox.requests.max_entries = 50
    body = {**TOKEN_BODY, "organization_id": sandbox.organization_id}
    for _ in range(120):
        async with http.post(token_url(sandbox), json=body) as r:
            assert r.status == 200
    assert len(sandbox.requests) == 50
    assert sandbox.count("cookie") == 120
    assert sandbox.count(transport="accounts") == 120


async def test_uploads_have_a_total_budget(
    http: aiohttp.ClientSession, connect: Connect
) -> None:
    async with Sandbox(upload_budget_bytes=3 * MB, max_upload_bytes=MB) as sandbox:
        bystander = await connect(sandbox)
        token = (await sandbox.create_customer_token()).access_token
        with retained() as kept:
            urls = [
                await upload_url(http, sandbox, token, os.urandom(MB))
                for _ in range(30)
            ]
        assert kept[0] < 8 * MB, kept[0]
        async with http.get(urls[0]) as r:
            assert r.status == 404  # evicted, oldest first
        async with http.get(urls[-1]) as r:
            assert r.status == 200
            assert len(await r.read()) == MB
        await bystander_works(sandbox, bystander)


def test_memory_budgets_have_defaults() -> None:
    sandbox = Sandbox()
    assert sandbox.max_upload_bytes <= sandbox.uploads.budget <= 512 * MB
    assert 0 < sandbox.requests.max_bytes <= 128 * MB
    assert 0 < sandbox.requests.max_entries <= 1_000_000
    assert 64 * 1024 <= sandbox.max_frame_bytes <= sandbox.max_upload_bytes


async def test_json_nested_too_deep_is_refused_and_the_socket_lives(
    sandbox: Sandbox, connect: Connect
) -> None:
    rtm = await connect(sandbox)
    nested = "[" * 5000 + "]" * 5000
    await rtm.ws.send_str(f'{{"action": "ping", "payload": {{"x": {nested}}}}}')
    reply = json.loads((await rtm.ws.receive(timeout=3)).data)
    assert reply["payload"]["error"]["type"] == "validation"
    await rtm.call(m.Ping())
