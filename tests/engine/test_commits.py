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
    ledger.start_from(
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


# Held by async handlers -----------------------------------------------------------


async def test_an_event_held_by_a_handler_is_written_when_released() -> None:
    store = MemoryStore()
    async with store.customer("org", "key") as customer:
        commits = Commits(auto=True)
        commits.store = customer
        held = commits.hold("c1", "t1", message(1))
        assert held is not None
        commits.handed_out("c1", "t1", message(1))
        commits.handed_out("c1", "t1", message(2))  # a plain handler's: done
        assert commits.pending == 2
        assert await checkpoint(store) is None  # e2 waits behind the held e1
        commits.release(held)
        assert commits.pending == 0
        assert await checkpoint(store) == "e2"
        commits.handed_out("c1", "t1", message(3))  # nothing held: straight in
        assert await checkpoint(store) == "e3"


async def test_two_handlers_holding_an_event_both_must_end() -> None:
    store = MemoryStore()
    async with store.customer("org", "key") as customer:
        commits = Commits(auto=True)
        commits.store = customer
        first = commits.hold("c1", "t1", message(1))
        second = commits.hold("c1", "t1", message(1))
        assert first is not None
        assert second is first  # one entry, held twice
        commits.handed_out("c1", "t1", message(1))
        commits.release(first)
        assert await checkpoint(store) is None
        commits.release(second)
        assert await checkpoint(store) == "e1"


async def test_a_manual_commit_of_a_held_event_waits_for_its_handler() -> None:
    store = MemoryStore()
    async with store.customer("org", "key") as customer:
        commits = Commits(auto=False)
        commits.store = customer
        held = commits.hold("c1", "t1", message(1))
        assert held is not None
        commits.handed_out("c1", "t1", message(1))
        assert commits.commit("c1", "e1")  # committed inside the handler
        assert await checkpoint(store) is None  # which has not returned yet
        commits.release(held)
        assert await checkpoint(store) == "e1"


async def test_an_abandoned_event_stops_its_chat_for_this_life() -> None:
    store = MemoryStore()
    async with store.customer("org", "key") as customer:
        commits = Commits(auto=True)
        commits.store = customer
        one = commits.hold("c1", "t1", message(1))
        two = commits.hold("c1", "t1", message(2))
        assert one is not None
        assert two is not None
        for n in (1, 2, 3):
            commits.handed_out("c1", "t1", message(n))
        commits.abandon(two)  # dropped: never handled in this life
        commits.release(two)  # a late release changes nothing
        assert commits.pending == 1  # e1 only: e2 and e3 are given up
        commits.release(one)
        assert await checkpoint(store) == "e1"  # what came before is written
        commits.handed_out("c1", "t1", message(4))
        assert commits.hold("c1", "t1", message(5)) is None
        assert await checkpoint(store) == "e1"  # the next life replays from e2
        commits.handed_out("c2", "t9", message(6))  # other chats go on
        assert await checkpoint(store, "c2") == "e6"
        commits.forget()  # a new connection in the same life: still stopped
        commits.handed_out("c1", "t1", message(7))
        assert await checkpoint(store) == "e1"


async def test_halt_writes_nothing_handed_out_after_it() -> None:
    store = MemoryStore()
    async with store.customer("org", "key") as customer:
        commits = Commits(auto=True)
        commits.store = customer
        held = commits.hold("c1", "t1", message(1))
        assert held is not None
        commits.handed_out("c1", "t1", message(1))
        commits.halt()
        commits.handed_out("c2", "t9", message(2))
        commits.release(held)  # taken before the halt: still written
        assert await checkpoint(store) == "e1"
        assert await checkpoint(store, "c2") is None


def test_nothing_is_held_where_nothing_would_be_written() -> None:
    commits = Commits(auto=True)  # no store
    assert commits.hold("c1", "t1", message(1)) is None
    assert commits.hold("c1", "t1", Message(text="no id")) is None
    manual = Commits(auto=False)  # counted for sdk.uncommitted even without one
    assert manual.hold("c1", "t1", message(1)) is not None
    assert manual.pending == 1
