"""The client against a server that misbehaves on purpose (issue 18, the SDK half).

Each test drives the public SDK against :class:`~tests.engine.hostile.HostileServer`
and checks that a broken or hostile answer ends in a typed ``error`` event, a
failed request or a bounded walk, never a hang, a loop or a growing heap.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import subprocess
import sys
import tracemalloc
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

import rxlivechat
from rxlivechat import CustomerSDK
from rxlivechat.engine.websocket import MAX_FRAGMENTS
from rxlivechat.exceptions import (
    ConnectError,
    ConnectionLost,
    InternalServerError,
    LiveChatError,
    ProtocolError,
    RequestTimeoutError,
)
from rxlivechat.protocol.frames import Push
from rxlivechat.protocol.methods import SendEvent
from rxlivechat.protocol.models import Message

from ..helpers import CREATED, Recorder, awaited, until
from .hostile import (
    Connection,
    HostileServer,
    Request,
    error_reply,
    incoming_event,
    message,
    server_frame,
    thread,
)

MiB = 1024 * 1024


@pytest.fixture
async def server() -> AsyncIterator[HostileServer]:
    async with HostileServer() as hostile:
        yield hostile


def start(server: HostileServer, **options: Any) -> tuple[CustomerSDK, Recorder]:
    """An SDK connecting to ``server``, with a recorder of its events."""
    sdk = rxlivechat.init(auto_connect=False, **server.options(**options))
    CREATED.append(sdk)
    recorder = Recorder(sdk)
    sdk.connect()
    return sdk, recorder


def pushes_seen(sdk: CustomerSDK) -> list[int]:
    """A one-item counter of the pushes ``sdk`` received (kept small, unlike a
    :class:`Recorder`, for tests that measure memory)."""
    seen = [0]

    def count(frame: Any) -> None:
        seen[0] += isinstance(frame, Push)

    sdk.frames.subscribe(count)
    return seen


# Reconnect recovery -----------------------------------------------------------------


async def test_a_chat_whose_recovery_fails_is_skipped_and_reported(
    server: HostileServer,
) -> None:
    server.chats = ["broken", "fine"]
    missed = message("E1", "while you were away", "2026-01-01T00:00:01.000000Z")

    async def list_threads(connection: Connection, request: Request) -> Any:
        if request["payload"]["chat_id"] == "broken":
            return error_reply(request, "internal", "this chat is broken")
        return {"threads": [thread("T1", missed)], "found_threads": 1}

    server.handlers["list_threads"] = list_threads
    sdk, events = start(server)
    await sdk.wait_connected(5)
    await server.drop_all()

    await until(lambda: bool(events.of("new_event")), timeout=5)
    assert events.of("new_event")[0].event.id == "E1"
    assert events.of("connection_restored")
    assert [type(e) for e in events.of("error")] == [InternalServerError]
    assert sdk.connected
    assert server.counts["login"] == 2  # one reconnect, not a loop


async def test_a_server_repeating_next_page_id_cannot_hold_the_walk(
    server: HostileServer,
) -> None:
    server.chats = ["endless"]

    async def list_threads(connection: Connection, request: Request) -> Any:
        newer = message(
            f"E{server.counts['list_threads']}", "x", "2026-01-01T00:00:01.000000Z"
        )
        page = {"threads": [thread("T1", newer)], "found_threads": 1}
        return page | {"next_page_id": "the-same-page"}

    server.handlers["list_threads"] = list_threads
    sdk, events = start(server)
    await sdk.wait_connected(5)
    await server.drop_all()

    await until(lambda: bool(events.of("error")), timeout=5)
    assert isinstance(events.of("error")[0], ProtocolError)
    assert server.counts["list_threads"] <= 3  # stopped at the first repeat
    await sdk.get_customer()  # and the connection serves requests
    assert server.counts["login"] == 2


async def test_a_walk_through_endless_new_pages_is_capped(
    server: HostileServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.chats = ["endless"]
    pages = 0

    async def list_threads(connection: Connection, request: Request) -> Any:
        nonlocal pages
        pages += 1
        newer = message(f"E{pages}", "x", "2026-01-01T00:00:01.000000Z")
        page = {"threads": [thread("T1", newer)], "found_threads": 1}
        return page | {"next_page_id": f"page-{pages}"}

    server.handlers["list_threads"] = list_threads
    sdk, events = start(server)
    await sdk.wait_connected(5)
    walked_at_login = pages
    await server.drop_all()

    # The walk's events come out together, once it stopped.
    await until(lambda: bool(events.of("new_event")), timeout=30)
    assert pages - walked_at_login == 100  # MAX_RECOVERY_PAGES
    assert "stopped after 100 pages" in caplog.text
    assert server.counts["login"] == 2


async def test_pings_continue_during_recovery(
    server: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("rxlivechat.engine.pings.PING_INTERVAL", 0.1)
    server.chats = ["slow"]
    pinged = asyncio.Event()

    def restored(connection: Connection) -> bool:
        return connection is not server.connections[0]

    async def ping(connection: Connection, request: Request) -> Any:
        if restored(connection):
            pinged.set()
        return {}

    async def list_threads(connection: Connection, request: Request) -> Any:
        if restored(connection):  # the recovery walk waits for a ping
            await pinged.wait()
        return {"threads": [], "found_threads": 0}

    server.handlers["ping"] = ping
    server.handlers["list_threads"] = list_threads
    sdk, events = start(server, request_timeout=10.0)
    await sdk.wait_connected(5)
    await server.drop_all()
    async with asyncio.timeout(5):
        await pinged.wait()
    await until(lambda: bool(events.of("connection_restored")), timeout=5)
    await sdk.get_customer()
    assert not events.of("error")


# Timeouts ---------------------------------------------------------------------------


async def test_a_hanging_token_endpoint_is_an_error_event_and_a_retry(
    server: HostileServer,
) -> None:
    async def hang(request: web.Request) -> web.StreamResponse:
        await server.hang()
        return web.Response(status=504)

    server.token = hang
    sdk, events = start(server, request_timeout=0.2)
    await until(lambda: len(events.of("error")) >= 2, timeout=10)
    assert all(isinstance(e, LiveChatError) for e in events.of("error"))
    assert server.counts["token"] >= 2
    assert not sdk.connected


async def test_a_hanging_web_api_call_times_out(server: HostileServer) -> None:
    async def hang(request: web.Request) -> web.StreamResponse:
        await server.hang()
        return web.Response(status=504)

    server.web = hang
    sdk, _ = start(server, request_timeout=0.3)
    await sdk.wait_connected(5)
    with pytest.raises(ConnectError):
        async with asyncio.timeout(10):  # the test's own bound, far above 0.3 s
            await sdk.list_license_properties()
    with pytest.raises(ConnectError):
        async with asyncio.timeout(10):
            await sdk.upload_file(b"hello", name="hello.txt")


async def test_an_endless_token_reply_is_refused_at_the_size_limit(
    server: HostileServer,
) -> None:
    sent = 0

    async def endless(request: web.Request) -> web.StreamResponse:
        nonlocal sent
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(b'{"access_token": "')
        chunk = b"x" * MiB
        while sent < 100 * MiB:  # an end, so the test ends on a client that reads on
            await response.write(chunk)
            sent += len(chunk)
        await response.write(b'"}')
        return response

    server.token = endless
    sdk, events = start(server, request_timeout=30.0)
    await until(lambda: bool(events.of("error")), timeout=30)
    assert isinstance(events.of("error")[0], LiveChatError)
    await sdk.disconnect()
    assert sent < 40 * MiB  # 16 MiB read, plus what the socket buffers held


def test_a_400_mb_token_reply_costs_the_limit_not_the_body() -> None:
    # In a child process, so its peak RSS is this reply's alone.
    script = Path(__file__).parents[2] / "benchmarks" / "hostile.py"
    command = [sys.executable, str(script), "--child", "--case", "endless-token"]
    done = subprocess.run(
        [*command, "--size", "400"], capture_output=True, text=True, check=True
    )
    figures = json.loads(done.stdout.splitlines()[-1])
    assert figures["served_mib"] < 64  # the client stopped reading at 16 MiB
    assert figures["peak_rss_growth_mib"] < 128  # read whole: 800 MiB and more


# Flow control -----------------------------------------------------------------------


@pytest.mark.parametrize("how", ["cancel", "timeout"])
async def test_an_abandoned_request_keeps_its_slot_until_answered(how: str) -> None:
    async with HostileServer(max_pending=10) as server:
        held = asyncio.Event()

        async def get_customer(connection: Connection, request: Request) -> Any:
            await held.wait()
            return {"type": "customer", "id": "hostile-customer"}

        server.handlers["get_customer"] = get_customer
        timeout = 0.5 if how == "timeout" else 10.0
        sdk, _ = start(server, request_timeout=timeout)
        await sdk.wait_connected(5)
        first = [asyncio.ensure_future(awaited(sdk.get_customer())) for _ in range(10)]
        await until(lambda: server.counts["get_customer"] == 10)
        if how == "cancel":
            for task in first:
                task.cancel()
        results = await asyncio.gather(*first, return_exceptions=True)
        expected = asyncio.CancelledError if how == "cancel" else RequestTimeoutError
        assert all(isinstance(r, expected) for r in results)

        second = [asyncio.ensure_future(awaited(sdk.get_customer())) for _ in range(10)]
        await asyncio.sleep(0.1)  # let a client that would write them do so
        held.set()
        customers = await asyncio.gather(*second)
        assert [c.id for c in customers] == ["hostile-customer"] * 10
        assert server.refused == 0
        assert max(c.max_pending_seen for c in server.connections) <= 10


# The socket under a peer that does not read ------------------------------------------


def first_socket_then(
    server: HostileServer, then: Callable[[Connection], Awaitable[None]]
) -> list[asyncio.Task[None]]:
    """On the first socket only, once the customer is connected (the chats
    summary answered), run ``then`` in the background; returns its task."""
    tasks: list[asyncio.Task[None]] = []

    async def list_chats(connection: Connection, request: Request) -> Any:
        if connection is server.connections[0] and not tasks:

            async def later() -> None:
                await asyncio.sleep(0.1)  # the summary's reply goes out first
                await then(connection)

            tasks.append(asyncio.ensure_future(later()))
        return {"chats_summary": [], "total_chats": 0}

    server.handlers["list_chats"] = list_chats
    return tasks


def socket_paused(sdk: CustomerSDK) -> bool:
    socket = sdk._engine._requests._socket
    return socket is not None and socket.paused


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_a_server_that_pings_and_never_reads_is_dropped_and_nothing_is_lost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 64 KiB and 1 s (the defaults are 1 MiB and 10 s: test_transport.py).
    # One pong per read now, so filling the kernel's 4 MiB send buffer takes
    # a while (~10 s on a loaded 2-core box).
    monkeypatch.setattr("rxlivechat.engine.transport.WRITE_LIMIT", 64 * 1024)
    monkeypatch.setattr("rxlivechat.engine.transport.NOT_READING_GRACE", 1.0)
    ping = server_frame(0x9, b"p" * 125)

    async def flood(connection: Connection) -> None:
        connection.stop_reading()
        await connection.write_frames(ping)

    async with HostileServer(receive_buffer=4096) as server:
        server.handlers["send_event"] = sent_event
        flooding = first_socket_then(server, flood)
        sdk, events = start(server, request_timeout=30.0)
        await sdk.wait_connected(5)
        await until(lambda: socket_paused(sdk), timeout=60)
        # Made while paused: it waits in the queue, never written to the
        # socket that drops, so even send_event (not safe to repeat) goes out
        # once, on the next socket.
        reply = asyncio.ensure_future(
            awaited(sdk.call(SendEvent(chat_id="C1", event=Message(text="x"))))
        )
        await until(lambda: sdk._engine.waiting == 1)
        assert sdk._engine.in_flight == 0
        assert (await asyncio.wait_for(reply, 20)).event_id == "E1"
        await flooding[0]
        (error,) = events.of("error")
        assert isinstance(error, ConnectionLost)
        assert "peer not reading" in str(error)
        assert events.names().count("connection_restored") == 1
        assert server.counts["send_event"] == 1
        assert server.counts["login"] == 2


async def sent_event(connection: Connection, request: Request) -> Any:
    return {"event_id": "E1"}


async def test_endless_empty_continuation_frames_are_refused_then_reconnected(
    server: HostileServer,
) -> None:
    # Counted by payload alone they were free: 480 MiB of b"" in 25 s.
    async def flood(connection: Connection) -> None:
        connection.transport.write(server_frame(0x1, b"{", final=False))
        await connection.write_frames(server_frame(0x0, b"", final=False) * 1000)

    flooding = first_socket_then(server, flood)
    sdk, events = start(server)
    await sdk.wait_connected(5)
    await until(lambda: bool(events.of("connection_restored")), timeout=10)
    await flooding[0]
    (error,) = events.of("error")
    assert isinstance(error, ConnectionLost)
    assert f"over {MAX_FRAGMENTS} frames" in str(error)
    assert isinstance(error.__cause__, ProtocolError)
    assert server.counts["login"] == 2


async def test_a_dead_socket_is_aborted_and_a_request_made_meanwhile_completes(
    server: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Half-open: the server reads nothing more (not our pings, not a close).
    # The ping, sent at 0.3 s, fails at 4.3 s; the request, made at ~2.3 s,
    # must be answered by 6.3 s. A polite close first (5 s, unanswered) would
    # reconnect at 9.3 s: too late.
    monkeypatch.setattr("rxlivechat.engine.pings.PING_INTERVAL", 0.3)
    stopped = asyncio.Event()

    async def half_open(connection: Connection) -> None:
        connection.stop_reading()
        stopped.set()

    first_socket_then(server, half_open)
    sdk, events = start(server, request_timeout=4.0)
    await sdk.wait_connected(5)
    await stopped.wait()
    await asyncio.sleep(2.0)
    loop = asyncio.get_running_loop()
    asked = loop.time()
    customer = await sdk.get_customer()  # fails at 4 s (request_timeout)
    waited = loop.time() - asked
    assert customer.id == "hostile-customer"
    assert server.counts["get_customer"] == 1  # the first copy never arrived
    print(f"the request made on the half-open socket took {waited:.2f} s")
    assert waited < 4.0
    await events.wait_for("connection_restored")
    assert events.names().count("connection_lost") == 1
    assert not events.of("error")  # a drop, not a failure


# Codec ------------------------------------------------------------------------------


async def test_a_deeply_nested_push_is_reported_not_reconnected(
    server: HostileServer,
) -> None:
    nested = "[" * 5000 + "]" * 5000

    async def nest(connection: Connection) -> None:
        await connection.send_raw(
            '{"action": "incoming_event", "type": "push", "payload": '
            f'{{"chat_id": "C1", "thread_id": "T1", "event": {nested}}}}}'
        )

    server.on_login = nest
    sdk, events = start(server)
    await until(lambda: bool(events.of("error")), timeout=5)
    assert isinstance(events.of("error")[0], ProtocolError)
    await sdk.get_customer()  # after the push: the same socket still serves
    assert server.counts["login"] == 1


async def test_a_reply_that_does_not_decode_fails_its_request_at_once(
    server: HostileServer,
) -> None:
    async def garbage(connection: Connection, request: Request) -> Any:
        return {"type": "customer", "id": 42}  # an id must be a string

    server.handlers["get_customer"] = garbage
    sdk, _ = start(server, request_timeout=60.0)
    await sdk.wait_connected(5)
    with pytest.raises(ProtocolError):
        async with asyncio.timeout(5):  # far below the request timeout
            await sdk.get_customer()


async def test_a_login_reply_that_does_not_decode_fails_the_login_at_once(
    server: HostileServer,
) -> None:
    async def garbage(connection: Connection, request: Request) -> Any:
        return {"customer": {"type": "customer", "id": ["not", "a", "string"]}}

    server.handlers["login"] = garbage
    _, events = start(server, request_timeout=60.0)
    await until(lambda: server.counts["login"] >= 2, timeout=5)
    assert isinstance(events.of("error")[0], ProtocolError)


@pytest.mark.parametrize(
    "body",
    [
        b"<html>not a token</html>",
        b"[" * 5000 + b"]" * 5000,
        json.dumps({"access_token": "t", "expires_in": 10**15}).encode(),
        json.dumps({"access_token": "t", "expires_in": -1}).encode(),
    ],
    ids=["html", "nested", "huge-expires-in", "negative-expires-in"],
)
async def test_a_token_endpoint_answering_garbage_is_a_typed_error(
    server: HostileServer, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    async def garbage(request: web.Request) -> web.StreamResponse:
        return web.Response(body=body, content_type="application/json")

    server.token = garbage
    caplog.set_level(logging.DEBUG, logger="rxlivechat")
    _, events = start(server)
    await until(lambda: len(events.of("error")) >= 2, timeout=5)
    assert all(isinstance(e, ConnectError) for e in events.of("error"))
    assert not [r for r in caplog.records if r.exc_info]  # no traceback logged
    assert server.counts["login"] == 0


async def test_a_frame_over_the_size_limit_is_an_error_then_a_reconnect(
    server: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("rxlivechat.engine.transport.MAX_MESSAGE_SIZE", MiB)

    sdk, events = start(server)
    await sdk.wait_connected(5)
    await server.connections[0].push("incoming_typing_indicator", {"x": "y" * 2 * MiB})
    await until(lambda: bool(events.of("connection_restored")), timeout=5)
    assert [type(e) for e in events.of("error")] == [ConnectionLost]
    assert server.counts["login"] == 2


# Memory -----------------------------------------------------------------------------


async def test_pushes_carrying_a_pending_request_id_are_bounded(
    server: HostileServer,
) -> None:
    flood, done = 5_000, asyncio.Event()
    text = "z" * 2_000

    async def get_customer(connection: Connection, request: Request) -> Any:
        for i in range(flood):
            event = message(f"F{i}", text, "2026-01-01T00:00:01.000000Z")
            await connection.push(
                "incoming_event",
                incoming_event("C1", event),
                request_id=request["request_id"],
            )
        await done.wait()
        return {"type": "customer", "id": "hostile-customer"}

    server.handlers["get_customer"] = get_customer
    sdk = rxlivechat.init(**server.options(request_timeout=120.0))
    CREATED.append(sdk)
    await sdk.wait_connected(5)
    seen = pushes_seen(sdk)
    gc.collect()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        pending = asyncio.ensure_future(awaited(sdk.get_customer()))
        await until(lambda: seen[0] == flood, timeout=60)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - baseline
    finally:
        tracemalloc.stop()
        done.set()
    await pending
    assert grown < 4 * MiB  # unbounded: 5,000 pushes of 2 kB each, over 10 MiB


async def chat_memory(server: HostileServer, chats: int) -> int:
    """Bytes an SDK holds after pushes named ``chats`` distinct chats."""

    async def flood(connection: Connection) -> None:
        for i in range(chats):
            event = message(f"E{i}", "hi", "2026-01-01T00:00:01.000000Z")
            await connection.push("incoming_event", incoming_event(f"C{i}", event))
            await connection.push(
                "chat_deactivated", {"chat_id": f"C{i}", "thread_id": "T1"}
            )

    sdk = rxlivechat.init(auto_connect=False, **server.options())
    CREATED.append(sdk)
    seen = pushes_seen(sdk)
    gc.collect()
    tracemalloc.start()
    try:
        sdk.connect()
        await sdk.wait_connected(5)
        baseline = tracemalloc.get_traced_memory()[0]
        await flood(server.connections[-1])
        await until(lambda: seen[0] == 2 * chats, timeout=60)
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - baseline
    finally:
        tracemalloc.stop()
        await sdk.destroy()


async def test_chat_ids_seen_in_pushes_are_bounded(
    server: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("rxlivechat.engine.engine.MAX_CHATS", 100)
    grown = await chat_memory(server, 5_000)
    assert grown < 1 * MiB  # unbounded: 5,000 chats remembered, over 3 MiB


async def test_an_sdk_dropped_without_destroy_is_collected_and_closes(
    server: HostileServer,
) -> None:
    sdk = rxlivechat.init(**server.options())
    await sdk.wait_connected(5)
    await sdk.get_customer()
    collected = weakref.ref(sdk)
    # Dropping the last reference may collect it at once, or leave it to gc.
    with pytest.warns(ResourceWarning, match="garbage-collected"):  # noqa: PT031
        del sdk
        gc.collect()
    assert collected() is None
    await until(lambda: all(c.ws.closed for c in server.connections), timeout=5)
