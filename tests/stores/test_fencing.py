"""Fenced writes: a write of a stale epoch is refused by every store, counted."""

from __future__ import annotations

import pytest
import redis.asyncio

from rxlivechat.exceptions import FencedError, InvalidArgumentError
from rxlivechat.stores import RedisStore, Snapshot
from rxlivechat.stores._batching import CustomerKey

from .child import IDENTITY, KEY, ORG, at
from .conftest import StoreFactory


async def test_a_write_of_an_older_epoch_is_refused(make_store: StoreFactory) -> None:
    new_owner = make_store()
    new_owner.fence(ORG, KEY, 2)
    async with new_owner.customer(ORG, KEY) as customer:
        customer.commit("chat-1", "e2", at(2), "t1")
        await customer.flush()
        await customer.save_identity(IDENTITY)

    stale = make_store()
    refused: list[CustomerKey] = []
    stale.on_fenced(lambda customer, error: refused.append(customer))
    stale.fence(ORG, KEY, 1)
    async with stale.customer(ORG, KEY) as customer:
        customer.commit("chat-1", "e3", at(3), "t1")
        with pytest.raises(FencedError, match="epoch 1 was refused"):
            await customer.flush()
        customer.commit("chat-1", "e4", at(4), "t1")  # dropped at once
        with pytest.raises(FencedError):
            await customer.save_identity(IDENTITY)
        with pytest.raises(FencedError):
            await customer.save_side_storage({"a": "b"})
        snapshot = await _load_ignoring_fence(make_store)
        assert snapshot.checkpoints["chat-1"].event_id == "e2"
        assert snapshot.checkpoints["chat-1"].recent_ids == ("e2",)
        assert snapshot.side_storage == {}
        assert refused == [(ORG, KEY)]  # the backend refused once; then locally

        stale.fence(ORG, KEY, 3)  # claimed again, newer than anyone: lifted
        customer.commit("chat-1", "e5", at(5), "t1")
        await customer.flush()
    snapshot = await _load_ignoring_fence(make_store)
    assert snapshot.checkpoints["chat-1"].recent_ids == ("e2", "e5")


async def _load_ignoring_fence(make_store: StoreFactory) -> Snapshot:
    """What the storage holds (read past the handles: a fenced one refuses)."""
    async with make_store() as reader:
        return await reader._backend_load((ORG, KEY))


async def test_an_unfenced_write_after_a_fenced_owner_is_refused(
    make_store: StoreFactory,
) -> None:
    store = make_store()
    store.fence(ORG, KEY, 1)
    async with store.customer(ORG, KEY) as customer:
        await customer.save_side_storage({"owner": "fenced"})
    other = make_store()
    other._fences.clear()  # the same memory store: forget its fence
    async with other.customer(ORG, KEY) as customer:
        with pytest.raises(FencedError):
            await customer.save_side_storage({"owner": "stray"})


async def test_revoke_drops_buffered_commits_before_the_backend(
    make_store: StoreFactory,
) -> None:
    store = make_store(flush_interval=60)
    store.fence(ORG, KEY, 1)
    async with store.customer(ORG, KEY) as customer:
        customer.commit("chat-1", "e1", at(1), "t1")
        store.revoke(ORG, KEY, "the lease was lost")
        customer.commit("chat-1", "e2", at(2), "t1")
        with pytest.raises(FencedError, match="the lease was lost"):
            await customer.flush()
        assert store.batches_written == 0
    snapshot = await _load_ignoring_fence(make_store)
    assert snapshot == Snapshot()


async def test_a_bad_epoch_is_refused_before_anything(make_store: StoreFactory) -> None:
    store = make_store()
    for epoch in (0, -1, True, 1.5):
        with pytest.raises(InvalidArgumentError, match="epoch"):
            store.fence(ORG, KEY, epoch)  # type: ignore[arg-type]


async def test_redis_refuses_below_the_lease_counter_before_any_newer_write(
    redis_url: str,
) -> None:
    """The lease's counter fences at the claim, before the new owner writes."""
    counter = "t:epoch:7"
    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    try:
        await client.set(counter, 4)
        stale, current = RedisStore(redis_url), RedisStore(redis_url)
        stale.fence(ORG, KEY, 3, counter=counter)
        current.fence(ORG, KEY, 4, counter=counter)
        async with (
            stale.customer(ORG, KEY) as old,
            current.customer(ORG, KEY) as new,
        ):
            old.commit("chat-1", "late", at(9), "t1")
            with pytest.raises(FencedError):
                await old.flush()
            new.commit("chat-1", "e1", at(1), "t1")
            await new.flush()
            assert await client.get(f"rxlivechat:{ORG}:{KEY}:epoch") == "4"
            checkpoint = (await new.load()).checkpoints["chat-1"]
            assert checkpoint.recent_ids == ("e1",)
    finally:
        await client.aclose()


async def test_redis_store_calls_time_out(redis_url: str) -> None:
    with pytest.raises(InvalidArgumentError, match="timeout"):
        RedisStore(redis_url, timeout=0)
    assert RedisStore(redis_url, timeout=0.5).timeout == 0.5
