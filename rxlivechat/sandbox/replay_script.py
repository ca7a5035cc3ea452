"""What a replay expects next, and whether a request is it (pure: no I/O).

A :class:`Script` is a cassette's records less the pings (answered on the spot,
never required: their number depends on how long a run takes). A request the
customer sends is matched against the next few requests the cassette has not
seen yet (:data:`WINDOW`: requests sent concurrently may arrive in another
order), on the same socket: same action, same fields, ids remapped
consistently (:class:`~rxlivechat.protocol.cassette.IdMap`), a redacted value
matching anything.
"""

from __future__ import annotations

from typing import Any

from ..protocol.cassette import (
    Http,
    IdMap,
    Receive,
    Record,
    Send,
    compare,
    diff,
)

__all__ = ["WINDOW", "Script"]

WINDOW = 8
"""Requests not seen yet that an arriving request may match, oldest first."""


class Script:
    """A cassette's records, and how far a replay got through them.

    Args:
        records: the cassette's records, in order.
    """

    def __init__(self, records: list[Record]) -> None:
        self.records, self.lines = _without_pings(records)
        """The records replayed, and each one's line in the cassette."""
        self.ids = IdMap()
        """Recorded ids ↔ the live run's (request ids, custom ids...)."""
        self.cursor = 0
        """The record being played."""
        self.seen: set[int] = set()
        """The requests matched (indexes in :attr:`records`)."""
        self.skipped: set[tuple[int, str]] = set()
        """Requests never sent, by (socket, request id): their replies are skipped."""
        self.errors: list[str] = []
        """Why the replay failed (strict mode), in order."""

    def match_frame(self, conn: int, frame: Any) -> int | None:
        """The index of the cassette's request that ``frame`` (sent on ``conn``) is.

        ``None``: none of the next requests is it; the reason is in :attr:`errors`.
        """
        candidates = self._candidates(lambda r: isinstance(r, Send) and r.conn == conn)
        for index in candidates:
            record = self.records[index]
            assert isinstance(record, Send)
            if self._try(record.frame, frame):
                self.seen.add(index)
                return index
        action = frame.get("action") if isinstance(frame, dict) else None
        self._mismatch(f"{action!r} on socket {conn}", candidates, frame)
        return None

    def match_http(
        self, method: str, path: str, query: dict[str, str], body: Any
    ) -> int | None:
        """The index of the cassette's HTTP exchange this request is (or ``None``)."""
        candidates = self._candidates(
            lambda r: isinstance(r, Http) and (r.method, r.path) == (method, path)
        )
        live = {"query": query, "request": body}
        for index in candidates:
            record = self.records[index]
            assert isinstance(record, Http)
            if self._try({"query": record.query, "request": record.request}, live):
                self.seen.add(index)
                return index
        expected = self._candidates(lambda r: isinstance(r, Http))
        self._mismatch(f"{method} {path}", expected, {"path": path} | live)
        return None

    def skip(self, index: int) -> None:
        """Give up on a request never sent (not strict): skip its reply too."""
        record = self.records[index]
        if isinstance(record, Send) and isinstance(record.frame, dict):
            self.skipped.add((record.conn, str(record.frame.get("request_id"))))

    def is_skipped(self, record: Receive) -> bool:
        """Whether ``record`` replies to a request that was skipped."""
        frame = record.frame
        return (
            bool(self.skipped)
            and isinstance(frame, dict)
            and frame.get("type") == "response"
            and (record.conn, str(frame.get("request_id"))) in self.skipped
        )

    def missing(self) -> str | None:
        """What the replay still waits for from the customer, if anything."""
        for index in range(self.cursor, len(self.records)):
            record = self.records[index]
            if isinstance(record, Send | Http) and index not in self.seen:
                where = f"{_describe(record)} (line {self.lines[index]})"
                return (
                    f"the cassette expected {where}, the client never sent it:\n"
                    + diff(_shown(record), None)
                )
        return None

    def _candidates(self, wanted: Any) -> list[int]:
        found: list[int] = []
        for index in range(self.cursor, len(self.records)):
            if index not in self.seen and wanted(self.records[index]):
                found.append(index)
                if len(found) == WINDOW:
                    break
        return found

    def _try(self, recorded: Any, live: Any) -> bool:
        trial = IdMap()
        trial.live, trial.recorded = dict(self.ids.live), dict(self.ids.recorded)
        if next(compare(recorded, live, trial), None) is not None:
            return False
        self.ids = trial
        return True

    def _mismatch(self, what: str, candidates: list[int], received: Any) -> None:
        if not candidates:
            self.errors.append(
                f"the client sent {what}; the cassette expects no more such"
                " request here:\n" + diff(None, self.ids.to_recorded(received))
            )
            return
        record = self.records[candidates[0]]
        self.errors.append(
            f"the client sent {what}; the cassette expected {_describe(record)}"
            f" (line {self.lines[candidates[0]]}):\n"
            + diff(_shown(record), self.ids.to_recorded(received))
        )


def _describe(record: Record) -> str:
    if isinstance(record, Http):
        return f"{record.method} {record.path}"
    if isinstance(record, Send) and isinstance(record.frame, dict):
        return f"{record.frame.get('action')!r} on socket {record.conn}"
    return type(record).__name__.lower()


def _shown(record: Record) -> Any:
    if isinstance(record, Http):
        return {"path": record.path, "query": record.query, "request": record.request}
    if isinstance(record, Send):
        return record.frame
    return None


def _without_pings(records: list[Record]) -> tuple[list[Record], list[int]]:
    pings: set[tuple[int, Any]] = set()
    kept: list[Record] = []
    lines: list[int] = []
    for line, record in enumerate(records, 2):  # the header is line 1
        if isinstance(record, Send | Receive) and isinstance(record.frame, dict):
            frame = record.frame
            if frame.get("action") == "ping":
                pings.add((record.conn, frame.get("request_id")))
                continue
            if frame.get("type") == "response" and (
                (record.conn, frame.get("request_id")) in pings
            ):
                continue
        kept.append(record)
        lines.append(line)
    return kept, lines
