"""Partition leases on a real redis-server: epochs, compare-and-extend, expiry,
rendezvous assignment, the shared login bucket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio

from rxlivechat.cli.worker import spans
from rxlivechat.exceptions import InvalidArgumentError
from rxlivechat.leases import PartitionLeases
from rxlivechat.partitions import assigned, owners, partition_of

from .redis_server import redis_server, redis_url  # noqa: F401


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:  # noqa: F811
    connection = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    yield connection
    await connection.aclose()


def worker(
    client: redis.asyncio.Redis, name: str, lease_time: float = 5.0, partitions: int = 8
) -> PartitionLeases:
    return PartitionLeases(
        client,
        namespace="t",
        worker_id=name,
        lease_time=lease_time,
        partitions=partitions,
    )


async def test_one_worker_wins_a_partition_and_each_claim_raises_the_epoch(
    client: redis.asyncio.Redis,
) -> None:
    a, b = worker(client, "a", lease_time=0.2), worker(client, "b")
    assert await a.claim([3, 5]) == {3: 1, 5: 1}
    assert await b.claim([3]) == {}
    await asyncio.sleep(0.3)  # a's leases expired
    assert await b.claim([3]) == {3: 2}  # the next epoch fences a's writes
    assert await a.renew([3, 5]) == set()
    assert await client.get("t:lease:3") == "b"
    assert await a.claim([5]) == {5: 2}
    assert await client.get("t:epoch:5") == "2"


async def test_renew_extends_only_what_is_still_held(
    client: redis.asyncio.Redis,
) -> None:
    a, b = worker(client, "a", lease_time=0.3), worker(client, "b")
    assert await a.claim([1, 2]) == {1: 1, 2: 1}
    assert await a.renew([1, 2]) == {1, 2}
    await b.release([1])  # not b's: nothing happens
    assert await client.get("t:lease:1") == "a"
    await a.release([1])
    assert await b.claim([1]) == {1: 2}


async def test_the_partition_count_is_fixed_per_deployment(
    client: redis.asyncio.Redis,
) -> None:
    await worker(client, "a", partitions=8).agree()
    await worker(client, "b", partitions=8).agree()
    with pytest.raises(InvalidArgumentError, match="8 partitions, not 16"):
        await worker(client, "c", partitions=16).agree()


async def test_customers_live_in_their_partition(client: redis.asyncio.Redis) -> None:
    a = worker(client, "a")
    keys = [f"k{i}" for i in range(50)]
    await a.add_customers(keys)
    members = await a.customers(list(range(8)))
    assert sorted(k for keys_ in members.values() for k in keys_) == sorted(keys)
    for p, found in members.items():
        assert all(partition_of(k, 8) == p for k in found)
    before = await a.versions([partition_of("k1", 8)])
    await a.remove_customers(["k1"])
    after = await a.versions([partition_of("k1", 8)])
    assert after[partition_of("k1", 8)] == before[partition_of("k1", 8)] + 1


async def test_heartbeats_list_live_workers(client: redis.asyncio.Redis) -> None:
    a, b = worker(client, "a", lease_time=0.2), worker(client, "b")
    assert await a.heartbeat() == ["a"]
    assert await b.heartbeat() == ["a", "b"]
    await asyncio.sleep(0.3)  # a is silent past its lease time
    assert await b.heartbeat() == ["b"]
    await b.leave()
    assert await client.zcard("t:workers") == 0


async def test_the_login_bucket_paces_every_worker_together(
    client: redis.asyncio.Redis,
) -> None:
    a, b = worker(client, "a"), worker(client, "b")
    assert await a.take_logins(8, rate=10, burst=10) == (8, 0.0)
    granted, _ = await b.take_logins(8, rate=10, burst=10)
    assert granted == 2  # the bucket is shared
    granted, wait = await a.take_logins(1, rate=10, burst=10)
    assert granted == 0
    assert 0 < wait <= 0.1
    await asyncio.sleep(wait + 0.05)
    assert (await b.take_logins(1, rate=10, burst=10))[0] == 1


def test_a_join_moves_at_most_one_and_a_half_shares() -> None:
    """Rendezvous hashing: a joining worker takes about P/M, from everyone."""
    partitions = 1024
    for count in (2, 3, 5, 10, 20):
        before = owners([f"w{i}" for i in range(count)], partitions)
        after = owners([f"w{i}" for i in range(count + 1)], partitions)
        moved = sum(1 for x, y in zip(before, after, strict=True) if x != y)
        assert all(
            y == f"w{count}" for x, y in zip(before, after, strict=True) if x != y
        )
        assert moved <= 1.5 * partitions / (count + 1), (count, moved)
        leaving = owners([f"w{i}" for i in range(1, count + 1)], partitions)
        # A leave moves only the leaver's partitions.
        moved = sum(1 for x, y in zip(after, leaving, strict=True) if x != y)
        assert moved == sum(1 for x in after if x == "w0")


def test_the_assignment_covers_every_partition_once() -> None:
    workers = ["a", "b", "c"]
    shares = [assigned(w, workers, 64) for w in workers]
    assert set().union(*shares) == set(range(64))
    assert sum(len(s) for s in shares) == 64
    assert owners([], 4) == [None] * 4


def test_bad_settings_are_refused(client: redis.asyncio.Redis) -> None:
    with pytest.raises(InvalidArgumentError, match="lease_time"):
        worker(client, "a", lease_time=0)
    with pytest.raises(InvalidArgumentError, match="partitions"):
        worker(client, "a", partitions=0)


def test_partitions_are_logged_as_spans() -> None:
    assert spans([5, 0, 1, 2, 9, 10, 512]) == "0-2,5,9-10,512"
    assert spans(range(1024)) == "0-1023"
    assert spans([]) == "none"
