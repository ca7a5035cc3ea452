"""The SQLite queue's file: settlings land, seq grows, older files still work."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from rxlivechat import Message
from rxlivechat.sandbox import Sandbox
from rxlivechat.stores import SQLiteStore

from ..helpers import connect

# The queue's table as files made before 2026-12-08 have it (AUTOINCREMENT).
OLD_SCHEMA = """
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id TEXT NOT NULL,
    customer_key TEXT NOT NULL,
    custom_id TEXT NOT NULL,
    queued INTEGER NOT NULL,
    entry BLOB NOT NULL,
    UNIQUE (organization_id, customer_key, custom_id)
);
CREATE INDEX outbox_queued ON outbox (organization_id, customer_key, queued, seq);
"""


def queued_flags(path: Path) -> list[int]:
    """The ``queued`` column of every row of the queue file beside ``path``."""
    with sqlite3.connect(f"{path}-outbox") as db:
        return [q for (q,) in db.execute("SELECT queued FROM outbox ORDER BY seq")]


async def test_every_settling_is_written_by_a_clean_stop_and_seq_keeps_growing(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "store.db"
    first = connect(sandbox, store=SQLiteStore(path), customer_key="bridge")
    chat = await first.start_chat()
    entries = [
        await first.outbox.put(chat.id, Message(text=f"m{i}")) for i in range(50)
    ]
    await first.outbox.drain(timeout=30)
    await first.destroy()
    assert queued_flags(path) == [0] * 50  # settlings are written together

    second = connect(sandbox, store=SQLiteStore(path), customer_key="bridge")
    await second.outbox.drain(timeout=30)  # opened: nothing left queued
    assert second.outbox.pending == 0
    again = await second.outbox.put(chat.id, entries[0].event)
    assert (again.seq, again.state) == (entries[0].seq, "sent")
    assert again.event_id is not None
    later = await second.outbox.put(chat.id, Message(text="later"))
    assert later.seq > entries[-1].seq  # rule 2, across the restart
    await second.outbox.drain(timeout=30)
    assert sandbox.count("send_event") == 51  # nothing sent twice


async def test_a_queue_file_made_before_still_works(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "store.db"
    with sqlite3.connect(f"{path}-outbox") as db:
        db.executescript(OLD_SCHEMA)
    sdk = connect(sandbox, store=SQLiteStore(path), customer_key="bridge")
    chat = await sdk.start_chat()
    entries = [await sdk.outbox.put(chat.id, Message(text=f"o{i}")) for i in range(5)]
    await sdk.outbox.drain(timeout=30)
    assert [e.seq for e in entries] == sorted({e.seq for e in entries})
    await sdk.destroy()
    assert queued_flags(path) == [0] * 5  # all recorded as settled
    with sqlite3.connect(f"{path}-outbox") as db:
        (sequence,) = db.execute("SELECT seq FROM sqlite_sequence").fetchone()
    assert sequence == entries[-1].seq  # still its AUTOINCREMENT table
