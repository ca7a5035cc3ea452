"""The cassette format: a recorded session as JSON lines (Sans-I/O).

Line 1 is a :class:`Header`; each later line is one record, with ``t`` its
offset in seconds from the start of the recording (monotonic clock):

* ``open`` / ``close``: the customer's socket number ``conn`` opened / closed
  (``by`` is ``"client"`` or ``"server"``);
* ``send`` / ``receive``: one RTM frame the customer sent / received on ``conn``;
* ``http``: one HTTP exchange (Web API call, upload, token request): method,
  path, query, request body, status, reply body.

Secrets never reach the file (:func:`redact_secrets`); a value that was
redacted reads ``"[redacted]"`` and matches anything on replay. Readers accept
a cut last line (a recording that crashed). The writer, the replay and the
fidelity check are elsewhere (``rxlivechat.cassette``, ``rxlivechat.sandbox.replay``);
what they share is here: the records, reading, redaction and id-aware matching.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from typing import Any, Literal

import msgspec

__all__ = [
    "FORMAT",
    "REDACTED",
    "SECRET_KEYS",
    "VERSION",
    "CassetteError",
    "CassetteMismatch",
    "Close",
    "Header",
    "Http",
    "IdMap",
    "Open",
    "Receive",
    "Record",
    "Send",
    "compare",
    "diff",
    "is_id_key",
    "read",
    "redact_secrets",
]

FORMAT = "rxlivechat-cassette"
VERSION = 1
REDACTED = "[redacted]"
"""What a redacted value reads in a cassette (a wildcard on replay)."""

SECRET_KEYS = frozenset(
    {
        "access_token",
        "refresh_token",
        "token",
        "authorization",
        "cookie",
        "set-cookie",
        "__lc_cid",
        "__lc_cst",
        "secret",
        "client_secret",
        "identity_secret",
    }
)
"""Keys (any depth, any case) whose values are always redacted."""

TIME_KEYS = frozenset({"created_at", "timestamp", "expires_in", "last_seen_timestamp"})
"""Keys whose values change with each run: compared by type only (so is any
string that is an RFC 3339 time)."""

_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")


class CassetteError(ValueError):
    """A cassette cannot be read: not one, a newer format, a broken line."""


class CassetteMismatch(AssertionError):
    """A replay saw a request the cassette does not have (or missed one)."""


class Header(msgspec.Struct, tag="header", tag_field="kind", kw_only=True):
    """The first line: what the cassette is."""

    format: str = FORMAT
    version: int = VERSION
    api_version: str
    recorded_at: str
    """When the recording started (ISO 8601, UTC)."""
    organization_id: str
    redacted: list[str]
    """The keys whose values were redacted (secrets, and the user's fields)."""


class Open(msgspec.Struct, tag="open", tag_field="kind", kw_only=True):
    """The customer's socket number ``conn`` opened."""

    t: float
    conn: int
    path: str


class Close(msgspec.Struct, tag="close", tag_field="kind", kw_only=True):
    """The customer's socket ``conn`` closed, by ``"client"`` or ``"server"``."""

    t: float
    conn: int
    by: Literal["client", "server"]


class Send(msgspec.Struct, tag="send", tag_field="kind", kw_only=True):
    """A frame the customer sent."""

    t: float
    conn: int
    frame: Any


class Receive(msgspec.Struct, tag="receive", tag_field="kind", kw_only=True):
    """A frame the customer received."""

    t: float
    conn: int
    frame: Any


class Http(msgspec.Struct, tag="http", tag_field="kind", kw_only=True):
    """An HTTP exchange: the request (no headers) and the reply."""

    t: float
    method: str
    path: str
    query: dict[str, str]
    request: Any
    """The JSON body; for an upload ``{"file": {name, content_type, size}}``."""
    status: int
    response: Any
    """The reply: its JSON, or its text when it is not JSON."""


Record = Open | Close | Send | Receive | Http

_LINE = msgspec.json.Decoder(Header | Open | Close | Send | Receive | Http)


def read(lines: Iterable[bytes]) -> tuple[Header, list[Record]]:
    """Read a cassette's lines: its header and records.

    A last line cut short (a recording that crashed mid-write) is left out.

    Raises:
        CassetteError: no header, a newer format, or a broken line before the last.
    """
    header: Header | None = None
    records: list[Record] = []
    broken: tuple[int, str] | None = None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if broken is not None:
            raise CassetteError(f"line {broken[0]} is broken: {broken[1]}")
        try:
            item = _decode(line)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            broken = (number, str(exc))
            continue
        if isinstance(item, Header):
            if header is not None or number != 1:
                raise CassetteError(f"line {number}: a second header")
            if item.format != FORMAT or item.version > VERSION:
                raise CassetteError(
                    f"not a cassette this version reads: {item.format} v{item.version}"
                )
            header = item
        elif header is None:
            raise CassetteError("the first line is not a cassette header")
        else:
            records.append(item)
    if header is None:
        raise CassetteError("empty cassette, or its header is broken")
    return header, records


_RAW_FRAME = re.compile(
    rb'\{"kind":"(send|receive)","conn":(\d+),"frame":(.*),"t":([0-9.]+)\}\s*',
    re.DOTALL,
)
"""A frame record as the recorder writes it, whatever the frame holds."""


def _decode(line: bytes) -> Header | Record:
    """One line of a cassette.

    A frame that was not JSON (the recorder writes received frames as they
    came, unchecked) is read as the string of its text.
    """
    try:
        item: Header | Record = _LINE.decode(line)
    except (msgspec.DecodeError, msgspec.ValidationError):
        raw = _RAW_FRAME.fullmatch(line)
        if raw is None:
            raise
        kind = Send if raw[1] == b"send" else Receive
        text = raw[3].decode(errors="replace")
        return kind(t=float(raw[4]), conn=int(raw[2]), frame=text)
    return item


def redact_secrets(value: Any) -> Any:
    """``value`` (decoded JSON) with every secret's value replaced, in place.

    Secrets are :data:`SECRET_KEYS` (tokens, cookies, Authorization, secrets).
    """
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and key.lower() in SECRET_KEYS:
                value[key] = REDACTED
            else:
                redact_secrets(item)
    elif isinstance(value, list):
        for item in value:
            redact_secrets(item)
    return value


def is_id_key(key: str) -> bool:
    """Whether values under ``key`` are ids (remapped, never compared as such)."""
    return key == "id" or key.endswith(("_id", "_ids")) or key == "url"


class IdMap:
    """Ids of a recording bound to those of a live run, both ways, consistently."""

    def __init__(self) -> None:
        self.live: dict[str, str] = {}
        """Recorded id → live id."""
        self.recorded: dict[str, str] = {}
        """Live id → recorded id."""

    def bind(self, recorded: str, live: str) -> bool:
        """Bind a pair; ``False`` if either is already bound to another."""
        bound = self.live.get(recorded)
        if bound is None and live not in self.recorded:
            self.live[recorded] = live
            self.recorded[live] = recorded
            return True
        return bound == live

    def embed(self, text: str) -> str:
        """``text`` with the recorded ids in it replaced by their live ids.

        Only ids of 8 characters or more: those inside URLs and paths.
        """
        for recorded, live in self.live.items():
            if len(recorded) >= 8 and recorded in text:
                text = text.replace(recorded, live)
        return text

    def to_live(self, value: Any, *, key: str = "") -> Any:
        """``value`` with every recorded id bound so far replaced by its live id."""
        return _map_ids(value, self.live, key)

    def to_recorded(self, value: Any, *, key: str = "") -> Any:
        """``value`` with every live id replaced by its recorded id."""
        return _map_ids(value, self.recorded, key)


def _map_ids(value: Any, ids: dict[str, str], key: str) -> Any:
    if isinstance(value, dict):
        return {k: _map_ids(v, ids, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_ids(v, ids, key) for v in value]
    if isinstance(value, str) and is_id_key(key):
        return ids.get(value, value)
    return value


def compare(
    recorded: Any,
    live: Any,
    ids: IdMap | None = None,
    *,
    values: bool = True,
    path: str = "",
) -> Iterator[str]:
    """Where ``live`` differs from ``recorded``, one line per difference.

    Ids are bound into ``ids`` as they are met (an id bound to another one
    differs); without ``ids``, ids are ignored. A redacted value matches
    anything; :data:`TIME_KEYS` and, with ``values=False``, every scalar are
    compared by type only.
    """
    key = path.rpartition(".")[2].partition("[")[0]
    if recorded == REDACTED:
        return
    if isinstance(recorded, dict) and isinstance(live, dict):
        for name in recorded.keys() | live.keys():
            where = f"{path}.{name}" if path else name
            if name not in live:
                yield f"{where}: missing (recorded {_short(recorded[name])})"
            elif name not in recorded:
                yield f"{where}: not recorded (got {_short(live[name])})"
            else:
                yield from compare(
                    recorded[name], live[name], ids, values=values, path=where
                )
        return
    if isinstance(recorded, list) and isinstance(live, list):
        if len(recorded) != len(live):
            yield f"{path}: {len(live)} items, recorded {len(recorded)}"
        for index, (a, b) in enumerate(zip(recorded, live, strict=False)):
            yield from compare(a, b, ids, values=values, path=f"{path}[{index}]")
        return
    if type(recorded) is not type(live) and not (
        isinstance(recorded, int | float) and isinstance(live, int | float)
    ):
        yield f"{path}: {_short(live)}, recorded {_short(recorded)} (another type)"
        return
    if is_id_key(key) and isinstance(recorded, str):
        if ids is not None and not ids.bind(recorded, live):
            yield f"{path}: id {live!r} where the recording has {recorded!r}"
        return
    if not values or key in TIME_KEYS or recorded == live:
        return
    if isinstance(recorded, str) and isinstance(live, str):
        if _TIME.match(recorded) and _TIME.match(live):
            return
        if ids is not None and ids.embed(recorded) == live:  # an id in a URL...
            return
    yield f"{path}: {_short(live)}, recorded {_short(recorded)}"


def diff(expected: Any, received: Any) -> str:
    """A unified diff of two frames (or requests), as indented JSON."""

    def lines(value: Any) -> list[str]:
        text = msgspec.json.format(msgspec.json.encode(value), indent=2).decode()
        return text.splitlines()

    return "\n".join(
        difflib.unified_diff(
            lines(expected),
            lines(received),
            "expected (cassette)",
            "received (client)",
            lineterm="",
        )
    )


def _short(value: Any) -> str:
    text = msgspec.json.encode(value).decode()
    return text if len(text) <= 60 else text[:57] + "..."
