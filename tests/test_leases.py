"""Leases on a real redis-server: one owner per key, compare-and-extend, expiry."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio

from rxlivechat.leases import Leases

from .redis_server import redis_server, redis_url  # noqa: F401


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:  # noqa: F811
    connection = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    yield connection
    await connection.aclose()


def worker(client: redis.asyncio.Redis, name: str, lease_time: float = 5.0) -> Leases:
    return Leases(client, namespace="t", worker_id=name, lease_time=lease_time)


async def test_one_worker_wins_a_key(client: redis.asyncio.Redis) -> None:
    a, b = worker(client, "a"), worker(client, "b")
    assert await a.claim("k")
    assert not await b.claim("k")
    assert await b.owners(["k", "free"]) == {"k": "a", "free": None}


async def test_renew_extends_only_the_leases_still_held(
    client: redis.asyncio.Redis,
) -> None:
    a, b = worker(client, "a", lease_time=0.2), worker(client, "b")
    assert await a.claim("k1")
    assert await a.claim("k2")
    await asyncio.sleep(0.3)  # both expired
    assert await b.claim("k2")  # taken over
    assert await a.renew(["k1", "k2"]) == {"k1", "k2"}
    assert await client.get("t:lease:k2") == "b"  # b's lease untouched
    assert await a.claim("k1")
    assert await a.renew(["k1"]) == set()
    assert 0 < await client.pttl("t:lease:k1") <= 200


async def test_release_frees_only_ones_own_lease(client: redis.asyncio.Redis) -> None:
    a, b = worker(client, "a"), worker(client, "b")
    assert await a.claim("k")
    await b.release("k")
    assert await a.owners(["k"]) == {"k": "a"}
    await a.release("k")
    assert await b.claim("k")


async def test_heartbeats_count_live_workers(client: redis.asyncio.Redis) -> None:
    a, b = worker(client, "a", lease_time=0.2), worker(client, "b")
    assert await a.heartbeat() == 1
    assert await b.heartbeat() == 2
    await asyncio.sleep(0.3)  # a is silent past its lease time
    assert await b.heartbeat() == 1
    await b.leave()
    assert await client.zcard("t:workers") == 0


async def test_the_shared_set(client: redis.asyncio.Redis) -> None:
    a = worker(client, "a")
    await a.add_customers(["x", "y"])
    assert await a.customers() == {"x", "y"}


async def test_a_lease_time_must_be_positive(client: redis.asyncio.Redis) -> None:
    with pytest.raises(ValueError, match="positive"):
        worker(client, "a", lease_time=0)
