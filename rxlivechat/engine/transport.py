"""The RTM WebSocket (open, read, write, close) and the HTTP helpers beside it.

Rules:

1. The RTM socket is an :class:`asyncio.Protocol` speaking :mod:`.websocket`
   (RFC 6455, Sans-I/O): no aiohttp objects, no reader or writer task. A
   customer idling on its socket costs a transport, this object and a buffer.
2. Every message goes to one handler, called from ``data_received``.
3. Writes never block the caller: :meth:`Socket.send` writes at once and the
   transport keeps what the kernel cannot take yet, in order.
4. Writes are bounded: past :data:`WRITE_LIMIT` unsent bytes the transport
   pauses the socket (:attr:`Socket.paused`: requests then wait in their queue),
   a ping is answered by one pong however many came meanwhile (RFC 6455 §5.5.3
   allows it), and a peer that leaves the socket paused for
   :data:`NOT_READING_GRACE` seconds is dropped as not reading.
5. No ``isinstance`` on the loop's classes: uvloop's transports are not
   asyncio's subclasses.
6. HTTP (tokens, the Web API) stays on aiohttp; this is the only place aiohttp
   and OS errors become ours (:func:`map_errors`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl as ssl_
from collections.abc import Callable, Iterator
from importlib.metadata import PackageNotFoundError, version
from typing import cast
from urllib.parse import urlencode, urlsplit, urlunsplit

import aiohttp

from ..exceptions import ConnectError, ConnectionLost, ProtocolError
from ..protocol.frames import API_VERSION
from . import websocket as ws

__all__ = [
    "MAX_HTTP_BODY",
    "MAX_MESSAGE_SIZE",
    "NOT_READING_GRACE",
    "WRITE_LIMIT",
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

WRITE_LIMIT = 1024 * 1024
"""Unsent bytes past which the socket is paused (the transport's high-water
mark; it resumes below a quarter of it)."""

NOT_READING_GRACE = 10.0
"""Seconds a socket may stay paused before its peer counts as not reading."""

try:
    USER_AGENT = f"rxlivechat/{version('rxlivechat')}"
except PackageNotFoundError:  # run from a source tree
    USER_AGENT = "rxlivechat"

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


def rtm_url(api_url: str, organization_id: str, version: str = API_VERSION) -> str:
    """The RTM WebSocket URL for ``api_url`` (http→ws, https→wss)."""
    parts = urlsplit(api_url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    path = f"{parts.path.rstrip('/')}/v{version}/customer/rtm/ws"
    query = urlencode({"organization_id": organization_id})
    return urlunsplit((scheme, parts.netloc, path, query, ""))


def web_url(
    api_url: str, action: str, organization_id: str, version: str = API_VERSION
) -> str:
    """The Web API URL of ``action``."""
    parts = urlsplit(api_url)
    path = f"{parts.path.rstrip('/')}/v{version}/customer/action/{action}"
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


class Socket(asyncio.Protocol):
    """One RTM WebSocket on an asyncio transport: no task, no queue.

    Bytes are parsed as they arrive (:class:`.websocket.FrameReader`) and each
    message goes straight to the handler given to :meth:`listen`; a frame sent
    is written at once (the transport buffers what the kernel cannot take yet,
    up to ``write_limit`` bytes before it pauses the socket).

    Args:
        url: the ``ws://`` or ``wss://`` URL (for the handshake).
        max_size: the largest message accepted, in bytes.
        write_limit: unsent bytes past which the socket is paused.
        not_reading_grace: seconds paused before the peer counts as not reading.
    """

    def __init__(
        self,
        url: str,
        max_size: int,
        *,
        write_limit: int = WRITE_LIMIT,
        not_reading_grace: float = NOT_READING_GRACE,
    ) -> None:
        self._url = url
        self._key = ws.new_key()
        self._write_limit = write_limit
        self._grace = not_reading_grace
        self._transport: asyncio.Transport | None = None
        self.paused = False
        """Whether the peer has ``write_limit`` bytes unsent (until it drains
        to a quarter of that): queued requests wait, a pong owed waits."""
        self.resumed: Callable[[], None] = _nothing
        """Called when the socket stops being paused (to write what waits)."""
        self._pong: bytes | None = None  # the last ping's payload, unanswered
        self._stalled: asyncio.TimerHandle | None = None  # paused too long
        self._head: bytearray | None = bytearray()  # the handshake reply, until done
        self.headers: dict[str, str] = {}
        """The handshake reply's headers, names in lower case (once open)."""
        self._early: list[bytes] = []  # messages before listen()
        # Each message goes to the handler as it is parsed: no list between.
        self._reader = ws.FrameReader(max_size, self._early.append)
        loop = asyncio.get_running_loop()
        self._opened: asyncio.Future[None] = loop.create_future()
        self.done: asyncio.Future[None] = loop.create_future()
        """Set once the socket is closed: with ``None`` when closed cleanly, with
        :class:`ConnectionLost` when it failed (a frame over the size limit, a
        broken frame, a handler that raised)."""
        self._close_sent = False
        self._corking = False  # inside data_received(): writes wait, see there
        self._corked: list[bytes] | None = None  # what they wrote meanwhile

    @property
    def closed(self) -> bool:
        """Whether the socket is closed (or closing)."""
        return self._close_sent or self.done.done()

    def listen(self, handle: Callable[[bytes], None]) -> None:
        """Call ``handle`` with every TEXT/BINARY message from now on."""
        self._reader.deliver = handle
        early, self._early = self._early, []
        for data in early:
            handle(data)

    @property
    def unsent(self) -> int:
        """Bytes written and not handed to the kernel yet, a pending pong included."""
        transport = self._transport
        buffered = 0 if transport is None else transport.get_write_buffer_size()
        return buffered + (0 if self._pong is None else len(self._pong) + 6)

    def send(self, data: bytes) -> None:
        """Send one TEXT frame (msgspec bytes, no re-encoding), never blocking."""
        if not self.closed:
            self._write(ws.TEXT, data)

    def abort(self) -> None:
        """Close at once, with no closing handshake (a socket judged dead)."""
        transport = self._transport
        if transport is not None and not self.done.done():
            self._close_sent = True
            transport.abort()  # also after close(): its buffer may never drain

    async def close(self, timeout: float = 5.0) -> None:
        """Close the socket (the closing handshake, at most ``timeout`` s)."""
        transport = self._transport
        if transport is None or self.done.done():
            return
        if not self._close_sent:
            self._close_sent = True
            with contextlib.suppress(RuntimeError):  # the transport is closing
                transport.write(ws.encode_frame(ws.CLOSE, ws.close_payload(1000)))
        # asyncio.wait, not `await done`: it raises only if *this* task is
        # cancelled, so the caller's own cancellation is never swallowed.
        _, waiting = await asyncio.wait({self.done}, timeout=timeout)
        if waiting:
            transport.abort()
            await asyncio.wait({self.done})

    # asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Send the opening handshake."""
        # A cast, not an isinstance check: uvloop's TCPTransport is no subclass.
        self._transport = writer = cast(asyncio.Transport, transport)
        writer.set_write_buffer_limits(high=self._write_limit)
        writer.write(ws.handshake_request(self._url, self._key, USER_AGENT))

    def pause_writing(self) -> None:
        """Over the write limit: stop writing requests; the peer has a grace period."""
        self.paused = True
        if self._stalled is None:
            self._stalled = asyncio.get_running_loop().call_later(
                self._grace, self._not_reading
            )

    def resume_writing(self) -> None:
        """Drained: answer the last ping, and let the requests waiting go."""
        self.paused = False
        if self._stalled is not None:
            self._stalled.cancel()
            self._stalled = None
        if not self._corking:
            self._answer_ping()
        self.resumed()

    def data_received(self, data: bytes) -> None:
        """Parse the handshake reply, then frames; hand out each message.

        What the handlers send meanwhile (replies free slots for queued
        requests) is corked and written at the end in one system call, not one
        each: on a busy socket most of a request's cost was its own ``send()``.
        """
        if self._head is not None:
            data = self._handshake(data)
            if not data:
                return
        self._corking = True
        try:
            # Messages go to the handler as they are parsed; what comes back is
            # the control frames (PONG needs nothing: any frame proves life).
            for opcode, payload in self._reader.feed(data):
                if opcode == ws.PING:  # answered once, after this read
                    self._pong = payload
                elif opcode == ws.CLOSE:
                    self._closing_handshake(payload)
                    return
        except Exception as exc:  # a broken frame, or the handler raised (a bug)
            self._fail(exc)
        finally:
            self._uncork()

    def eof_received(self) -> bool:
        """The server closed its side: close ours (returning False does)."""
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        """Settle what waits on the socket."""
        if self._stalled is not None:
            self._stalled.cancel()
            self._stalled = None
        self.resumed = _nothing  # the socket no longer holds what used it
        self._not_opened(
            ConnectionLost(f"the socket closed during the handshake: {exc}")
        )
        if not self.done.done():
            self.done.set_result(None)  # a drop: the engine reconnects

    # Internals ---------------------------------------------------------------------

    def _handshake(self, data: bytes) -> bytes:
        """Collect the reply's head; return the bytes after it (frames)."""
        head = self._head
        assert head is not None
        head += data
        end = head.find(b"\r\n\r\n")
        if end < 0:
            if len(head) > ws.MAX_HANDSHAKE_REPLY:
                self._refuse(ws.HandshakeError("the handshake reply is too large"))
            return b""
        self._head = None
        try:
            self.headers = ws.parse_handshake_reply(bytes(head[:end]), self._key)
        except ws.HandshakeError as exc:
            self._refuse(exc)
            return b""
        if not self._opened.done():  # cancelled: connect() gave up waiting
            self._opened.set_result(None)
        return bytes(head[end + 4 :])

    def _refuse(self, exc: ws.HandshakeError) -> None:
        self._head = None
        self._not_opened(exc)
        assert self._transport is not None
        self._transport.abort()

    def _not_opened(self, exc: Exception) -> None:
        """Fail :meth:`opened`, if still waiting."""
        if not self._opened.done():  # (cancelled if connect() timed out)
            self._opened.set_exception(exc)
            # Marked read: a connect() cancelled while asyncio was still making
            # the transport never waits on it, and asyncio would log it unread.
            self._opened.exception()

    def _write(self, opcode: int, payload: bytes) -> None:
        frame = ws.encode_frame(opcode, payload)
        if self._corking:
            if self._corked is None:
                self._corked = [frame]
            else:
                self._corked.append(frame)
        elif self._transport is not None and not self._transport.is_closing():
            self._transport.write(frame)

    def _uncork(self) -> None:
        """Write what was corked, in one call; later writes go out at once."""
        self._corking = False
        corked, self._corked = self._corked, None
        if corked and self._transport is not None and not self._transport.is_closing():
            self._transport.write(corked[0] if len(corked) == 1 else b"".join(corked))
        if self._pong is not None:
            self._answer_ping()

    def _answer_ping(self) -> None:
        """Send the pong owed, unless paused.

        Paused, it waits and a later ping replaces it: a peer that pings and
        never reads costs one pong.
        """
        if self._pong is not None and not self.paused:
            pong, self._pong = self._pong, None
            self._write(ws.PONG, pong)

    def _not_reading(self) -> None:
        self._stalled = None
        self._fail(
            ConnectionLost(
                f"peer not reading: {self.unsent} bytes unsent after "
                f"{self._grace:g} s paused"
            )
        )

    def _closing_handshake(self, payload: bytes) -> None:
        """The server closes: answer (once) with its code, then close."""
        self._uncork()  # what was sent before goes first
        if not self._close_sent:
            self._close_sent = True
            self._write(ws.CLOSE, payload[:2])
        assert self._transport is not None
        self._transport.close()

    def _fail(self, exc: Exception) -> None:
        """Close at once and fail :attr:`done` with the reason."""
        if not self.done.done():
            if isinstance(exc, ProtocolError):
                error = ConnectionLost(f"the socket failed: {exc}")
                error.__cause__ = exc
                exc = error
            self.done.set_exception(exc)
        self._close_sent = True
        self._head = None
        assert self._transport is not None
        self._transport.abort()

    async def opened(self) -> None:
        """Return once the server accepted the handshake."""
        await self._opened


def _nothing() -> None:
    pass


_default_tls: ssl_.SSLContext | None = None


def _tls(context: ssl_.SSLContext | None) -> ssl_.SSLContext:
    """``context``, or one default context (system authorities) for every socket."""
    global _default_tls
    if context is not None:
        return context
    if _default_tls is None:
        _default_tls = ssl_.create_default_context()
    return _default_tls


async def connect(
    url: str, *, timeout: float, ssl: ssl_.SSLContext | None = None
) -> Socket:
    """Open the RTM WebSocket at ``url`` (``ws://`` or ``wss://``).

    Raises:
        ConnectError: the socket could not be opened within ``timeout`` seconds,
            or the server refused the handshake.
    """
    parts = urlsplit(url)
    secure = parts.scheme == "wss"
    host = parts.hostname or ""
    port = parts.port or (443 if secure else 80)
    loop = asyncio.get_running_loop()
    what = f"cannot connect to {url.split('?')[0]}"
    socket: Socket | None = None
    try:
        async with asyncio.timeout(timeout):
            _, socket = await loop.create_connection(
                lambda: Socket(
                    url,
                    MAX_MESSAGE_SIZE,
                    write_limit=WRITE_LIMIT,
                    not_reading_grace=NOT_READING_GRACE,
                ),
                host,
                port,
                ssl=_tls(ssl) if secure else None,
            )
            await socket.opened()
    except ws.HandshakeError as exc:
        raise ConnectError(f"{what}: {exc}") from exc
    except (TimeoutError, OSError, ConnectionLost) as exc:
        if socket is not None:
            await socket.close(timeout=0)
        raise ConnectError(f"{what}: {str(exc) or type(exc).__name__}") from exc
    except BaseException:  # cancelled: leave no socket behind
        if socket is not None:
            await socket.close(timeout=0)
        raise
    return socket
