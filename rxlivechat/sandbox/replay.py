"""A server that plays a cassette back to a customer (``Sandbox.replay``).

.. code-block:: python

    async with Sandbox.replay("session.jsonl") as replay:
        sdk = rxlivechat.init(
            organization_id=replay.organization_id,
            client_id="any",
            api_url=replay.api_url,
            accounts_url=replay.accounts_url,
        )
        ...  # the same calls as when the cassette was recorded
        await sdk.destroy()
    # strict: leaving raises CassetteMismatch if the client diverged

One task plays the records in order (:class:`~.replay_script.Script`): at a
request it waits for the customer to send it; at a frame the server sent it
sends it (with its recorded delay divided by ``speed``, or at once with
``"instant"``); at a socket the server closed, it drops the customer's; an HTTP
exchange is answered when its turn comes. Pings are answered on the spot.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
from collections.abc import Callable
from types import TracebackType
from typing import Any, Literal, cast

import msgspec
from aiohttp import BodyPartReader, WSMsgType, web

from ..protocol.cassette import (
    CassetteError,
    CassetteMismatch,
    Close,
    Http,
    Open,
    Receive,
    Send,
    read,
)
from .replay_script import Script

__all__ = ["NOT_STRICT_PATIENCE", "Replay"]

log = logging.getLogger("rxlivechat.sandbox")

NOT_STRICT_PATIENCE = 2.0
"""Seconds a replay that is not strict waits for a request before skipping it."""

END_GRACE = 10.0
"""Seconds leaving the replay waits for it to reach the cassette's end (less
once it waits for a request from a client that has gone)."""


class Replay:
    """Serves a cassette back: its server's frames, its HTTP replies.

    Args:
        cassette: the cassette's path.
        strict: a request the cassette does not have, or one it has that the
            client never sent, fails the replay (:class:`CassetteMismatch` on
            leaving); otherwise it is answered with an error, or skipped, and
            ``script.errors`` says what diverged.
        speed: ``1.0`` keeps the recorded delays before each server frame,
            ``2.0`` halves them; ``"instant"`` sends each as soon as it is due.
        host: the address to bind (loopback).

    Raises:
        CassetteError: the cassette cannot be read.
    """

    def __init__(
        self,
        cassette: str | os.PathLike[str],
        *,
        strict: bool = True,
        speed: float | Literal["instant"] = 1.0,
        host: str = "127.0.0.1",
    ) -> None:
        if speed == "instant":
            self._speed: float | None = None
        elif speed > 0:
            self._speed = float(speed)
        else:
            raise ValueError(f"speed must be > 0 or 'instant', not {speed!r}")
        try:
            with open(cassette, "rb") as file:
                self.header, records = read(file)
        except OSError as exc:
            raise CassetteError(f"cannot read {cassette}: {exc}") from None
        self.script = Script(records)
        self.strict = strict
        self._host = host
        self.port = 0
        self._sockets: list[web.WebSocketResponse] = []
        self._transports: list[asyncio.BaseTransport | None] = []
        self._changed = asyncio.Event()
        self._turns: dict[int, asyncio.Future[None]] = {}
        self._runner: web.AppRunner | None = None
        self._pump: asyncio.Task[None] | None = None
        self._awaiting = False  # the pump waits for something a client does

    # Life ---------------------------------------------------------------------------

    async def __aenter__(self) -> Replay:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close(check=exc_type is None)

    async def start(self) -> None:
        """Serve on a free port and start playing."""
        app = web.Application()
        app.router.add_get("/v{version}/customer/rtm/ws", self._rtm)
        app.router.add_route("*", "/{path:.*}", self._http)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self._host, 0)
        await site.start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        self._pump = asyncio.get_running_loop().create_task(
            self._play(), name="rxlivechat-replay"
        )

    async def close(self, *, check: bool = True) -> None:
        """Stop serving; with ``check`` and ``strict``, raise what went wrong.

        Waits up to :data:`END_GRACE` s for the replay to reach its end, and
        no longer once it waits for a request while no client is connected.

        Raises:
            CassetteMismatch: (strict) the client sent a request the cassette
                does not have, or never sent one it has.
        """
        pump = self._pump
        if pump is not None and check and not (self.strict and self.script.errors):
            await self._finish(pump)
        if pump is not None:
            pump.cancel()
            await asyncio.wait({pump})
        for ws in self._sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if check and self.strict:
            problems = list(self.script.errors)
            missing = None if problems else self.script.missing()
            if missing is not None:
                problems.append(missing)
            if problems:
                raise CassetteMismatch("\n\n".join(problems))

    async def _finish(self, pump: asyncio.Task[None]) -> None:
        """Let the pump reach the end, unless it waits for a client that left."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + END_GRACE
        gone_since: float | None = None
        while not pump.done() and loop.time() < deadline:
            await asyncio.wait({pump}, timeout=0.05)
            stuck = self._awaiting and not any(not ws.closed for ws in self._sockets)
            if not stuck:
                gone_since = None
            elif gone_since is None:
                gone_since = loop.time()
            elif loop.time() - gone_since > 0.5:  # (a reconnect would come sooner)
                return

    @property
    def done(self) -> bool:
        """Whether every record was played."""
        return self._pump is not None and self._pump.done()

    async def wait_done(self, timeout: float) -> None:
        """Wait until every record was played.

        Raises:
            TimeoutError: not within ``timeout`` s.
        """
        assert self._pump is not None, "start() first"
        async with asyncio.timeout(timeout):
            await asyncio.shield(self._pump)

    # Where clients connect ----------------------------------------------------------

    @property
    def api_url(self) -> str:
        """The API base URL to give the SDK."""
        return f"http://{self._host}:{self.port}"

    @property
    def accounts_url(self) -> str:
        """The Accounts API base URL (the same server)."""
        return self.api_url

    @property
    def organization_id(self) -> str:
        """The recorded organization's id."""
        return self.header.organization_id

    # Playing ------------------------------------------------------------------------

    async def _play(self) -> None:
        script = self.script
        loop = asyncio.get_running_loop()
        last_t, last_at = 0.0, loop.time()
        for index, record in enumerate(script.records):
            script.cursor = index
            self._changed.set()  # the window moved: waiting requests may match
            if isinstance(record, Open):
                await self._until(functools.partial(self._opened, record.conn))
            elif isinstance(record, Send | Http):
                if not await self._until(
                    functools.partial(script.seen.__contains__, index),
                    patient=not self.strict,
                ):
                    script.skip(index)
                if isinstance(record, Http) and index in self._turns:
                    self._turns.pop(index).set_result(None)
            elif isinstance(record, Receive):
                if script.is_skipped(record):
                    continue
                if self._speed is not None:
                    due = last_at + (record.t - last_t) / self._speed
                    await asyncio.sleep(max(0.0, due - loop.time()))
                await self._send(record)
            elif isinstance(record, Close):
                await self._close(record)
            last_t, last_at = record.t, loop.time()
        script.cursor = len(script.records)

    async def _until(self, ready: Callable[[], bool], *, patient: bool = False) -> bool:
        """Wait until ``ready()``; ``patient``: give up after a while (``False``)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + NOT_STRICT_PATIENCE
        self._awaiting = True
        try:
            while not ready():
                self._changed.clear()
                if not patient:
                    await self._changed.wait()
                    continue
                try:
                    async with asyncio.timeout_at(deadline):
                        await self._changed.wait()
                except TimeoutError:
                    return ready()
            return True
        finally:
            self._awaiting = False

    async def _send(self, record: Receive) -> None:
        ws = self._socket(record.conn)
        if ws is None:
            return
        frame = self.script.ids.to_live(record.frame)
        with contextlib.suppress(ConnectionError, RuntimeError):
            await ws.send_bytes(msgspec.json.encode(frame))

    async def _close(self, record: Close) -> None:
        if record.by == "server":  # dropped, as the recording saw it
            transport = self._transports[record.conn - 1]
            if transport is not None:  # a cast: uvloop's transports are no subclass
                cast(asyncio.Transport, transport).abort()
        await self._until(lambda: self._socket(record.conn) is None)

    def _opened(self, conn: int) -> bool:
        return len(self._sockets) >= conn

    def _socket(self, conn: int) -> web.WebSocketResponse | None:
        if conn > len(self._sockets):
            return None
        ws = self._sockets[conn - 1]
        return None if ws.closed else ws

    # Serving ------------------------------------------------------------------------

    async def _rtm(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        self._transports.append(request.transport)
        conn = len(self._sockets)
        self._changed.set()
        try:
            async for message in ws:
                if message.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    await self._request(ws, conn, message.data)
        finally:
            self._changed.set()
        return ws

    async def _request(
        self, ws: web.WebSocketResponse, conn: int, data: str | bytes
    ) -> None:
        try:
            frame = msgspec.json.decode(data)
        except msgspec.DecodeError:
            frame = None
        if not isinstance(frame, dict):
            self.script.errors.append(
                f"the client sent a frame that is not JSON: {data!r}"
            )
            return
        if frame.get("action") == "ping":
            await ws.send_bytes(_reply(frame, True, {}))
            return
        if self.script.match_frame(conn, frame) is None:
            error = {"error": {"type": "replay", "message": "not in the cassette"}}
            await ws.send_bytes(_reply(frame, False, error))
        self._changed.set()

    async def _http(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        query = dict(request.query)
        index = self.script.match_http(request.method, request.path, query, body)
        if index is None:
            return web.json_response(
                {"error": {"type": "replay", "message": "not in the cassette"}},
                status=404,
            )
        self._changed.set()
        if self.script.cursor <= index:
            turn = self._turns[index] = asyncio.get_running_loop().create_future()
            await turn
        record = self.script.records[index]
        assert isinstance(record, Http)
        response = self.script.ids.to_live(record.response)
        text = response if isinstance(response, str) else None
        return web.Response(
            status=record.status,
            body=msgspec.json.encode(response) if text is None else text.encode(),
            content_type="application/json" if text is None else "text/plain",
        )


def _reply(frame: dict[str, Any], success: bool, payload: Any) -> bytes:
    reply = {
        "request_id": frame.get("request_id"),
        "action": frame.get("action"),
        "type": "response",
        "success": success,
        "payload": payload,
    }
    return msgspec.json.encode(reply)


async def _body(request: web.Request) -> Any:
    """The request's body as recorded: its JSON, or an upload's file facts."""
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        async for part in reader:
            if isinstance(part, BodyPartReader) and part.name == "file":
                data = await part.read()
                return {
                    "file": {
                        "name": part.filename,
                        "content_type": part.headers.get("Content-Type"),
                        "size": len(data),
                    }
                }
        return None
    raw = await request.read()
    if not raw:
        return None
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return raw.decode(errors="replace")
