"""aiohttp glue for one RTM WebSocket: open, read, write, close. Nothing else.

Rules:

1. This is the only client module that touches ``aiohttp`` WebSocket objects, and
   the only place aiohttp exceptions become ours (:func:`map_errors`).
2. One reader: :meth:`Socket.read` runs in exactly one task.
3. Writes never block the caller: :meth:`Socket.send` queues bytes and one writer
   task sends them in order, each as a TEXT frame (msgspec bytes, no re-encoding).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Literal
from urllib.parse import urlencode, urlsplit, urlunsplit

import aiohttp

from ..exceptions import ConnectError, ConnectionLost, ProtocolError
from ..protocol.frames import API_VERSION

__all__ = [
    "MAX_HTTP_BODY",
    "MAX_MESSAGE_SIZE",
    "Socket",
    "connect",
    "map_errors",
    "read_limited",
    "rtm_url",
    "web_url",
]

log = logging.getLogger("rxlivechat")

MAX_MESSAGE_SIZE = 64 * 1024 * 1024
"""Large enough for a 100-thread history page; aiohttp's default is 4 MiB."""

MAX_HTTP_BODY = 16 * 1024 * 1024
"""The largest HTTP reply read (tokens, Web API results): a server that sends
more is broken or hostile, and the client's memory is not its to take."""


async def read_limited(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The reply's body, refused with :class:`ProtocolError` past ``limit`` bytes."""
    length = response.content_length
    if length is not None and length > limit:
        raise ProtocolError(f"HTTP reply of {length} bytes is over {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise ProtocolError(f"HTTP reply is over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def rtm_url(api_url: str, organization_id: str) -> str:
    """The RTM WebSocket URL for ``api_url`` (http→ws, https→wss)."""
    parts = urlsplit(api_url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    path = f"{parts.path.rstrip('/')}/v{API_VERSION}/customer/rtm/ws"
    query = urlencode({"organization_id": organization_id})
    return urlunsplit((scheme, parts.netloc, path, query, ""))


def web_url(api_url: str, action: str, organization_id: str) -> str:
    """The Web API URL of ``action``."""
    parts = urlsplit(api_url)
    path = f"{parts.path.rstrip('/')}/v{API_VERSION}/customer/action/{action}"
    query = urlencode({"organization_id": organization_id})
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))


@contextlib.contextmanager
def map_errors(what: str, *, lost: bool = False) -> Iterator[None]:
    """Turn aiohttp and OS errors, and timeouts, into our errors.

    They become :class:`ConnectError`, or :class:`ConnectionLost` with ``lost``.
    """
    try:
        yield
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        cls = ConnectionLost if lost else ConnectError
        raise cls(f"{what}: {str(exc) or type(exc).__name__}") from exc


class Socket:
    """One open RTM WebSocket with its writer task."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse[Literal[False]]) -> None:
        self._ws = ws
        # A list and one future to wake the writer: an asyncio.Queue per
        # customer costs more memory than everything else here together.
        self._outbox: list[bytes] = []
        self._wake: asyncio.Future[None] | None = None
        self._writer = asyncio.get_running_loop().create_task(
            self._write_loop(), name="rxlivechat-writer"
        )

    @property
    def closed(self) -> bool:
        """Whether the socket is closed (or closing)."""
        return self._ws.closed

    def send(self, data: bytes) -> None:
        """Queue one frame; it is written in order by the writer task."""
        self._outbox.append(data)
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    async def read(self, handle: Callable[[bytes], None]) -> None:
        """Call ``handle`` with every TEXT/BINARY message until the socket closes.

        A plain loop with a callback, not an async generator: one call per
        message, no suspension in between.

        Raises:
            ConnectionLost: the socket failed (a message over the size limit...).
        """
        receive = self._ws.receive
        text, binary = aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY
        while True:
            msg = await receive()
            kind = msg.type
            if kind is text or kind is binary:
                handle(msg.data)
            elif kind is aiohttp.WSMsgType.ERROR:  # e.g. a message over the limit
                raise ConnectionLost(f"the socket failed: {msg.data!r}")
            elif kind in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSING,
                aiohttp.WSMsgType.CLOSED,
            ):
                return

    async def close(self) -> None:
        """Close the socket and stop the writer; safe to call more than once."""
        self._writer.cancel()
        try:
            with contextlib.suppress(Exception):  # never BaseException: see below
                await self._ws.close()
        finally:
            # asyncio.wait, not `await writer`: it raises only if *this* task is
            # cancelled, so the caller's own cancellation is never swallowed.
            await asyncio.wait({self._writer})

    async def _write_loop(self) -> None:
        ws = self._ws
        loop = asyncio.get_running_loop()
        while True:
            while self._outbox:
                batch, self._outbox = self._outbox, []
                for data in batch:
                    try:
                        await ws.send_frame(data, aiohttp.WSMsgType.TEXT)
                    except (aiohttp.ClientError, ConnectionError, RuntimeError) as e:
                        # The reader sees the close and reports it: stop writing.
                        log.debug("write failed, socket closing: %r", e)
                        return
            self._wake = loop.create_future()
            await self._wake
            self._wake = None


async def connect(http: aiohttp.ClientSession, url: str, *, timeout: float) -> Socket:
    """Open the RTM WebSocket at ``url``.

    Raises:
        ConnectError: the socket could not be opened within ``timeout`` seconds.
    """
    with map_errors(f"cannot connect to {url.split('?')[0]}"):
        async with asyncio.timeout(timeout):
            ws = await http.ws_connect(
                url,
                decode_text=False,
                autoping=True,
                heartbeat=None,  # the SDK sends RTM pings itself (digest §1.3)
                max_msg_size=MAX_MESSAGE_SIZE,
                timeout=aiohttp.ClientWSTimeout(ws_close=5.0),
            )
    return Socket(ws)
