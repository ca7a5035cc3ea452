"""A minimal, fast stand-in for the Customer Chat API RTM endpoint (127.0.0.1 only).

It speaks the real frame format and nothing more:

* every request gets a success response
  ``{"request_id", "action", "type": "response", "success": true, "payload": ...}``:
  ``login`` answers a customer, ``list_chats`` an empty summary, ``send_event``
  first pushes the requester's copy of the new event (``incoming_event`` with the
  request's ``request_id``, docs/protocol.md §1.4), then answers ``{"event_id"}``; any
  other action answers ``{}``;
* a ``send_event`` to the chat :data:`HOLD_CHAT_ID` is never answered (requests
  left waiting, for the per-frame-cost scenario);
* ``GET /burst?org=<organization_id>&n=<N>`` sends N ``incoming_event`` pushes
  (~425 bytes each) to every socket opened with that ``organization_id``; the
  reply comes at once, the pushes follow. They are framed once, ahead of time,
  and written in ~200 KiB chunks, so the stub outpaces any client.

Run: ``python -m benchmarks.stub_server [--port 0] [--prepare N]``; prints
``READY <port>`` once listening, and stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import itertools
import signal
import struct
import time
from typing import Any

import msgspec
from aiohttp import WSMsgType, web
from aiohttp.abc import AbstractStreamWriter

HOLD_CHAT_ID = "HOLD"
RTM_PATHS = ("/v3.6/customer/rtm/ws", "/v3.7/customer/rtm/ws")
CHAT_ID = "PJ0MRSHTDG"
THREAD_ID = "K600PKZON8"
MAX_BURST = 1_000_000
BURST_CHUNK = 512
"""Frames written at once (about 200 KiB)."""


class _Request(msgspec.Struct):
    action: str
    request_id: str | None = None
    payload: msgspec.Raw = msgspec.Raw(b"{}")


class _SendEvent(msgspec.Struct):
    chat_id: str
    event: dict[str, Any]


# Field order is the wire order; UNSET fields are left out.
class _Response(msgspec.Struct, kw_only=True):
    request_id: str | None
    action: str
    type: str = "response"
    success: bool = True
    payload: Any


class _Push(msgspec.Struct, kw_only=True):
    request_id: str | msgspec.UnsetType = msgspec.UNSET
    action: str
    type: str = "push"
    version: str = "3.6"
    payload: Any


_encode = msgspec.json.Encoder().encode
_decode_request = msgspec.json.Decoder(_Request).decode
_decode_send_event = msgspec.json.Decoder(_SendEvent).decode

_FIXED_RESULTS: dict[str, Any] = {
    "list_chats": {"chats_summary": [], "total_chats": 0},
}


def push_event(i: int) -> dict[str, Any]:
    """The ``i``-th event of a burst: a message, about 420 bytes once framed."""
    return {
        "id": f"{THREAD_ID}_{i}",
        "created_at": "2026-03-01T10:11:12.123456Z",
        "type": "message",
        "text": "Hello, I have a question about my order number 12345 - "
        "can you help me please?",
        "author_id": "b7eff798-f8df-4364-8059-649c35c9ed0c",
        "visibility": "all",
        "properties": {"routing": {"score": 0.75, "tags": ["vip", "eu"]}},
    }


def push_frame(i: int) -> bytes:
    """The ``i``-th push of a burst, as one WebSocket TEXT frame (server side)."""
    payload = {"chat_id": CHAT_ID, "thread_id": THREAD_ID, "event": push_event(i)}
    data = _encode(_Push(action="incoming_event", payload=payload))
    return _ws_text_header(len(data)) + data


def _ws_text_header(size: int) -> bytes:
    """RFC 6455 header of an unmasked, final TEXT frame of ``size`` bytes."""
    if size < 126:
        return struct.pack("!BB", 0x81, size)
    if size < 1 << 16:
        return struct.pack("!BBH", 0x81, 126, size)
    return struct.pack("!BBQ", 0x81, 127, size)


@dataclasses.dataclass(eq=False)
class Peer:
    """One client socket. Writes take the lock, so frames never interleave."""

    ws: web.WebSocketResponse
    raw: AbstractStreamWriter
    """The bytes under the WebSocket: bursts are written pre-framed."""
    lock: asyncio.Lock = dataclasses.field(default_factory=asyncio.Lock)

    async def send(self, data: bytes) -> None:
        async with self.lock:
            await self.ws.send_frame(data, WSMsgType.TEXT)


class Stub:
    def __init__(self) -> None:
        self.peers: dict[str, set[Peer]] = {}
        self.burst_frames = bytearray()
        self.burst_ends: list[int] = []
        """``burst_ends[i]``: where frame ``i`` of :attr:`burst_frames` ends."""
        self.tasks: set[asyncio.Task[None]] = set()
        self.event_ids = itertools.count(1)
        self.customer_ids = itertools.count(1)
        self.stats: dict[str, Any] = {"requests": 0, "last_burst_send_s": None}

    def app(self) -> web.Application:
        app = web.Application()
        for path in RTM_PATHS:
            app.router.add_get(path, self.rtm)
        app.router.add_get("/burst", self.burst)
        app.router.add_get("/stats", self.get_stats)
        return app

    async def rtm(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, decode_text=False)
        peer = Peer(ws, await ws.prepare(request))
        org = request.query.get("organization_id", "")
        peers = self.peers.setdefault(org, set())
        peers.add(peer)
        customer = {"id": f"customer-{next(self.customer_ids)}", "type": "customer"}
        login = {"customer": customer, "has_active_thread": False, "chats": []}
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT or msg.type is WSMsgType.BINARY:
                    await self.answer(peer, msg.data, login)
        finally:
            peers.discard(peer)
            if not peers:
                self.peers.pop(org, None)
        return ws

    async def answer(self, peer: Peer, data: bytes, login: dict[str, Any]) -> None:
        self.stats["requests"] += 1
        request = _decode_request(data)
        action = request.action
        payload: Any
        if action == "send_event":
            sent = _decode_send_event(request.payload)
            if sent.chat_id == HOLD_CHAT_ID:
                return
            event_id = f"{THREAD_ID}_s{next(self.event_ids)}"
            event = sent.event | {
                "id": event_id,
                "created_at": "2026-03-01T10:11:12.123456Z",
                "author_id": login["customer"]["id"],
            }
            echo = _Push(
                action="incoming_event",
                payload={
                    "chat_id": sent.chat_id,
                    "thread_id": THREAD_ID,
                    "event": event,
                },
                request_id=request.request_id or msgspec.UNSET,
            )
            await peer.send(_encode(echo))
            payload = {"event_id": event_id}
        elif action == "login":
            payload = login
        else:
            payload = _FIXED_RESULTS.get(action, {})
        response = _Response(
            action=action, payload=payload, request_id=request.request_id
        )
        await peer.send(_encode(response))

    def prepare_burst(self, n: int) -> None:
        """Frame the first ``n`` pushes once, so that a burst costs only a memcpy."""
        for i in range(len(self.burst_ends), n):
            self.burst_frames += push_frame(i)
            self.burst_ends.append(len(self.burst_frames))

    async def burst(self, request: web.Request) -> web.Response:
        n = int(request.query.get("n", "10000"))
        if not 0 < n <= MAX_BURST:
            raise web.HTTPBadRequest(text=f"n must be in 1..{MAX_BURST}")
        targets = list(self.peers.get(request.query.get("org", ""), ()))
        self.prepare_burst(n)  # a no-op up to --prepare pushes
        task = asyncio.get_running_loop().create_task(self.send_burst(targets, n))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        answer = {"scheduled": n, "sockets": len(targets), "bytes": self.burst_ends[0]}
        return web.json_response(answer)

    async def send_burst(self, targets: list[Peer], n: int) -> None:
        started = time.perf_counter()
        frames = memoryview(self.burst_frames)
        for peer in targets:
            with contextlib.suppress(ConnectionError, RuntimeError):
                start = 0
                for i in range(BURST_CHUNK - 1, n + BURST_CHUNK - 1, BURST_CHUNK):
                    end = self.burst_ends[min(i, n - 1)]
                    async with peer.lock:  # a reply may go between two chunks
                        await peer.raw.write(frames[start:end])
                    start = end
        frames.release()
        self.stats["last_burst_send_s"] = time.perf_counter() - started

    async def get_stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats)

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for peers in list(self.peers.values()):
            for peer in list(peers):
                await peer.ws.close()


async def serve(port: int, prepare: int) -> None:
    stub = Stub()
    stub.prepare_burst(prepare)
    runner = web.AppRunner(stub.app(), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    bound = runner.addresses[0][1]
    print(f"READY {bound}", flush=True)
    try:
        await stop.wait()
    finally:
        await stub.stop()
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument(
        "--prepare", type=int, default=100_000, help="pushes framed before READY"
    )
    args = parser.parse_args()
    asyncio.run(serve(args.port, min(args.prepare, MAX_BURST)))


if __name__ == "__main__":
    main()
