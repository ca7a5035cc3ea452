"""The recording tap: the engine hands it each socket and each HTTP exchange.

Nothing here runs unless a customer records (``init(..., record=...)``): the
engine then taps each socket once (its ``send`` and its message handler) and
tells the tap of each HTTP exchange. Each record is one line; the lines are
handed together to the writer thread (:mod:`.writer`) :data:`FLUSH_DELAY` after
the first of them (one ``write`` for many records: a system call costs more than
recording a frame), and at once past :data:`FLUSH_BYTES` or :data:`_BATCH`
lines, so memory stays flat, a slow disk never stalls the loop, and a crash
loses at most the last 50 ms.

A frame is written as the bytes that crossed the socket, not decoded (a
received one that is not JSON is read back as its text), unless a user hook
is set or it mentions ``token`` or ``secret``: then it is decoded and its
secrets redacted (the ``login`` holds the token; the Customer Chat API sends
none over RTM). An ``incoming_event`` push, most of the frames and fields no
secret is in, skips that scan, and the frames of one millisecond share one
offset: the tap costs a line break scan and a buffered line per push.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging
import os
import time
from collections.abc import Callable
from typing import Any, Protocol

import msgspec
from yarl import URL

from ..exceptions import InvalidArgumentError
from ..protocol.cassette import (
    REDACTED,
    SECRET_KEYS,
    Header,
    redact_secrets,
)
from ..protocol.frames import API_VERSION
from .writer import FileWriter

__all__ = [
    "FLUSH_BYTES",
    "FLUSH_DELAY",
    "Recorder",
    "Recording",
    "Redact",
    "RedactFields",
]

_TICK = 0.001
"""Seconds between the offsets written for a burst's frames."""

FLUSH_DELAY = 0.05
"""Seconds a record waits at most before it is written (with those after it)."""

FLUSH_BYTES = 256 * 1024
"""Bytes of records held at most before they are written (a frame received
in a burst counts as a line: see :data:`_BATCH`)."""

_BATCH = 256
"""Lines of a burst held at most: with :data:`_BIG`, what bounds memory."""

_BIG = 16 * 1024
"""A frame this large is counted in bytes, not as a line."""

log = logging.getLogger("rxlivechat")

Redact = Callable[[Any], Any]
"""A user redaction hook: given a frame or an HTTP body (decoded JSON, secrets
already redacted), returns what to write."""


class RedactFields:
    """A redaction hook that blanks the values of some keys, at any depth.

    ``RedactFields("email", "name", "text")`` keeps a cassette's shape and ids
    but none of what the people in it wrote or are called.

    Args:
        *keys: the keys (case-insensitive) whose values read ``"[redacted]"``.
    """

    def __init__(self, *keys: str) -> None:
        self.keys = frozenset(key.lower() for key in keys)

    def __call__(self, value: Any) -> Any:
        """``value`` with those keys' values replaced, in place."""
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str) and key.lower() in self.keys:
                    value[key] = REDACTED
                else:
                    self(item)
        elif isinstance(value, list):
            for item in value:
                self(item)
        return value


@dataclasses.dataclass(frozen=True)
class Recording:
    """Where to record a customer's session, and what else to redact.

    Args:
        path: the cassette file (created, or replaced).
        redact: a hook applied to every frame and HTTP body before it is
            written (e.g. :class:`RedactFields`); secrets are always redacted.
    """

    path: str | os.PathLike[str]
    redact: Redact | None = None


class _Socket(Protocol):
    """What the tap needs of the engine's socket."""

    done: Any

    @property
    def closed(self) -> bool: ...

    def send(self, data: bytes) -> None: ...

    def abort(self) -> None: ...

    async def close(self, timeout: float = 5.0) -> None: ...


class Recorder:
    """Writes one customer's cassette as the engine runs.

    Args:
        recording: the file (a path, or a :class:`Recording`).
        organization_id: written in the header.

    Raises:
        InvalidArgumentError: the file cannot be created.
    """

    def __init__(
        self,
        recording: Recording | str | os.PathLike[str],
        *,
        organization_id: str,
    ) -> None:
        if not isinstance(recording, Recording):
            recording = Recording(recording)
        self._redact = recording.redact
        self._file: FileWriter | None = None
        self._lines: list[bytes] = []
        self._held = 0  # bytes in _lines
        try:
            self._file = FileWriter(recording.path)
        except OSError as exc:
            raise InvalidArgumentError(
                f"cannot record to {recording.path}: {exc}"
            ) from None
        self._start = time.monotonic()
        self._stamp = b"0.000000"
        self._stamped = self._start
        self._sockets = 0
        user_keys = getattr(recording.redact, "keys", ())
        header = Header(
            api_version=API_VERSION,
            recorded_at=datetime.datetime.now(datetime.UTC).isoformat(),
            organization_id=organization_id,
            redacted=sorted(SECRET_KEYS | set(user_keys)),
        )
        self._lines.append(msgspec.json.encode(header) + b"\n")
        self.flush()

    @property
    def held(self) -> tuple[int, int]:
        """Records waiting to be written now: ``(lines, bytes)``."""
        return len(self._lines), sum(map(len, self._lines))

    @property
    def closed(self) -> bool:
        """Whether the cassette is closed (or could not be written)."""
        return self._file is None

    def tap(
        self, socket: _Socket, handle: Callable[[bytes], None], url: str
    ) -> Callable[[bytes], None]:
        """Record a new socket (at ``url``): its opening, every frame, its end.

        Returns:
            The handler to give the socket instead of ``handle``.
        """
        self._sockets += 1
        number = b"%d" % self._sockets
        path = msgspec.json.encode(URL(url).path)
        self._line(b"open", b'"conn":%s,"path":%s' % (number, path))
        send, close, abort = socket.send, socket.close, socket.abort
        by_client = False
        # The hot path: one closure, the line's fixed parts made once.
        sent_head = b'{"kind":"send","conn":%s,"frame":' % number
        received_head = b'{"kind":"receive","conn":%s,"frame":' % number
        lines = self._lines
        redact = self._redact
        monotonic = time.monotonic

        def sending(data: bytes) -> None:
            if self._file is not None and not socket.closed:  # (else not sent)
                frame = data  # msgspec's: one line of JSON
                if redact is not None or b"token" in data or b"secret" in data:
                    frame = msgspec.json.encode(self._clean(_json(data)))
                t = self._offset()
                self._hold(b"".join((sent_head, frame, b',"t":', t, b"}\n")))
            send(data)

        def received(data: bytes) -> None:
            if self._file is not None:
                if redact is None and (
                    data.startswith(_INCOMING_EVENT)  # the protocol's: no secret
                    or not (b"token" in data or b"secret" in data)
                ):
                    # As it came, not decoded (a frame that is not JSON is read
                    # back as its text); made one line if it holds line breaks.
                    frame = data if b"\n" not in data else _one_line(data)
                else:
                    frame = msgspec.json.encode(self._clean(_json(data)))
                now = monotonic()  # a burst's frames share their millisecond's:
                t = self._offset(now) if now - self._stamped >= _TICK else self._stamp
                line = b"".join((received_head, frame, b',"t":', t, b"}\n"))
                if lines and len(lines) < _BATCH and len(frame) < _BIG:
                    lines.append(line)  # the flush is due
                else:
                    self._hold(line)
            handle(data)

        def closing(timeout: float = 5.0) -> Any:
            nonlocal by_client
            by_client = True
            return close(timeout)

        def aborting() -> None:
            nonlocal by_client
            by_client = True
            abort()

        def ended(_: object) -> None:
            by = b"client" if by_client else b"server"
            self._line(b"close", b'"conn":%s,"by":"%s"' % (number, by))

        socket.send = sending  # type: ignore[method-assign]
        socket.close = closing  # type: ignore[method-assign]
        socket.abort = aborting  # type: ignore[method-assign]
        socket.done.add_done_callback(ended)
        return received

    def http(
        self,
        method: str,
        url: str,
        request: bytes | dict[str, Any] | None,
        status: int,
        response: bytes,
    ) -> None:
        """Record one HTTP exchange (no headers: they hold the token and cookies)."""
        if self._file is None:
            return
        parsed = URL(url)
        query = dict(parsed.query)
        body = _json(request) if isinstance(request, bytes) else request
        if method == "GET" and isinstance(body, dict):  # the fields are the query
            query.update(body)
            body = None
        fields = {
            "method": method,
            "path": parsed.path,
            "query": self._clean(query),
            "request": self._clean(body),
            "status": status,
            "response": self._clean(_json(response)),
        }
        self._line(b"http", msgspec.json.encode(fields)[1:-1])

    def flush(self) -> None:
        """Write the records held (a timer does, :data:`FLUSH_DELAY` after one)."""
        lines, self._lines[:] = b"".join(self._lines), []
        self._held = 0
        file = self._file
        if file is None:
            return
        if file.error is not None:  # a full disk: stop recording, keep the customer
            log.error("recording stopped: %s", file.error)
            self.close()
        elif lines:
            file.write(lines)

    def close(self) -> None:
        """Write what is held and close the file (later records are dropped)."""
        if self._file is not None:
            self.flush()
        file, self._file = self._file, None
        if file is not None:
            file.close()

    def _clean(self, value: Any) -> Any:
        value = redact_secrets(value)
        return value if self._redact is None else self._redact(value)

    def _line(self, kind: bytes, fields: bytes) -> None:
        if self._file is not None:
            t = self._offset()
            self._hold(b'{"kind":"%s","t":%s,%s}\n' % (kind, t, fields))

    def _offset(self, now: float | None = None) -> bytes:
        """Seconds since the start, as written (kept for a burst's frames)."""
        self._stamped = time.monotonic() if now is None else now
        self._stamp = b"%.6f" % (self._stamped - self._start)
        return self._stamp

    def _hold(self, line: bytes) -> None:
        """Keep ``line`` for the end of this loop turn (or write it now)."""
        first = not self._lines
        self._lines.append(line)
        self._held += len(line)
        if self._held > FLUSH_BYTES or len(self._lines) >= _BATCH:
            self.flush()
        elif first:
            try:
                asyncio.get_running_loop().call_later(FLUSH_DELAY, self.flush)
            except RuntimeError:  # no loop: at once
                self.flush()

    def __del__(self) -> None:
        self.close()


def _json(data: bytes) -> Any:
    try:
        return msgspec.json.decode(data)
    except msgspec.DecodeError:
        return data.decode(errors="replace")


_INCOMING_EVENT = b'{"action":"incoming_event",'
"""How the bulk of the frames begin: a push whose fields hold no secret."""


def _one_line(data: bytes) -> bytes:
    """A received frame with line breaks, as one line of JSON."""
    return msgspec.json.encode(_json(data))
