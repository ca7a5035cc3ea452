"""The outbox's queue, per backend, as durable as the store's checkpoints.

=================  ==========================================================
the customer's     the queue
store
=================  ==========================================================
none               this SDK's memory: survives drops, not a crash
MemoryStore        this process's memory, per store and customer: survives a
                   new SDK on the same store, not a crash
SQLiteStore        ``<path>-outbox``, an SQLite file beside the store's (WAL,
                   ``synchronous=NORMAL``: a committed ``put`` survives a
                   killed process)
RedisStore         ``<prefix>:<org>:<key>:outbox:*`` keys on the same server
                   (its durability is the server's, as for the checkpoints)
=================  ==========================================================

Rules:

1. :meth:`OutboxQueue.add` is idempotent on the event's ``custom_id``: a second
   ``add`` returns the entry the first made, queued, sent or failed.
2. An entry's ``seq`` grows with every ``add`` of the customer: the queue's order.
3. Puts made in one turn of the loop share one transaction (a lone put: one
   ``INSERT``); settlings are written on their own, together, every
   :data:`SETTLE_DELAY` (a crash before costs a lookup, never a second send).
   SQLite runs on the event loop's thread: a one-row commit in WAL mode costs
   less than handing it to a thread and back (measured: a writer thread took
   the one-put-at-a-time benchmark from 0.77x to 0.58x of plain ``send_event``,
   docs/performance.md). The WAL is checkpointed every
   :data:`CHECKPOINT_PAGES` pages rather than SQLite's 1,000: a checkpoint
   syncs the disk on the loop's thread for milliseconds, so it comes rarely.
4. Settled entries are kept, so that a ``put`` after a crash is still a no-op;
   the oldest are dropped past :data:`KEEP_SETTLED` per customer.
"""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar

import msgspec

from ..exceptions import StoreError
from ..protocol.models import Event
from .base import Store
from .memory import MemoryStore
from .redis import RedisStore  # light: the redis package loads when a queue opens
from .sqlite import SQLiteStore

__all__ = [
    "CHECKPOINT_PAGES",
    "KEEP_SETTLED",
    "SETTLE_DELAY",
    "OutboxEntry",
    "OutboxQueue",
    "queue_for",
]

SETTLE_DELAY = 0.02
"""Seconds settlings wait for company (SQLite): a crash before they are written
costs a lookup, never a second send."""

CHECKPOINT_PAGES = 10_000
"""WAL pages (4 KiB) written between two checkpoints of the SQLite file (rule 3)."""

KEEP_SETTLED = 100_000
"""Settled entries kept per customer (what makes a late ``put`` a no-op)."""

State = Literal["queued", "sent", "failed"]

_T = TypeVar("_T")


class OutboxEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One event put in the outbox, and what became of it.

    Attributes:
        seq: its place in the customer's queue (rule 2).
        chat_id: the chat it goes to.
        event: the event, with its ``custom_id``.
        attach_to_last_thread: sent with ``attach_to_last_thread``.
        state: ``"queued"``, ``"sent"`` or ``"failed"``.
        event_id: the server's id of the event, once sent.
        error: why it failed (the error's text), once failed.
    """

    seq: int
    chat_id: str
    event: Event
    attach_to_last_thread: bool = False
    state: State = "queued"
    event_id: str | None = None
    error: str | None = None

    @property
    def custom_id(self) -> str:
        """The event's ``custom_id``: the entry's identity."""
        return self.event.custom_id or ""


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(OutboxEntry).decode


class OutboxQueue:
    """A customer's outbox queue in one backend (see the module's table)."""

    durable = False
    """Whether the queue outlives the process."""

    async def open(self) -> list[OutboxEntry]:
        """Open it; the queued entries, in order."""
        raise NotImplementedError

    async def add(self, entry: OutboxEntry) -> OutboxEntry:
        """Queue ``entry`` (its ``seq`` is given here); or the one with its id."""
        raise NotImplementedError

    def settle(self, entry: OutboxEntry) -> asyncio.Future[None]:
        """Record that ``entry`` (``state`` sent or failed) left the queue.

        Returns:
            What is done once it is written (an error: :class:`StoreError`);
            settlings written together may share it.
        """
        raise NotImplementedError

    def hurry(self) -> None:
        """Write what waits for company now (someone waits for it)."""

    async def close(self) -> None:
        """Let go of its connection, if any."""


class _Memory(OutboxQueue):
    def __init__(self) -> None:
        self._entries: dict[str, OutboxEntry] = {}
        self._seq = 0

    def __repr__(self) -> str:
        return "memory"

    async def open(self) -> list[OutboxEntry]:
        return [e for e in self._entries.values() if e.state == "queued"]

    async def add(self, entry: OutboxEntry) -> OutboxEntry:
        found = self._entries.get(entry.custom_id)
        if found is not None:
            return found
        self._seq += 1
        entry = msgspec.structs.replace(entry, seq=self._seq)
        self._entries[entry.custom_id] = entry
        return entry

    def settle(self, entry: OutboxEntry) -> asyncio.Future[None]:
        self._entries[entry.custom_id] = entry
        if len(self._entries) > KEEP_SETTLED:
            for custom_id, old in list(self._entries.items()):
                if old.state != "queued":
                    del self._entries[custom_id]
                    break
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


_MEMORY: weakref.WeakKeyDictionary[MemoryStore, dict[tuple[str, str], _Memory]] = (
    weakref.WeakKeyDictionary()
)


class _Puts:
    """Puts that arrived in one turn of the loop: one transaction (rule 3)."""

    def __init__(self) -> None:
        self.writes: list[Callable[[sqlite3.Connection], Any]] = []
        self.futures: list[asyncio.Future[Any]] = []


class _Settlings:
    """Settlings that wait for company: one transaction (rule 3)."""

    def __init__(self, done: asyncio.Future[None]) -> None:
        self.done = done
        """What they share (one future, not one each)."""
        self.rows: list[tuple[bytes, int]] = []
        """``(entry, seq)`` of each."""
        self.prune: int | None = None
        """Settled entries up to this ``seq`` are dropped (rule 4)."""


# seq is the rowid: max + 1, growing since only old settled rows are deleted
# (rule 4); AUTOINCREMENT would write one more page per put (files made before
# have it, and work the same).
_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY,
    organization_id TEXT NOT NULL,
    customer_key TEXT NOT NULL,
    custom_id TEXT NOT NULL,
    queued INTEGER NOT NULL,
    entry BLOB NOT NULL,
    UNIQUE (organization_id, customer_key, custom_id)
);
CREATE INDEX IF NOT EXISTS outbox_queued
    ON outbox (organization_id, customer_key, queued, seq);
"""


class _SQLite(OutboxQueue):
    durable = True

    def __init__(self, path: Path, customer: tuple[str, str]) -> None:
        self.path = path
        self._customer = customer
        self._db: sqlite3.Connection | None = None
        self._puts: _Puts | None = None
        self._settlings: _Settlings | None = None

    def __repr__(self) -> str:
        return f"SQLite file {str(self.path)!r}"

    async def open(self) -> list[OutboxEntry]:
        return [_row(row) for row in self._connect()]

    def _connect(self) -> list[tuple[int, bytes]]:
        try:
            db = sqlite3.connect(self.path, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            # Another process's transaction on the file (another customer's
            # outbox) is a few hundred µs: waited for, on the loop's thread.
            db.execute("PRAGMA busy_timeout=2000")
            db.execute(f"PRAGMA wal_autocheckpoint={CHECKPOINT_PAGES}")
            db.executescript(_SCHEMA)
            self._db = db
            return db.execute(
                "SELECT seq, entry FROM outbox WHERE organization_id = ? AND"
                " customer_key = ? AND queued = 1 ORDER BY seq",
                self._customer,
            ).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: {exc}") from None

    async def add(self, entry: OutboxEntry) -> OutboxEntry:
        customer = self._customer

        def add(db: sqlite3.Connection) -> OutboxEntry:
            cursor = db.execute(
                "INSERT OR IGNORE INTO outbox (organization_id, customer_key,"
                " custom_id, queued, entry) VALUES (?, ?, ?, 1, ?)",
                (*customer, entry.custom_id, _encode(entry)),
            )
            if cursor.rowcount == 1:
                return msgspec.structs.replace(entry, seq=cursor.lastrowid or 0)
            found = db.execute(
                "SELECT seq, entry FROM outbox WHERE organization_id = ? AND"
                " customer_key = ? AND custom_id = ?",
                (*customer, entry.custom_id),
            ).fetchone()
            return _row(found)

        made: OutboxEntry = await self._write(add)
        return made

    def settle(self, entry: OutboxEntry) -> asyncio.Future[None]:
        settlings = self._settlings
        if settlings is None:
            loop = asyncio.get_running_loop()
            settlings = self._settlings = _Settlings(loop.create_future())
            loop.call_later(SETTLE_DELAY, self._write_settlings, settlings)
        settlings.rows.append((_encode(entry), entry.seq))
        if entry.seq % 1000 == 0:  # now and then: keep the newest settled
            settlings.prune = entry.seq - KEEP_SETTLED
        return settlings.done

    def hurry(self) -> None:
        if self._settlings is not None:
            self._write_settlings(self._settlings)

    async def close(self) -> None:
        if self._puts is not None:
            self._write_puts(self._puts)
        self.hurry()
        if self._db is not None:
            self._db.close()
            self._db = None

    def _write(self, write: Callable[[sqlite3.Connection], Any]) -> asyncio.Future[Any]:
        """Run ``write`` in the next turn of the loop, with the puts made meanwhile."""
        loop = asyncio.get_running_loop()
        puts = self._puts
        if puts is None:
            puts = self._puts = _Puts()
            # A timer, not call_soon: it runs after the next turn's I/O, so a
            # reply that came meanwhile (the next send) does not wait for it.
            loop.call_later(0, self._write_puts, puts)
        future: asyncio.Future[Any] = loop.create_future()
        puts.writes.append(write)
        puts.futures.append(future)
        return future

    def _write_puts(self, puts: _Puts) -> None:
        if puts is not self._puts:  # written already
            return
        self._puts = None
        writes = puts.writes
        try:
            if len(writes) == 1:  # its INSERT is its own transaction (the
                # SELECT after an ignored one only reads)
                results = self._transaction(lambda db: [writes[0](db)], atomic=False)
            else:
                results = self._transaction(lambda db: [w(db) for w in writes])
        except StoreError as exc:
            for future in puts.futures:
                if not future.done():
                    future.set_exception(exc)
            return
        for future, result in zip(puts.futures, results, strict=True):
            if not future.done():  # not given up on
                future.set_result(result)

    def _write_settlings(self, settlings: _Settlings) -> None:
        if settlings is not self._settlings:  # written already
            return
        self._settlings = None
        customer = self._customer

        def settle(db: sqlite3.Connection) -> None:
            db.executemany(
                "UPDATE outbox SET queued = 0, entry = ? WHERE seq = ?", settlings.rows
            )
            if settlings.prune is not None:
                db.execute(
                    "DELETE FROM outbox WHERE organization_id = ? AND"
                    " customer_key = ? AND queued = 0 AND seq <= ?",
                    (*customer, settlings.prune),
                )

        try:
            self._transaction(settle)
        except StoreError as exc:
            settlings.done.set_exception(exc)
        else:
            settlings.done.set_result(None)

    def _transaction(
        self, write: Callable[[sqlite3.Connection], _T], *, atomic: bool = True
    ) -> _T:
        db = self._db
        if db is None:
            raise StoreError(f"the outbox's {self!r} is closed")
        try:
            if not atomic:
                return write(db)
            db.execute("BEGIN IMMEDIATE")
            try:
                result = write(db)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return result
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: {exc}") from None


# KEYS[1] the entries hash, KEYS[2] the queued sorted set, KEYS[3] the counter;
# ARGV[1] the custom_id, ARGV[2] the entry's JSON without its seq.
_ADD = """
local found = redis.call('HGET', KEYS[1], ARGV[1])
if found then return found end
local seq = redis.call('INCR', KEYS[3])
local value = seq .. ' ' .. ARGV[2]
redis.call('HSET', KEYS[1], ARGV[1], value)
redis.call('ZADD', KEYS[2], seq, ARGV[1])
return value
"""


class _Redis(OutboxQueue):
    durable = True

    def __init__(self, store: RedisStore, customer: tuple[str, str]) -> None:
        org, key = customer
        base = f"{store.prefix}:{org}:{key}:outbox"
        self._url = store.url
        self._keys = [f"{base}:entries", f"{base}:queued", f"{base}:seq"]
        self._client: Any = None
        self._add: Any = None

    def __repr__(self) -> str:
        return f"Redis keys {self._keys[0].rsplit(':', 1)[0]}:* at {self._url!r}"

    async def open(self) -> list[OutboxEntry]:
        import redis.asyncio

        client = redis.asyncio.Redis.from_url(self._url)
        try:
            ids: list[bytes] = await client.zrange(self._keys[1], 0, -1)  # type: ignore[assignment]
            values = await client.hmget(self._keys[0], ids) if ids else []
        except redis.RedisError as exc:
            await client.aclose()
            raise StoreError(f"{self!r}: {exc}") from None
        self._client = client
        self._add = client.register_script(_ADD)
        return [_value(v) for v in values if v is not None]

    async def add(self, entry: OutboxEntry) -> OutboxEntry:
        value = await self._call(
            self._add(keys=self._keys, args=[entry.custom_id, _encode(entry)])
        )
        return _value(value)

    def settle(self, entry: OutboxEntry) -> asyncio.Future[None]:
        return asyncio.ensure_future(self._settle(entry))

    async def _settle(self, entry: OutboxEntry) -> None:
        client = self._client
        pipe = client.pipeline(transaction=True)
        pipe.hset(
            self._keys[0], entry.custom_id, f"{entry.seq} ".encode() + _encode(entry)
        )
        pipe.zrem(self._keys[1], entry.custom_id)
        if entry.seq % 1000 == 0:
            pipe.hlen(self._keys[0])
        results = await self._call(pipe.execute())
        if entry.seq % 1000 == 0 and results[-1] > KEEP_SETTLED:
            await self._prune()

    async def _prune(self) -> None:
        """Drop settled entries past the bound (rule 4), oldest first."""
        entries = await self._call(self._client.hgetall(self._keys[0]))
        settled = sorted(
            (e for e in map(_value, entries.values()) if e.state != "queued"),
            key=lambda e: e.seq,
        )
        extra = len(settled) - KEEP_SETTLED
        if extra > 0:
            await self._call(
                self._client.hdel(
                    self._keys[0], *(e.custom_id for e in settled[:extra])
                )
            )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _call(self, awaitable: Any) -> Any:
        import redis

        if self._client is None:
            raise StoreError(f"the outbox's {self!r} is not open")
        try:
            return await awaitable
        except redis.RedisError as exc:
            raise StoreError(f"{self!r}: {exc}") from None


def _row(row: tuple[int, bytes]) -> OutboxEntry:
    """An entry from its SQLite row (its ``seq`` is the row's)."""
    return msgspec.structs.replace(_decode(row[1]), seq=row[0])


def _value(value: bytes | str) -> OutboxEntry:
    raw = value.encode() if isinstance(value, str) else value
    seq, _, entry = raw.partition(b" ")
    return msgspec.structs.replace(_decode(entry), seq=int(seq))


def queue_for(store: Store | None, customer: tuple[str, str]) -> OutboxQueue:
    """The outbox queue of ``customer`` in ``store``'s backend (module table)."""
    if isinstance(store, SQLiteStore):
        return _SQLite(Path(f"{store.path}-outbox"), customer)
    if isinstance(store, MemoryStore):
        queues = _MEMORY.setdefault(store, {})
        queue = queues.get(customer)
        if queue is None:
            queue = queues[customer] = _Memory()
        return queue
    if isinstance(store, RedisStore):
        return _Redis(store, customer)
    return _Memory()
