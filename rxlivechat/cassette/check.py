"""Hold a server against a cassette: send its requests, compare the answers.

:func:`check_cassette` plays the customer's side of a cassette (the token
request, every Web API call and upload, every RTM request, on as many sockets
as were recorded) against a server, the sandbox by default, and compares each
answer with the recorded one: its shape and its values, ids aside (a recorded
id is bound to the live one the first time they meet, and the requests after
use the live ones). Pushes are not compared: what the server sends unprompted
depends on agents that are not there.

``python -m rxlivechat check-cassette FILE`` runs it; the differences are what
to report when the sandbox answers otherwise than a real organization did.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from typing import Any

import aiohttp
import msgspec
from yarl import URL

from ..protocol.cassette import (
    REDACTED,
    Close,
    Header,
    Http,
    IdMap,
    Open,
    Receive,
    Record,
    Send,
    compare,
    read,
)

__all__ = ["Difference", "check_cassette"]


@dataclasses.dataclass(frozen=True)
class Difference:
    """One place where the server answered otherwise than the recording.

    Attributes:
        line: the cassette's line of the request.
        request: what was asked (an action, or an HTTP method and path).
        detail: where the answers differ, and how.
    """

    line: int
    request: str
    detail: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.request}: {self.detail}"


async def check_cassette(
    cassette: str | os.PathLike[str],
    *,
    api_url: str,
    accounts_url: str,
    organization_id: str,
    timeout: float = 10.0,
) -> list[Difference]:
    """Send the cassette's requests to a server; list where its answers differ.

    Args:
        cassette: the cassette's path.
        api_url: the server's API base URL.
        accounts_url: its Accounts API base URL.
        organization_id: the organization to ask as (the recorded one is
            replaced by it everywhere).
        timeout: seconds to wait for each answer.

    Raises:
        CassetteError: the cassette cannot be read.
    """
    header, records = await asyncio.to_thread(_read, cassette)
    checker = _Checker(api_url, accounts_url, organization_id, timeout)
    checker.ids.bind(header.organization_id, organization_id)
    replies = {
        (r.conn, r.frame.get("request_id")): r.frame
        for r in records
        if isinstance(r, Receive)
        and isinstance(r.frame, dict)
        and r.frame.get("type") == "response"
    }
    jar = aiohttp.CookieJar(unsafe=True)  # the identity cookies, on any host
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        checker.http = http
        try:
            for line, record in enumerate(records, 2):
                if isinstance(record, Http):
                    await checker.exchange(line, record)
                elif isinstance(record, Open):
                    await checker.open(record)
                elif isinstance(record, Send) and isinstance(record.frame, dict):
                    recorded = replies.get(
                        (record.conn, record.frame.get("request_id"))
                    )
                    await checker.ask(line, record, recorded)
                elif isinstance(record, Close):
                    await checker.close(record.conn)
        finally:
            for conn in list(checker.sockets):
                await checker.close(conn)
    return checker.differences


class _Checker:
    def __init__(
        self, api_url: str, accounts_url: str, organization_id: str, timeout: float
    ) -> None:
        self.organization_id = organization_id
        self.api_url = api_url.rstrip("/")
        self.accounts_url = accounts_url.rstrip("/")
        self.timeout = timeout
        self.ids = IdMap()
        self.http: aiohttp.ClientSession | None = None
        self.token = ""
        self.sockets: dict[int, aiohttp.ClientWebSocketResponse] = {}
        self.readers: dict[int, asyncio.Task[None]] = {}
        self.waiting: dict[tuple[int, Any], asyncio.Future[Any]] = {}
        self.differences: list[Difference] = []

    def differ(self, line: int, request: str, recorded: Any, live: Any) -> None:
        for detail in compare(recorded, live, self.ids):
            self.differences.append(Difference(line, request, detail))

    async def exchange(self, line: int, record: Http) -> None:
        assert self.http is not None
        token_request = record.path.endswith("/customer/token")
        base = self.accounts_url if token_request else self.api_url
        url = URL(base + record.path).with_query(self.ids.to_live(record.query))
        headers = {} if token_request else {"Authorization": f"Bearer {self.token}"}
        body = self.ids.to_live(record.request)
        options: dict[str, Any] = {"headers": headers}
        if isinstance(body, dict) and isinstance(body.get("file"), dict):
            file = body["file"]
            form = aiohttp.FormData()
            form.add_field(
                "file",
                bytes(int(file.get("size", 0))),
                filename=str(file.get("name", "file")),
                content_type=str(file.get("content_type", "application/octet-stream")),
            )
            options["data"] = form
        elif body is not None:
            options["json"] = body
        what = f"{record.method} {record.path}"
        try:
            async with self.http.request(
                record.method,
                url,
                timeout=aiohttp.ClientTimeout(self.timeout),
                **options,
            ) as response:
                status, raw = response.status, await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.differences.append(Difference(line, what, f"no answer: {exc!r}"))
            return
        if status != record.status:
            detail = f"HTTP {status}, recorded {record.status}"
            self.differences.append(Difference(line, what, detail))
        try:
            live = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            live = raw.decode(errors="replace")
        if token_request and isinstance(live, dict):
            self.token = str(live.get("access_token", ""))
        self.differ(line, what, record.response, live)

    async def open(self, record: Open) -> None:
        assert self.http is not None
        query = {"organization_id": self.organization_id}
        url = URL(self.api_url + record.path).with_query(query)
        ws = await self.http.ws_connect(url.with_scheme(_ws(url.scheme)))
        self.sockets[record.conn] = ws
        self.readers[record.conn] = asyncio.get_running_loop().create_task(
            self.read(record.conn, ws)
        )

    async def read(self, conn: int, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                continue
            frame = msgspec.json.decode(message.data)
            if isinstance(frame, dict) and frame.get("type") == "response":
                waiter = self.waiting.pop((conn, frame.get("request_id")), None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(frame)

    async def ask(self, line: int, record: Send, recorded: Any) -> None:
        frame = self.ids.to_live(record.frame)
        payload = frame.get("payload")
        if isinstance(payload, dict) and payload.get("token") == REDACTED:
            payload["token"] = f"Bearer {self.token}"
        action = str(frame.get("action"))
        ws = self.sockets.get(record.conn)
        if ws is None or ws.closed:
            detail = f"socket {record.conn} is closed: not sent"
            self.differences.append(Difference(line, action, detail))
            return
        waiter = asyncio.get_running_loop().create_future()
        self.waiting[(record.conn, frame.get("request_id"))] = waiter
        await ws.send_bytes(msgspec.json.encode(frame))
        try:
            live = await asyncio.wait_for(waiter, self.timeout)
        except TimeoutError:
            detail = f"no reply within {self.timeout} s"
            self.differences.append(Difference(line, action, detail))
            return
        if recorded is not None:
            self.differ(line, action, recorded, live)

    async def close(self, conn: int) -> None:
        ws = self.sockets.pop(conn, None)
        if ws is not None:
            await ws.close()
        reader = self.readers.pop(conn, None)
        if reader is not None:
            await asyncio.wait({reader}, timeout=self.timeout)
            reader.cancel()


def _read(cassette: str | os.PathLike[str]) -> tuple[Header, list[Record]]:
    with open(cassette, "rb") as file:
        return read(file)


def _ws(scheme: str) -> str:
    return "wss" if scheme == "https" else "ws"
