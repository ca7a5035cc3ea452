"""SQLiteStore: one file, WAL, a thread; refuses what is not its own; one process
per customer."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sqlite3
from pathlib import Path

import pytest

from rxlivechat.exceptions import StoreCorruptError, StoreError, StoreLockedError
from rxlivechat.stores import SQLiteStore, as_store
from rxlivechat.stores.sqlite import FORMAT, MAGIC

from .child import KEY, ORG, at
from .spawn import spawn


def holder_file(lock: Path) -> Path:
    """``<hash>.pid`` beside the lock database ``<hash>.lock.db``."""
    return lock.with_name(lock.name.removesuffix(".lock.db") + ".pid")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_a_new_file_gets_the_tables_the_docs_describe(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    async with SQLiteStore(path).customer(ORG, KEY) as customer:
        customer.commit("c1", "e1", at(1), "t1")
        await customer.save_side_storage({"a": "b"})
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert dict(db.execute("SELECT name, value FROM meta")) == {
            "magic": MAGIC,
            "format": str(FORMAT),
        }
        assert db.execute("SELECT * FROM checkpoints").fetchall() == [
            (ORG, KEY, "c1", "e1", "2026-12-01T09:00:01.000000+00:00", "t1", '["e1"]')
        ]
        assert db.execute("SELECT * FROM customers").fetchall() == [
            (ORG, KEY, None, '{"a":"b"}')
        ]
    db.close()


async def test_a_file_that_is_not_a_database_is_refused_untouched(
    tmp_path: Path,
) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"these are my notes, not a database\n" * 200)
    before = digest(path)
    with pytest.raises(StoreCorruptError, match="not an rxlivechat store"):
        await SQLiteStore(path).open()
    assert digest(path) == before


async def test_another_programs_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        db.execute("INSERT INTO users (name) VALUES ('ada')")
    db.close()
    before = digest(path)
    store = SQLiteStore(path)
    with pytest.raises(StoreCorruptError, match="another program"):
        await store.open()
    assert not store.is_open
    assert digest(path) == before


async def test_a_database_with_a_foreign_meta_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE meta (key TEXT, data BLOB)")
    db.close()
    with pytest.raises(StoreCorruptError, match="another program"):
        await SQLiteStore(path).open()


async def test_a_store_of_another_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    async with SQLiteStore(path):
        pass
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '99' WHERE name = 'format'")
    db.close()
    with pytest.raises(StoreCorruptError, match="format '99'"):
        await SQLiteStore(path).open()


async def test_a_damaged_store_is_an_error_not_an_empty_customer(
    tmp_path: Path,
) -> None:
    path = tmp_path / "store.db"
    async with SQLiteStore(path).customer(ORG, KEY) as customer:
        for chat in range(200):  # enough rows for several pages
            customer.commit(f"chat-{chat}", f"e{chat}", at(chat), "t1")
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 3 * page
    data[page:] = b"\xa5" * (len(data) - page)  # every page after the first
    path.write_bytes(bytes(data))
    with pytest.raises(StoreCorruptError):
        async with SQLiteStore(path).customer(ORG, KEY) as customer:
            await customer.load()


async def test_an_empty_file_is_refused_never_a_new_customer(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    path.touch()  # what a failed copy or a full disk leaves
    with pytest.raises(StoreCorruptError, match="is empty"):
        await SQLiteStore(path).customer(ORG, KEY).open()
    assert path.read_bytes() == b""  # untouched: no tables written into it


async def test_an_empty_database_of_another_program_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 7")  # a valid database, no tables
    db.close()
    before = digest(path)
    with pytest.raises(StoreCorruptError, match="not an rxlivechat store"):
        await SQLiteStore(path).open()
    assert digest(path) == before


@pytest.mark.parametrize("keep", ["1", "99", "100", "4096", "half", "all but 1"])
async def test_a_truncated_store_is_refused_never_a_new_customer(
    tmp_path: Path, keep: str
) -> None:
    path = tmp_path / "store.db"
    async with SQLiteStore(path).customer(ORG, KEY) as customer:
        for chat in range(200):  # several pages
            customer.commit(f"chat-{chat}", f"e{chat}", at(chat), "t1")
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    data = path.read_bytes()
    size = {"half": len(data) // 2, "all but 1": len(data) - 1}.get(keep) or int(keep)
    path.write_bytes(data[:size])
    before = digest(path)
    with pytest.raises(StoreCorruptError):
        async with SQLiteStore(path).customer(ORG, KEY) as customer:
            await customer.load()
    assert digest(path) == before


async def test_a_new_store_appears_whole(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    async with SQLiteStore(path):
        pass
    # Made beside it and linked in: nothing else is left behind.
    assert os.listdir(tmp_path) == ["store.db"]
    with sqlite3.connect(path) as db:
        assert dict(db.execute("SELECT name, value FROM meta"))["magic"] == MAGIC
    db.close()


async def test_two_stores_creating_one_file_at_once_in_one_process_both_open(
    tmp_path: Path,
) -> None:
    first, second = (
        SQLiteStore(tmp_path / "store.db"),
        SQLiteStore(tmp_path / "store.db"),
    )
    await asyncio.gather(first.open(), second.open())
    await asyncio.gather(first.close(), second.close())
    assert os.listdir(tmp_path) == ["store.db"]


async def test_a_log_without_its_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    wal = tmp_path / "store.db-wal"
    wal.write_bytes(b"\x37\x7f\x06\x82" + bytes(28))
    with pytest.raises(StoreCorruptError, match="deleted in part"):
        await SQLiteStore(path).open()
    assert not path.exists()


async def test_a_missing_directory_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="unable to open"):
        await SQLiteStore(tmp_path / "nowhere" / "store.db").open()


async def test_a_second_handle_in_the_same_process_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    async with SQLiteStore(path).customer(ORG, KEY):
        second = SQLiteStore(path)
        with pytest.raises(StoreLockedError, match="RedisStore"):
            await second.customer(ORG, KEY).open()
        assert not second.is_open  # the refused open closed what it opened
        async with second.customer(ORG, "bob"):  # another customer is fine
            pass


async def test_another_process_is_refused_the_customer(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    async with SQLiteStore(path).customer(ORG, KEY):
        child = await spawn("open", "sqlite", str(path), KEY)
        refusal = await child.line()
        assert await child.finish() == 0
        child = await spawn("open", "sqlite", str(path), "bob")
        assert await child.line() == "opened"
        assert await child.finish() == 0
    assert refusal.startswith("refused StoreLockedError: customer 'alice'")
    assert "use RedisStore to share" in refusal
    child = await spawn("open", "sqlite", str(path), KEY)  # released at close
    assert await child.line() == "opened"
    assert await child.finish() == 0


async def test_a_killed_holder_does_not_lock_the_customer_forever(
    tmp_path: Path,
) -> None:
    path = tmp_path / "store.db"
    holder = await spawn("hold", "sqlite", str(path), KEY)
    assert await holder.line() == "holding"
    with pytest.raises(StoreLockedError, match=rf"by process {holder.process.pid}\b"):
        await SQLiteStore(path).customer(ORG, KEY).open()
    await holder.kill()
    async with SQLiteStore(path).customer(ORG, KEY) as customer:
        customer.commit("c1", "e1", at(1), "t1")


async def test_the_lock_is_sqlites_own_on_a_database_per_customer(
    tmp_path: Path,
) -> None:
    path = tmp_path / "store.db"
    locks = tmp_path / "store.db.locks"
    async with SQLiteStore(path).customer(ORG, KEY):
        (lock,) = locks.glob("*.lock.db")
        holder = holder_file(lock)  # the holder's pid, for StoreLockedError
        # The journal is in memory: no -journal file beside the lock.
        assert sorted(locks.iterdir()) == sorted([lock, holder])
        assert holder.read_text() == f"{os.getpid()}\n"
        # Any SQLite, in any process, sees the customer's lock database locked.
        outside = sqlite3.connect(lock, timeout=0)
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            outside.execute("BEGIN EXCLUSIVE")
    outside.execute("BEGIN EXCLUSIVE")  # released at close
    outside.close()


async def test_a_lock_taken_outside_refuses_the_customer(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    async with SQLiteStore(path).customer(ORG, KEY):
        (lock,) = (tmp_path / "store.db.locks").glob("*.lock.db")
    holder_file(lock).unlink()
    outside = sqlite3.connect(lock, timeout=0, isolation_level=None)
    outside.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreLockedError, match=r"\(by process \?\)"):
            await SQLiteStore(path).customer(ORG, KEY).open()
    finally:
        outside.close()
    async with SQLiteStore(path).customer(ORG, KEY):
        pass


def test_a_path_is_shorthand_for_an_sqlite_store(tmp_path: Path) -> None:
    store = as_store(str(tmp_path / "a.db"))
    assert isinstance(store, SQLiteStore)
    assert store.path == tmp_path / "a.db"
    assert isinstance(as_store(tmp_path / "b.db"), SQLiteStore)


async def test_processes_creating_one_new_store_at_once_both_succeed(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "store.db")
    children = [await spawn("open", "sqlite", path, key) for key in ("a", "b", "c")]
    assert [await child.line() for child in children] == ["opened"] * 3
    assert [await child.finish() for child in children] == [0] * 3
