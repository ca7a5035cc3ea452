"""A store in one SQLite file (stdlib sqlite3, WAL), for one process per customer.

Every SQLite call runs on one dedicated thread, so the event loop never waits on
the disk; each batch of commits is one transaction. A customer is locked to the
process that opened it by SQLite's own file lock on a small lock database next to
the store: the OS drops the lock when that process dies, even by SIGKILL.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import hashlib
import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TypeVar

from ..exceptions import StoreCorruptError, StoreError, StoreLockedError
from ._batching import BatchingStore, ChatUpdate, CustomerKey, merge_checkpoint
from ._codec import (
    checkpoint_from_row,
    decode_identity,
    decode_side_storage,
    encode,
    time_text,
)
from .base import RECENT_IDS, Identity, Snapshot

__all__ = ["FORMAT", "MAGIC", "SQLiteStore"]

MAGIC = "rxlivechat-store"
"""``meta.magic`` of every rxlivechat SQLite store."""

FORMAT = 1
"""The version of the tables below, in ``meta.format``."""

_SCHEMA = """
CREATE TABLE meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE customers (
    organization_id TEXT NOT NULL,
    customer_key TEXT NOT NULL,
    identity TEXT,
    side_storage TEXT,
    PRIMARY KEY (organization_id, customer_key)
);
CREATE TABLE checkpoints (
    organization_id TEXT NOT NULL,
    customer_key TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    recent_ids TEXT NOT NULL,
    PRIMARY KEY (organization_id, customer_key, chat_id)
) WITHOUT ROWID;
"""

# The fencing epochs (docs/stores.md): the newest epoch that wrote each customer.
# Made when missing, so a store of format 1 made before fencing reads the same.
_EPOCHS = """
CREATE TABLE IF NOT EXISTS epochs (
    organization_id TEXT NOT NULL,
    customer_key TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    PRIMARY KEY (organization_id, customer_key)
) WITHOUT ROWID
"""

_T = TypeVar("_T")

# SQLite's primary result codes that mean "these bytes are not a sound database".
_CORRUPT = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}


class SQLiteStore(BatchingStore):
    """Checkpoints in one SQLite file; a ``str`` path given as ``store=`` means this.

    A new store file is made whole beside ``path`` and linked in, so a file
    that exists is a store: one that is empty, truncated or another program's is
    :class:`~rxlivechat.exceptions.StoreCorruptError`, never a new store (in
    which the customer would silently become a new one).

    Each customer can be open in one process at a time; a second opener gets
    :class:`~rxlivechat.exceptions.StoreLockedError` (use
    :class:`~rxlivechat.stores.RedisStore` to share customers between processes).

    Args:
        path: the database file, created if missing; ``<path>.locks/`` holds the
            customers' lock files.
        flush_interval: seconds a commit may wait before its batch is written.
        batch_size: a batch is written as soon as it holds this many commits.
        recent_ids: how many event ids each checkpoint remembers.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        flush_interval: float = 0.05,
        batch_size: int = 1000,
        recent_ids: int = RECENT_IDS,
    ) -> None:
        super().__init__(
            flush_interval=flush_interval, batch_size=batch_size, recent_ids=recent_ids
        )
        self.path = Path(path)
        self._thread: concurrent.futures.ThreadPoolExecutor | None = None
        self._db: sqlite3.Connection | None = None
        self._locks: dict[CustomerKey, sqlite3.Connection] = {}

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    # On the SQLite thread ---------------------------------------------------------

    async def _run(self, work: Callable[[], _T]) -> _T:
        """Run ``work`` on the store's thread; SQLite errors become store errors."""
        if self._thread is None:
            raise StoreError(f"{self!r} is not open")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._thread, functools.partial(self._guarded, work)
        )

    def _guarded(self, work: Callable[[], _T]) -> _T:
        try:
            return work()
        except sqlite3.DatabaseError as exc:
            code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
            if code in _CORRUPT:
                raise StoreCorruptError(
                    f"{self.path} is not an rxlivechat store, or it is damaged: {exc}"
                ) from None
            raise StoreError(f"{self.path}: {exc}") from None

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            raise StoreError(f"{self!r} is not open")
        return self._db

    def _connect(self) -> None:
        if not self.path.exists():
            self._create()
        # Opened, never created, from here on: a file that exists is a store.
        db = sqlite3.connect(
            f"{self.path.resolve().as_uri()}?mode=rw",
            uri=True,
            timeout=10,
            isolation_level=None,
        )
        try:
            self._check(db)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(_EPOCHS)
        except BaseException:
            db.close()
            raise
        self._db = db

    def _create(self) -> None:
        """Create the store whole or not at all: a file at ``path`` is a store.

        Written beside it and then linked in, so a crash mid-way never leaves an
        empty file that a later start would take for a new store (a new customer).
        """
        wal = Path(f"{self.path}-wal")
        if wal.exists() and wal.stat().st_size:
            raise StoreCorruptError(
                f"{self.path} is missing but its write-ahead log {wal} is not: "
                "the store was deleted in part; refusing to start a new one"
            )
        new = self.path.with_name(f"{self.path.name}.{os.urandom(8).hex()}.new")
        db = sqlite3.connect(new, isolation_level=None)
        try:
            with _transaction(db):
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    db.execute(statement)
                db.executemany(
                    "INSERT INTO meta VALUES (?, ?)",
                    [("magic", MAGIC), ("format", str(FORMAT))],
                )
        finally:
            db.close()
        try:
            os.link(new, self.path)  # never replaces one another process made
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            if not self.path.exists():
                os.replace(new, self.path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                new.unlink()

    def _check(self, db: sqlite3.Connection) -> None:
        """Refuse a file that is not a whole store of the format this code reads."""
        if self.path.stat().st_size == 0:
            raise StoreCorruptError(
                f"{self.path} is empty: an rxlivechat store never is (a truncated "
                "copy?); refusing to start a new customer over it. Restore it, "
                "or delete it to start over as new customers"
            )
        if not _tables(db):
            raise StoreCorruptError(
                f"{self.path} is an SQLite database with no tables, not an "
                "rxlivechat store (a store is made whole): refusing to touch it"
            )
        try:
            meta = dict(db.execute("SELECT name, value FROM meta").fetchall())
        except sqlite3.OperationalError:  # no such table or columns
            meta = {}
        if meta.get("magic") != MAGIC:
            raise StoreCorruptError(
                f"{self.path} is not an rxlivechat store (no rxlivechat meta "
                "table: another program's database, or a damaged one): refusing "
                "to touch it"
            )
        if meta.get("format") != str(FORMAT):
            raise StoreCorruptError(
                f"{self.path} has store format {meta.get('format')!r}; this "
                f"rxlivechat reads format {FORMAT}"
            )

    def _close_connection(self) -> None:
        for lock in self._locks.values():
            lock.close()  # rolls back: drops the lock
        self._locks.clear()
        if self._db is not None:
            self._db.close()
            self._db = None

    # The backend ---------------------------------------------------------------------

    async def _backend_open(self) -> None:
        self._thread = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="rxlivechat-sqlite"
        )
        try:
            await self._run(self._connect)
        except BaseException:
            self._thread.shutdown(wait=False)
            self._thread = None
            raise

    async def _backend_close(self) -> None:
        try:
            await self._run(self._close_connection)
        finally:
            if self._thread is not None:
                self._thread.shutdown(wait=False)
                self._thread = None

    async def _backend_claim(self, customer: CustomerKey) -> None:
        await self._run(functools.partial(self._lock, customer))

    async def _backend_release(self, customer: CustomerKey) -> None:
        await self._run(functools.partial(self._unlock, customer))

    # The per-customer lock is SQLite's own: an exclusive transaction, never
    # committed, on a small database per customer. SQLite takes it with fcntl()
    # locks on POSIX and LockFileEx() on Windows; the OS drops either when the
    # process dies, even by SIGKILL. So this code is the same on every platform
    # (nothing POSIX-only to import), and the platform-specific part is SQLite's,
    # tested on each platform by SQLite. Its journal stays in memory: no file is
    # left beside the lock. The holder's pid is in a file of its own, as the
    # locked database cannot be read by the process it refuses.

    def _lock_files(self, customer: CustomerKey) -> tuple[Path, Path]:
        """The customer's lock database and the file naming its holder."""
        name = hashlib.sha256("\0".join(customer).encode()).hexdigest()[:32]
        directory = self.path.with_name(self.path.name + ".locks")
        return directory / f"{name}.lock.db", directory / f"{name}.pid"

    def _lock(self, customer: CustomerKey) -> None:
        path, holder_file = self._lock_files(customer)
        try:
            path.parent.mkdir(exist_ok=True)
            lock = sqlite3.connect(
                path, timeout=0, isolation_level=None, cached_statements=0
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot create the lock file {path}: {exc}") from None
        try:
            # Tiny pages and no cache: an open customer's lock costs about 17 KiB
            # rather than 100 (the default page cache is preallocated).
            lock.execute("PRAGMA page_size=512")  # the lock database stays empty
            lock.execute("PRAGMA cache_size=0")
            lock.execute("PRAGMA journal_mode=MEMORY")  # reads: busy once locked
            lock.execute("BEGIN EXCLUSIVE")
            holder_file.write_bytes(f"{os.getpid()}\n".encode())
        except sqlite3.Error as exc:
            lock.close()
            if getattr(exc, "sqlite_errorcode", 0) & 0xFF != sqlite3.SQLITE_BUSY:
                raise StoreError(f"cannot lock {path}: {exc}") from None
            org, key = customer
            raise StoreLockedError(
                f"customer {key!r} of organization {org} is already open in "
                f"{self.path} (by process {_holder(holder_file)}): an SQLite store "
                "serves a customer to one process at a time; use RedisStore to "
                "share customers between processes"
            ) from None
        except OSError as exc:
            lock.close()
            raise StoreError(f"cannot write {holder_file}: {exc}") from None
        self._locks[customer] = lock

    def _unlock(self, customer: CustomerKey) -> None:
        lock = self._locks.pop(customer, None)
        if lock is not None:
            lock.close()

    async def _backend_load(self, customer: CustomerKey) -> Snapshot:
        return await self._run(functools.partial(self._load, customer))

    def _load(self, customer: CustomerKey) -> Snapshot:
        db = self._connection()
        where = f"{self.path} ({':'.join(customer)})"
        row = db.execute(
            "SELECT identity, side_storage FROM customers"
            " WHERE organization_id = ? AND customer_key = ?",
            customer,
        ).fetchone()
        identity = side_storage = None
        if row is not None:
            identity = None if row[0] is None else decode_identity(row[0], where)
            if row[1] is not None:
                side_storage = decode_side_storage(row[1], where)
        checkpoints = {
            chat_id: checkpoint_from_row(chat_id, rest, where)
            for chat_id, *rest in db.execute(
                "SELECT chat_id, event_id, created_at, thread_id, recent_ids"
                " FROM checkpoints WHERE organization_id = ? AND customer_key = ?",
                customer,
            )
        }
        return Snapshot(
            identity=identity, checkpoints=checkpoints, side_storage=side_storage or {}
        )

    def _passes(
        self, db: sqlite3.Connection, customer: CustomerKey, epoch: int
    ) -> bool:
        """The fence rule: refused when a newer epoch wrote; else the epoch is kept."""
        if epoch == 0:  # unfenced: refused once a fenced owner wrote
            row = db.execute(
                "SELECT epoch FROM epochs"
                " WHERE organization_id = ? AND customer_key = ?",
                customer,
            ).fetchone()
            return row is None or row[0] <= 0
        cursor = db.execute(
            "INSERT INTO epochs VALUES (?, ?, ?) ON CONFLICT DO UPDATE"
            " SET epoch = excluded.epoch WHERE epoch <= excluded.epoch",
            (*customer, epoch),
        )
        return cursor.rowcount == 1

    async def _backend_write(
        self, batch: Mapping[CustomerKey, Mapping[str, ChatUpdate]]
    ) -> None:
        epochs = {customer: self._fence_of(customer).epoch for customer in batch}
        refused = await self._run(functools.partial(self._write, batch, epochs))
        for customer in refused:
            self._refused(customer)

    def _write(
        self,
        batch: Mapping[CustomerKey, Mapping[str, ChatUpdate]],
        epochs: Mapping[CustomerKey, int],
    ) -> list[CustomerKey]:
        db = self._connection()
        refused = []
        with _transaction(db):
            for customer, chats in batch.items():
                if not self._passes(db, customer, epochs[customer]):
                    refused.append(customer)
                    continue
                where = f"{self.path} ({':'.join(customer)})"
                for chat_id, update in chats.items():
                    row = db.execute(
                        "SELECT event_id, created_at, thread_id, recent_ids"
                        " FROM checkpoints WHERE organization_id = ?"
                        " AND customer_key = ? AND chat_id = ?",
                        (*customer, chat_id),
                    ).fetchone()
                    old = (
                        None
                        if row is None
                        else checkpoint_from_row(chat_id, row, where)
                    )
                    new = merge_checkpoint(old, chat_id, update, self.recent_ids)
                    db.execute(
                        "INSERT OR REPLACE INTO checkpoints"
                        " VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (
                            *customer,
                            chat_id,
                            new.event_id,
                            time_text(new.created_at),
                            new.thread_id,
                            encode(list(new.recent_ids)).decode(),
                        ),
                    )
        return refused

    async def _backend_save_identity(
        self, customer: CustomerKey, identity: Identity
    ) -> None:
        await self._save_fenced(customer, "identity", encode(identity))

    async def _backend_save_side_storage(
        self, customer: CustomerKey, storage: dict[str, str]
    ) -> None:
        await self._save_fenced(customer, "side_storage", encode(storage))

    async def _save_fenced(
        self, customer: CustomerKey, column: str, value: bytes
    ) -> None:
        epoch = self._fence_of(customer).epoch
        save = functools.partial(self._save, customer, column, value, epoch)
        if not await self._run(save):
            raise self._refused(customer)

    def _save(
        self, customer: CustomerKey, column: str, value: bytes, epoch: int
    ) -> bool:
        db = self._connection()
        with _transaction(db):
            if not self._passes(db, customer, epoch):
                return False
            db.execute(
                "INSERT INTO customers (organization_id, customer_key, "
                f"{column}) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET "
                f"{column} = excluded.{column}",
                (*customer, value.decode()),
            )
        return True


def _holder(holder_file: Path) -> str:
    """The pid the lock's holder wrote, or ``?`` (not written yet, unreadable)."""
    try:
        return holder_file.read_text(errors="replace").strip() or "?"
    except OSError:
        return "?"


def _tables(db: sqlite3.Connection) -> set[str]:
    return {
        name
        for (name,) in db.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")
    }


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
