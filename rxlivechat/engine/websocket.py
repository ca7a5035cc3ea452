"""The WebSocket protocol (RFC 6455), client side, Sans-I/O: bytes in, bytes out.

Rules:

1. No I/O and no asyncio here: :mod:`.transport` moves the bytes.
2. The handshake is one HTTP/1.1 request and one ``101`` reply, checked by its
   ``Sec-WebSocket-Accept``; no extension and no subprotocol is offered, so a
   frame with a reserved bit set is a protocol error.
3. Every frame the client sends is masked with a fresh random key (§5.3); a frame
   the server sends must not be (§5.1).
4. A message larger than ``max_size`` is refused as soon as its header says so,
   before its payload is buffered: a hostile server cannot make the client
   buffer more than that. Every frame of a fragmented message counts: it is
   charged :data:`FRAME_OVERHEAD` bytes on top of its payload (more than a kept
   fragment costs), and a message has at most :data:`MAX_FRAGMENTS` frames, so
   endless empty continuation frames hit the limit like bytes do.
5. Control frames (ping, pong, close) may come between the fragments of a
   message; each is reported on its own.
"""

from __future__ import annotations

import base64
import hashlib
import os
import random
import struct
from collections.abc import Callable
from urllib.parse import urlsplit

from ..exceptions import ProtocolError

__all__ = [
    "BINARY",
    "CLOSE",
    "CONTINUATION",
    "FRAME_OVERHEAD",
    "MAX_FRAGMENTS",
    "PING",
    "PONG",
    "TEXT",
    "FrameReader",
    "HandshakeError",
    "accept_key",
    "close_payload",
    "encode_frame",
    "handshake_request",
    "new_key",
    "parse_handshake_reply",
]

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
_FINAL_DATA = (0x80 | TEXT, 0x80 | BINARY)  # a whole message's first byte
_KNOWN = frozenset((CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG))
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3
MAX_HANDSHAKE_REPLY = 64 * 1024
"""The reply's head at most: a server sending more headers is broken or hostile."""
FRAME_OVERHEAD = 64
"""Bytes each frame of a fragmented message counts against ``max_size``, beside
its payload: more than keeping it costs (a list slot and a ``bytes`` header)."""
MAX_FRAGMENTS = 65_536
"""Frames in one fragmented message at most (a 64 MiB message in 1 KiB frames)."""


class HandshakeError(ProtocolError):
    """The server did not switch to the WebSocket protocol (e.g. a 403 reply)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


# The handshake ------------------------------------------------------------------


def new_key() -> str:
    """A fresh ``Sec-WebSocket-Key``: 16 random bytes, base64."""
    return base64.b64encode(os.urandom(16)).decode()


def accept_key(key: str) -> str:
    """The ``Sec-WebSocket-Accept`` a server must answer ``key`` with."""
    return base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()


def handshake_request(url: str, key: str, user_agent: str) -> bytes:
    """The opening request for ``url`` (``ws://`` or ``wss://``)."""
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default_port = 443 if parts.scheme == "wss" else 80
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    if parts.port not in (None, default_port):
        host = f"{host}:{parts.port}"
    return (
        f"GET {target} HTTP/1.1\r\n"
        f"Host: {host}\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n"
        f"User-Agent: {user_agent}\r\n"
        "\r\n"
    ).encode()


def parse_handshake_reply(head: bytes, key: str) -> dict[str, str]:
    """Check the reply's head (status line and headers, without the blank line).

    Returns:
        Its headers, names in lower case.

    Raises:
        HandshakeError: not a ``101`` switching to the WebSocket protocol, or
            switching with the wrong ``Sec-WebSocket-Accept``.
    """
    lines = head.decode("latin-1").split("\r\n")
    status_line = lines[0].split(" ", 2)
    if len(status_line) < 2 or not status_line[0].startswith("HTTP/1."):
        raise HandshakeError(f"not an HTTP reply: {lines[0][:80]!r}")
    try:
        status = int(status_line[1])
    except ValueError:
        raise HandshakeError(f"not an HTTP status: {lines[0][:80]!r}") from None
    if status != 101:
        reason = status_line[2] if len(status_line) > 2 else ""
        raise HandshakeError(f"the server answered {status} {reason}".rstrip(), status)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            raise HandshakeError(f"malformed header line: {line[:80]!r}", status)
        headers[name.strip().lower()] = value.strip()
    if headers.get("upgrade", "").lower() != "websocket":
        raise HandshakeError("the server did not upgrade to websocket", status)
    if "upgrade" not in headers.get("connection", "").lower():
        raise HandshakeError("the server's Connection header lacks 'upgrade'", status)
    if headers.get("sec-websocket-accept") != accept_key(key):
        raise HandshakeError("wrong Sec-WebSocket-Accept", status)
    if headers.get("sec-websocket-extensions"):
        raise HandshakeError("the server chose an extension nobody asked for", status)
    return headers


# Frames -------------------------------------------------------------------------


def encode_frame(opcode: int, payload: bytes) -> bytes:
    """One final, masked frame carrying ``payload``."""
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
    elif size < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
    key = random.getrandbits(32).to_bytes(4, "big")
    # XOR as two big integers: one C loop over the payload, not one per byte.
    mask = (key * (size // 4 + 1))[:size]
    masked = int.from_bytes(payload, "big") ^ int.from_bytes(mask, "big")
    return head + key + masked.to_bytes(size, "big")


def close_payload(code: int, reason: str = "") -> bytes:
    """The payload of a close frame: the status code, then a UTF-8 reason."""
    return struct.pack("!H", code) + reason.encode()[:123]


class FrameReader:
    """Turns the bytes the server sent into messages and control frames.

    Args:
        max_size: the largest message (all its fragments) accepted, in bytes.
        deliver: called with each TEXT or BINARY message's payload as soon as it
            is parsed, in order (no list, no tuple per message: the hot path);
            ``None``: messages come out of :meth:`feed` with the control frames.
    """

    def __init__(
        self, max_size: int, deliver: Callable[[bytes], None] | None = None
    ) -> None:
        self.max_size = max_size
        self.deliver = deliver
        """Where messages go as they are parsed (see above); may be changed."""
        self._buffer = bytearray()
        self._needed = 2  # bytes the buffer must hold before parsing again
        self._fragments: list[bytes] = []
        self._fragmented_size = 0
        self._fragmented_opcode = 0

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        """The ``(opcode, payload)`` of each message or control frame completed.

        A message's opcode is ``TEXT`` or ``BINARY``, its payload every fragment
        joined (given to ``deliver`` instead, when there is one); control frames
        come as ``CLOSE``, ``PING`` and ``PONG``. Nothing after a ``CLOSE`` is
        read: the server sends no more (RFC 6455 §5.5.1).

        Raises:
            ProtocolError: the bytes break RFC 6455, or a message is over
                ``max_size``. The reader is then unusable: close the socket.
                An exception ``deliver`` raises comes out as it is.
        """
        buffer = self._buffer
        if buffer:
            buffer += data
            if len(buffer) < self._needed:
                return []  # the rest of a large frame: wait, do not re-parse
            data = bytes(buffer)
            buffer.clear()
        # The common case (an empty buffer): frames arrive whole, parsed in place.
        frames, used = self._frames(data)
        if used < len(data):
            buffer += data[used:]
        return frames

    def _frames(self, data: bytes) -> tuple[list[tuple[int, bytes]], int]:
        """Every whole frame at the start of ``data``, and the bytes they used."""
        frames: list[tuple[int, bytes]] = []
        append = frames.append
        deliver = self.deliver
        fragments = self._fragments  # mutated in place by _fragment()
        max_size = self.max_size
        end = len(data)
        at = 0
        self._needed = 2
        # Per message, on the hot path: a few index reads, one slice, one call.
        while end - at >= 2:
            first, size = data[at], data[at + 1]
            head = 2
            if size >= 126:
                if size > 127:  # the mask bit: §5.1 forbids it from servers
                    raise ProtocolError("the server sent a masked frame")
                head = 4 if size == 126 else 10
                if end - at < head:
                    self._needed = head
                    break
                if head == 4:
                    size = data[at + 2] << 8 | data[at + 3]
                else:
                    size = int.from_bytes(data[at + 2 : at + 10], "big")
            whole_message = first in _FINAL_DATA and not fragments
            if not whole_message:
                self._check(first, size)
            elif size > max_size:
                raise ProtocolError(f"a message of over {max_size} bytes")
            stop = at + head + size
            if stop > end:
                self._needed = stop - at
                break
            if whole_message:
                if deliver is None:
                    append((first & 0x0F, data[at + head : stop]))
                else:
                    deliver(data[at + head : stop])
            elif first & 0x0F >= CLOSE:  # a control frame
                append((first & 0x0F, data[at + head : stop]))
                if first & 0x0F == CLOSE:  # the last frame the server sends
                    return frames, end
            else:
                for message in self._fragment(
                    first & 0x0F, first & 0x80, data[at + head : stop]
                ):
                    if deliver is None:
                        append(message)
                    else:
                        deliver(message[1])
            at = stop
        return frames, at

    def _check(self, first: int, size: int) -> None:
        """The rules for any frame but a whole TEXT or BINARY message."""
        opcode = first & 0x0F
        if first & 0x70:
            raise ProtocolError("a frame has a reserved bit set (no extension agreed)")
        if opcode not in _KNOWN:
            raise ProtocolError(f"unknown frame opcode {opcode:#x}")
        if opcode >= CLOSE:  # answered or reported at once, never kept
            if size > 125 or not first & 0x80:
                raise ProtocolError("a control frame is fragmented or over 125 bytes")
            return
        if len(self._fragments) >= MAX_FRAGMENTS:
            raise ProtocolError(f"a message of over {MAX_FRAGMENTS} frames")
        if self._fragmented_size + FRAME_OVERHEAD + size > self.max_size:
            raise ProtocolError(f"a message of over {self.max_size} bytes")

    def _fragment(
        self, opcode: int, final: int, payload: bytes
    ) -> list[tuple[int, bytes]]:
        """One fragment of a split message; the message once it is whole."""
        if opcode == CONTINUATION:
            if not self._fragments:
                raise ProtocolError("a continuation frame with no message to continue")
        elif self._fragments:
            raise ProtocolError("a new message began before the last one ended")
        else:
            self._fragmented_opcode = opcode
        self._fragments.append(payload)
        self._fragmented_size += FRAME_OVERHEAD + len(payload)
        if final:
            message = b"".join(self._fragments)
            self._fragments.clear()
            self._fragmented_size = 0
            return [(self._fragmented_opcode, message)]
        return []
