"""Commits: written in order per chat, auto or manual, idempotent."""

from __future__ import annotations

import datetime

from rxlivechat.engine.commits import Commits
from rxlivechat.engine.recovery import EventLedger
from rxlivechat.protocol.models import Message
from rxlivechat.stores import ChatCheckpoint, MemoryStore

START = datetime.datetime(2026, 12, 2, 9, 0, tzinfo=datetime.UTC)


def message(n: int) -> Message:
    return Message(
        id=f"e{n}", text=f"m{n}", created_at=START + datetime.timedelta(seconds=n)
    )


async def checkpoint(store: MemoryStore, chat_id: str = "c1") -> str | None:
    """The committed event id of ``chat_id`` as the store holds it."""
    async with store.customer("org", "key") as customer:
        await customer.flush()
        snapshot = await customer.load()
    found = snapshot.checkpoints.get(chat_id)
    return None if found is None else found.event_id


async def test_auto_commit_writes_each_event_as_it_is_handed_out() -> None:
    store = MemoryStore()
    async with store.customer("org", "key") as customer:
        commits = Commits(auto=True)
        commits.store = customer
        commits.handed_out("c1", "t1", message(1))
        commits.handed_out("c1", "t1", message(2))
        assert commits.pending == 0
        assert await checkpoint(store) == "e2"
        assert not commits.commit("c1", "e2")  # nothing waits: already written


async def test_a_manual_commit_waits_for_every_earlier_event_of_its_chat() -> None:
    store = MemoryStore()
    async with store.customer("org", "key") as customer:
        commits = Commits(auto=False)
        commits.store = customer
        for n in (1, 2, 3):
            commits.handed_out("c1", "t1", message(n))
        commits.handed_out("c2", "t9", message(4))
        assert commits.commit("c1", "e2")
        assert await checkpoint(store) is None  # e1 is not handled yet
        assert commits.commit("c2", "e4")  # another chat does not wait on c1
        assert await checkpoint(store, "c2") == "e4"
        assert commits.commit("c1", "e1")
        assert await checkpoint(store) == "e2"  # e1 and e2 in one go
        assert commits.pending == 1
        assert commits.commit("c1", "e3")
        assert await checkpoint(store) == "e3"
        assert not commits.commit("c1", "e3")  # idempotent
        assert not commits.commit("c1", "never-handed-out")
        assert commits.pending == 0


async def test_forget_drops_what_waits_so_the_next_life_replays_it() -> None:
    store = MemoryStore()
    async with store.customer("org", "key") as customer:
        commits = Commits(auto=False)
        commits.store = customer
        commits.handed_out("c1", "t1", message(1))
        commits.forget()
        assert not commits.commit("c1", "e1")
        assert await checkpoint(store) is None


def test_a_seeded_ledger_drops_committed_events_and_starts_at_the_checkpoint() -> None:
    ledger = EventLedger()
    ledger.seed(
        ChatCheckpoint(
            chat_id="c1",
            event_id="e2",
            created_at=message(2).created_at or START,
            thread_id="t1",
            recent_ids=("e1", "e2"),
        )
    )
    assert ledger.chats == ["c1"]
    assert ledger.newest("c1") == message(2).created_at
    assert not ledger.admit("c1", message(1))
    assert not ledger.admit("c1", message(2))
    assert ledger.admit("c1", message(3))
