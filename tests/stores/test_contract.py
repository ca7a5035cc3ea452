"""What every store guarantees, checked on each: memory, SQLite and Redis."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import pytest

from rxlivechat.exceptions import InvalidArgumentError, StoreError
from rxlivechat.stores import (
    RECENT_IDS,
    BatchingStore,
    ChatCheckpoint,
    CustomerStore,
    Identity,
    RedisStore,
    Snapshot,
    SQLiteStore,
    Store,
)

from .child import IDENTITY, KEY, ORG, at
from .conftest import StoreFactory
from .spawn import spawn

ALICE = Identity(
    customer_id="customer-a",
    organization_id=ORG,
    client_id="client-1",
    cookies={"__lc_cid": "customer-a", "__lc_cst": "s3cret"},
)


async def test_a_new_customer_has_nothing(make_store: StoreFactory) -> None:
    async with make_store().customer(ORG, KEY) as customer:
        assert await customer.load() == Snapshot()


async def test_stores_and_handles_follow_the_protocols(
    make_store: StoreFactory,
) -> None:
    store = make_store()
    assert isinstance(store, Store)
    assert isinstance(store.customer(ORG), CustomerStore)
    assert store.customer(ORG).key == "default"


async def test_identity_round_trips(make_store: StoreFactory) -> None:
    async with make_store().customer(ORG, KEY) as customer:
        await customer.save_identity(ALICE)
        assert (await customer.load()).identity == ALICE
        changed = Identity(
            customer_id="customer-a",
            organization_id=ORG,
            client_id="client-1",
            cookies={"__lc_cid": "customer-a"},
        )
        await customer.save_identity(changed)
        assert (await customer.load()).identity == changed


async def test_identity_repr_hides_the_cookie_values() -> None:
    assert "s3cret" not in repr(ALICE)
    assert "__lc_cst" in repr(ALICE)


async def test_side_storage_is_replaced_whole(make_store: StoreFactory) -> None:
    async with make_store().customer(ORG, KEY) as customer:
        await customer.save_side_storage({"a": "1", "b": "2"})
        await customer.save_side_storage({"b": "3"})
        assert (await customer.load()).side_storage == {"b": "3"}


async def test_a_commit_sets_the_chat_checkpoint(make_store: StoreFactory) -> None:
    async with make_store().customer(ORG, KEY) as customer:
        customer.commit("c1", "e1", at(1), "t1")
        customer.commit("c2", "x1", at(5), "t9")
        customer.commit("c1", "e2", at(2), "t2")
        snapshot = await customer.load()
    assert snapshot.checkpoints == {
        "c1": ChatCheckpoint(
            chat_id="c1",
            event_id="e2",
            created_at=at(2),
            thread_id="t2",
            recent_ids=("e1", "e2"),
        ),
        "c2": ChatCheckpoint(
            chat_id="c2",
            event_id="x1",
            created_at=at(5),
            thread_id="t9",
            recent_ids=("x1",),
        ),
    }


@pytest.mark.parametrize("flush_between", [False, True])
async def test_a_checkpoint_never_moves_back(
    make_store: StoreFactory, flush_between: bool
) -> None:
    async with make_store().customer(ORG, KEY) as customer:
        customer.commit("c1", "new", at(10), "t2")
        if flush_between:
            await customer.flush()
        customer.commit("c1", "old", at(3), "t1")
        checkpoint = (await customer.load()).checkpoints["c1"]
    assert (checkpoint.event_id, checkpoint.created_at, checkpoint.thread_id) == (
        "new",
        at(10),
        "t2",
    )
    assert checkpoint.recent_ids == ("new", "old")  # the old one is still known


async def test_times_keep_microseconds_and_come_back_in_utc(
    make_store: StoreFactory,
) -> None:
    local = datetime.timezone(datetime.timedelta(hours=2))
    moment = datetime.datetime(2026, 12, 2, 13, 0, 0, 123456, tzinfo=local)
    async with make_store().customer(ORG, KEY) as customer:
        customer.commit("c1", "e1", moment, "t1")
        customer.commit("c1", "e0", moment - datetime.timedelta(microseconds=1), "t1")
        checkpoint = (await customer.load()).checkpoints["c1"]
    assert checkpoint.event_id == "e1"
    assert checkpoint.created_at == moment


async def test_recent_ids_are_bounded_and_in_commit_order(
    make_store: StoreFactory,
) -> None:
    async with make_store(recent_ids=5).customer(ORG, KEY) as customer:
        for i in range(8):
            customer.commit("c1", f"e{i}", at(i), "t1")
        await customer.flush()
        for i in range(8, 12):
            customer.commit("c1", f"e{i}", at(i), "t1")
        customer.commit("c1", "e9", at(9), "t1")  # committed again: moves last
        checkpoint = (await customer.load()).checkpoints["c1"]
    assert checkpoint.recent_ids == ("e7", "e8", "e10", "e11", "e9")
    assert checkpoint.event_id == "e11"


async def test_the_default_bound_is_the_ledgers(make_store: StoreFactory) -> None:
    async with make_store().customer(ORG, KEY) as customer:
        for i in range(RECENT_IDS + 100):
            customer.commit("c1", f"e{i}", at(i), "t1")
        ids = (await customer.load()).checkpoints["c1"].recent_ids
    assert ids == tuple(f"e{i}" for i in range(100, RECENT_IDS + 100))


async def test_customers_are_apart(make_store: StoreFactory) -> None:
    store = make_store()
    async with store.customer(ORG, "alice") as alice, store.customer(ORG, "bob") as bob:
        await alice.save_identity(ALICE)
        await alice.save_side_storage({"who": "alice"})
        alice.commit("c1", "a1", at(1), "t1")
        bob.commit("c2", "b1", at(1), "t1")
        assert (await bob.load()).identity is None
        assert (await bob.load()).side_storage == {}
        assert set((await bob.load()).checkpoints) == {"c2"}
        assert set((await alice.load()).checkpoints) == {"c1"}
    async with store.customer("org-2", "alice") as other:
        assert await other.load() == Snapshot()
    # A key may hold ":" (Redis keys end in fixed words, so names cannot clash).
    for key in ["alice:identity", "alice:checkpoints", "sms:+15550100"]:
        async with store.customer(ORG, key) as other:
            assert await other.load() == Snapshot()


async def test_many_commits_make_few_batches(make_store: StoreFactory) -> None:
    store = make_store(flush_interval=3600, batch_size=1000)
    async with store.customer(ORG, KEY) as customer:
        for i in range(10_000):
            customer.commit(f"c{i % 7}", f"e{i}", at(i), "t1")
            if i % 100 == 99:
                await asyncio.sleep(0)  # let the background writer run
        await customer.flush()
        assert 1 <= store.batches_written <= 10
        checkpoints = (await customer.load()).checkpoints
    assert {cp.event_id for cp in checkpoints.values()} == {
        f"e{i}" for i in range(9993, 10_000)
    }


async def test_the_background_writer_writes_without_a_flush(
    make_store: StoreFactory,
) -> None:
    store = make_store(flush_interval=0.01)
    async with store.customer(ORG, KEY) as customer:
        customer.commit("c1", "e1", at(1), "t1")
        while store.batches_written == 0:
            await asyncio.sleep(0.01)
        assert store.batches_written == 1
        assert (await customer.load()).checkpoints["c1"].event_id == "e1"


async def test_open_and_close_are_counted(make_store: StoreFactory) -> None:
    store = make_store()
    async with store:
        async with store.customer(ORG, KEY) as customer:
            customer.commit("c1", "e1", at(1), "t1")
        assert store.is_open  # the customer's close left the user's open
        async with store.customer(ORG, KEY) as customer:
            assert (await customer.load()).checkpoints["c1"].event_id == "e1"
    assert not store.is_open


async def test_a_closed_handle_refuses_work(make_store: StoreFactory) -> None:
    customer = make_store().customer(ORG, KEY)
    with pytest.raises(StoreError, match="not open"):
        customer.commit("c1", "e1", at(1), "t1")
    with pytest.raises(StoreError, match="not open"):
        await customer.load()


async def test_bad_input_is_refused(make_store: StoreFactory) -> None:
    store = make_store()
    for org, key in [("", "k"), ("org", ""), ("a:b", "k"), ("org", 7)]:
        with pytest.raises(InvalidArgumentError):
            store.customer(org, key)  # type: ignore[arg-type]
    async with store.customer(ORG, KEY) as customer:
        with pytest.raises(InvalidArgumentError, match="aware"):
            customer.commit("c1", "e1", datetime.datetime(2026, 1, 1), "t1")
        with pytest.raises(InvalidArgumentError):
            await customer.save_side_storage({"a": 1})  # type: ignore[dict-item]
        with pytest.raises(InvalidArgumentError):
            await customer.save_identity({"customer_id": "x"})  # type: ignore[arg-type]


async def test_close_writes_what_is_buffered(make_store: StoreFactory) -> None:
    async with make_store(flush_interval=3600).customer(ORG, KEY) as customer:
        await customer.save_identity(ALICE)
        customer.commit("c1", "e1", at(1), "t1")
    async with make_store().customer(ORG, KEY) as again:
        snapshot = await again.load()
    assert snapshot.identity == ALICE
    assert snapshot.checkpoints["c1"].event_id == "e1"


# Across processes (the durable stores) ------------------------------------------------


async def test_a_closed_process_is_read_back_by_the_next(
    durable: tuple[str, str],
) -> None:
    kind, target = durable
    child = await spawn("write", kind, target, "300", "close")
    assert await child.line() == "flushed"
    assert await child.finish() == 0
    snapshot = await _load(kind, target)
    assert snapshot.identity == IDENTITY
    assert snapshot.side_storage == {"cart": "3 items"}
    checkpoint = snapshot.checkpoints["c1"]
    assert checkpoint.event_id == "e300"  # the one committed just before close()
    assert checkpoint.recent_ids[-1] == "e300"
    assert len(checkpoint.recent_ids) == RECENT_IDS


async def test_a_process_killed_after_a_flush_keeps_what_was_flushed(
    durable: tuple[str, str],
) -> None:
    kind, target = durable
    child = await spawn("write", kind, target, "300", "hang")
    assert await child.line() == "flushed"
    await child.kill()
    snapshot = await _load(kind, target)
    assert snapshot.identity == IDENTITY
    checkpoint = snapshot.checkpoints["c1"]
    # The commits made after the flush were never written: they come back, the
    # flushed ones do not.
    assert (checkpoint.event_id, checkpoint.created_at) == ("e299", at(299))
    assert checkpoint.recent_ids[-1] == "e299"


async def test_the_loop_keeps_running_while_a_big_batch_is_written(
    durable: tuple[str, str],
) -> None:
    store = _store(*durable, flush_interval=3600, batch_size=10**6)
    ticks = 0

    async def heartbeat() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    async with store.customer(ORG, KEY) as customer:
        for i in range(10_000):
            customer.commit(f"chat-{i % 2000}", f"e{i}", at(i), "t1")
        beat = asyncio.create_task(heartbeat())
        await asyncio.sleep(0)
        before = ticks
        await customer.flush()  # one batch of 2,000 chats: a thread, or sockets
        during = ticks - before
        beat.cancel()
        await asyncio.gather(beat, return_exceptions=True)
        assert store.batches_written == 1
        assert len((await customer.load()).checkpoints) == 2000
    assert during > 1  # the loop ticked while the batch was written


def _store(kind: str, target: str, **options: Any) -> BatchingStore:
    if kind == "sqlite":
        return SQLiteStore(target, **options)
    return RedisStore(target, **options)


async def _load(kind: str, target: str) -> Snapshot:
    async with _store(kind, target).customer(ORG, KEY) as customer:
        return await customer.load()


def test_a_store_can_be_reopened_under_another_event_loop(
    make_store: StoreFactory,
) -> None:
    store = make_store(flush_interval=0.01)

    async def commit_and_wait(event_id: str, n: int) -> None:
        async with store.customer(ORG, KEY) as customer:
            customer.commit("c1", event_id, at(n), "t1")
            while store.batches_written < n:  # the background writer, this loop
                await asyncio.sleep(0.01)

    asyncio.run(commit_and_wait("e1", 1))
    asyncio.run(commit_and_wait("e2", 2))
