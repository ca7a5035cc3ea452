"""MemoryStore, the default, and as_store: what a ``store=`` argument means."""

from __future__ import annotations

import pytest

from rxlivechat.exceptions import InvalidArgumentError
from rxlivechat.stores import MemoryStore, RedisStore, SQLiteStore, as_store

from .child import KEY, ORG, at


def test_no_store_means_a_fresh_memory_store() -> None:
    first, second = as_store(None), as_store(None)
    assert isinstance(first, MemoryStore)
    assert first is not second


def test_a_store_is_taken_as_it_is() -> None:
    store = MemoryStore()
    assert as_store(store) is store


def test_a_redis_url_means_a_redis_store() -> None:
    store = as_store("redis://127.0.0.1:6390/2")
    assert isinstance(store, RedisStore)
    assert store.url == "redis://127.0.0.1:6390/2"
    assert isinstance(as_store("rediss://example.invalid"), RedisStore)
    assert isinstance(as_store("customers.db"), SQLiteStore)


@pytest.mark.parametrize("value", [42, b"store.db", "", ["a.db"]])
def test_anything_else_is_refused(value: object) -> None:
    with pytest.raises(InvalidArgumentError):
        as_store(value)  # type: ignore[arg-type]


async def test_a_memory_store_carries_a_customer_to_the_next_sdk_in_the_process() -> (
    None
):
    store = MemoryStore()
    async with store.customer(ORG, KEY) as customer:
        customer.commit("c1", "e1", at(1), "t1")
    assert not store.is_open
    async with store.customer(ORG, KEY) as customer:
        assert (await customer.load()).checkpoints["c1"].event_id == "e1"


async def test_a_fresh_memory_store_knows_nothing() -> None:
    async with MemoryStore().customer(ORG, KEY) as customer:
        customer.commit("c1", "e1", at(1), "t1")
    async with MemoryStore().customer(ORG, KEY) as customer:
        assert (await customer.load()).checkpoints == {}


async def test_a_memory_customer_may_be_open_twice() -> None:
    store = MemoryStore()
    async with store.customer(ORG, KEY) as one, store.customer(ORG, KEY) as two:
        one.commit("c1", "e1", at(1), "t1")
        assert (await two.load()).checkpoints["c1"].event_id == "e1"
