"""The recording tap: the engine hands it each socket and each HTTP exchange.

Nothing here runs unless a customer records (``init(..., record=...)``): the
engine then taps each socket once (its ``send`` and its message handler) and
tells the tap of each HTTP exchange. Each record is one line written at once
(an unbuffered file: one ``write`` per record), so memory stays flat and a
crash leaves every record but the one being written.

Frames that cannot hold a secret (and when no user hook is set) are written as
the bytes that crossed the socket, never decoded: the tap costs one regex scan
and one ``write`` per frame.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import os
import time
from collections.abc import Callable
from typing import IO, Any, Protocol

import msgspec
from yarl import URL

from ..exceptions import InvalidArgumentError
from ..protocol.cassette import (
    MAYBE_SECRET,
    REDACTED,
    SECRET_KEYS,
    Header,
    redact_secrets,
)
from ..protocol.frames import API_VERSION

__all__ = ["Recorder", "Recording", "Redact", "RedactFields"]

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
        self._file: IO[bytes] | None = None
        try:
            self._file = open(recording.path, "wb", buffering=0)  # noqa: SIM115
        except OSError as exc:
            raise InvalidArgumentError(
                f"cannot record to {recording.path}: {exc}"
            ) from None
        self._start = time.monotonic()
        self._sockets = 0
        user_keys = getattr(recording.redact, "keys", ())
        header = Header(
            api_version=API_VERSION,
            recorded_at=datetime.datetime.now(datetime.UTC).isoformat(),
            organization_id=organization_id,
            redacted=sorted(SECRET_KEYS | set(user_keys)),
        )
        self._write(msgspec.json.encode(header) + b"\n")

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
        conn = self._sockets
        number = b"%d" % conn
        path = msgspec.json.encode(URL(url).path)
        self._line(b"open", b'"conn":%s,"path":%s' % (number, path))
        send = socket.send
        close = socket.close
        abort = socket.abort
        by_client = False

        def sending(data: bytes) -> None:
            self._frame(b"send", number, data)
            send(data)

        def closing(timeout: float = 5.0) -> Any:
            nonlocal by_client
            by_client = True
            return close(timeout)

        def aborting() -> None:
            nonlocal by_client
            by_client = True
            abort()

        def received(data: bytes) -> None:
            self._frame(b"receive", number, data)
            handle(data)

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

    def close(self) -> None:
        """Close the file (later records are dropped)."""
        file, self._file = self._file, None
        if file is not None:
            file.close()

    def _frame(self, kind: bytes, number: bytes, data: bytes) -> None:
        if self._redact is not None or b"\n" in data or MAYBE_SECRET.search(data):
            data = msgspec.json.encode(self._clean(_json(data)))
        else:
            try:  # a frame that is not JSON would break the line: checked, not decoded
                msgspec.json.decode(data, type=msgspec.Raw)
            except msgspec.DecodeError:
                data = msgspec.json.encode(data.decode(errors="replace"))
        self._line(kind, b'"conn":%s,"frame":%s' % (number, data))

    def _clean(self, value: Any) -> Any:
        value = redact_secrets(value)
        return value if self._redact is None else self._redact(value)

    def _line(self, kind: bytes, fields: bytes) -> None:
        t = time.monotonic() - self._start
        self._write(b'{"kind":"%s","t":%.6f,%s}\n' % (kind, t, fields))

    def _write(self, line: bytes) -> None:
        file = self._file
        if file is None:
            return
        try:
            file.write(line)
        except OSError as exc:  # a full disk: stop recording, keep the customer
            log.error("recording stopped: %s", exc)
            self.close()

    def __del__(self) -> None:
        self.close()


def _json(data: bytes) -> Any:
    try:
        return msgspec.json.decode(data)
    except msgspec.DecodeError:
        return data.decode(errors="replace")
