"""RedisStore against a real redis-server: shared customers, monotonic commits,
namespaced keys, and a clear error for what is not ours."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys

import pytest

from rxlivechat.exceptions import InvalidArgumentError, StoreCorruptError, StoreError
from rxlivechat.stores import Identity, RedisStore, Snapshot

from ..redis_server import RedisServer, free_port
from .child import KEY, ORG, at
from .spawn import ROOT


async def test_keys_are_namespaced_by_organization_and_customer(
    redis_url: str, redis_server: RedisServer
) -> None:
    store = RedisStore(redis_url)
    async with store.customer(ORG, KEY) as customer:
        await customer.save_side_storage({"a": "b"})
        customer.commit("c1", "e1", at(1), "t1")
    async with store.customer("org-2", "bob") as customer:
        customer.commit("c1", "e1", at(1), "t1")
    assert redis_server.command(b"DBSIZE") == b":4"
    for key, kind in [
        (b"rxlivechat:format", b"+string"),
        (b"rxlivechat:org-1:alice:side_storage", b"+string"),
        (b"rxlivechat:org-1:alice:checkpoints", b"+hash"),
        (b"rxlivechat:org-2:bob:checkpoints", b"+hash"),
    ]:
        assert redis_server.command(b"TYPE", key) == kind, key


async def test_a_stale_writer_never_moves_a_checkpoint_back(redis_url: str) -> None:
    fresh, stale = RedisStore(redis_url), RedisStore(redis_url)
    async with fresh.customer(ORG, KEY) as ahead, stale.customer(ORG, KEY) as behind:
        ahead.commit("c1", "e9", at(9), "t2")
        await ahead.flush()
        behind.commit("c1", "e4", at(4), "t1")  # e.g. a process that lagged
        await behind.flush()
        checkpoint = (await behind.load()).checkpoints["c1"]
    assert (checkpoint.event_id, checkpoint.created_at, checkpoint.thread_id) == (
        "e9",
        at(9),
        "t2",
    )
    assert checkpoint.recent_ids == ("e9", "e4")


async def test_writers_racing_on_one_customer_lose_no_id(redis_url: str) -> None:
    stores = [RedisStore(redis_url, flush_interval=0.001) for _ in range(4)]
    handles = [store.customer(ORG, KEY) for store in stores]

    async def write(n: int) -> None:
        for i in range(n, 200, 4):
            handles[n].commit("c1", f"e{i}", at(i), "t1")
            await asyncio.sleep(0)

    for handle in handles:
        await handle.open()
    try:
        await asyncio.gather(*(write(n) for n in range(4)))
    finally:
        for handle in handles:
            await handle.close()
    async with RedisStore(redis_url).customer(ORG, KEY) as reader:
        checkpoint = (await reader.load()).checkpoints["c1"]
    assert checkpoint.event_id == "e199"
    assert set(checkpoint.recent_ids) == {f"e{i}" for i in range(200)}


async def test_keys_of_another_format_are_refused(
    redis_url: str, redis_server: RedisServer
) -> None:
    assert redis_server.command(b"SET", b"rxlivechat:format", b"7") == b"+OK"
    with pytest.raises(StoreCorruptError, match="not an rxlivechat store"):
        await RedisStore(redis_url).open()


async def test_a_key_of_the_wrong_type_is_refused(
    redis_url: str, redis_server: RedisServer
) -> None:
    key = b"rxlivechat:org-1:alice:checkpoints"
    assert redis_server.command(b"SET", key, b"not a hash") == b"+OK"
    async with RedisStore(redis_url).customer(ORG, KEY) as customer:
        with pytest.raises(StoreCorruptError, match="another type"):
            await customer.load()


async def test_an_unreadable_value_is_refused(
    redis_url: str, redis_server: RedisServer
) -> None:
    key = b"rxlivechat:org-1:alice:identity"
    assert redis_server.command(b"SET", key, b"{oops") == b"+OK"
    async with RedisStore(redis_url).customer(ORG, KEY) as customer:
        with pytest.raises(StoreCorruptError, match="unreadable identity"):
            await customer.load()


async def test_an_unreachable_server_is_a_store_error() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    with pytest.raises(StoreError, match=re.escape(url)):
        await RedisStore(url).open()


async def test_a_failed_batch_stays_buffered_for_the_next_try(
    redis_server: RedisServer,
) -> None:
    server = RedisServer(redis_server.directory)  # one this test may stop
    server.start()
    store = RedisStore(server.url, flush_interval=3600)
    customer = store.customer(ORG, KEY)
    await customer.open()
    try:
        customer.commit("c1", "e1", at(1), "t1")
        server.stop()
        with pytest.raises(StoreError):
            await customer.flush()
        customer.commit("c1", "e2", at(2), "t1")
        server.start(port=server.port)  # back: the client reconnects
        assert server.command(b"SET", b"rxlivechat:format", b"1") == b"+OK"  # kept
        await customer.flush()
        checkpoint = (await customer.load()).checkpoints["c1"]
        assert checkpoint.event_id == "e2"
        assert checkpoint.recent_ids == ("e1", "e2")
    finally:
        await customer.close()
        server.stop()


async def test_the_background_writer_retries_until_the_server_is_back(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    server = RedisServer(redis_server.directory)
    server.start()
    store = RedisStore(server.url, flush_interval=0.01)
    try:
        async with store.customer(ORG, KEY) as customer:
            server.stop()
            customer.commit("c1", "e1", at(1), "t1")
            while "writing checkpoints failed" not in caplog.text:
                await asyncio.sleep(0.01)
            server.start(port=server.port)
            assert server.command(b"SET", b"rxlivechat:format", b"1") == b"+OK"
            while store.batches_written == 0:
                await asyncio.sleep(0.01)
            assert (await customer.load()).checkpoints["c1"].event_id == "e1"
    finally:
        server.stop()


IDENTITY = Identity(
    customer_id="c-1", organization_id=ORG, client_id="x", cookies={"__lc_cid": "c-1"}
)


async def test_a_flushed_server_is_found_at_the_next_write_and_never_written(
    redis_url: str, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    store = RedisStore(redis_url, flush_interval=0.01)
    reported: list[StoreError] = []
    async with store.customer(ORG, KEY) as customer:
        customer.on_write_error(reported.append)
        await customer.save_identity(IDENTITY)
        customer.commit("c1", "e1", at(1), "t1")
        await customer.flush()
        assert redis_server.command(b"FLUSHALL") == b"+OK"
        customer.commit("c1", "e2", at(2), "t1")
        with pytest.raises(StoreError, match="vanished"):
            await customer.flush()
        async with asyncio.timeout(10):  # the background writer says so too
            while not reported:
                await asyncio.sleep(0.01)
        assert "vanished" in str(reported[0])
        assert "writing checkpoints failed" in caplog.text
        with pytest.raises(StoreError, match="vanished"):
            await customer.save_side_storage({"a": "b"})
        # Nothing half-written: only the mark of what was lost.
        assert redis_server.command(b"DBSIZE") == b":1"
        assert redis_server.command(b"EXISTS", b"rxlivechat:lost") == b":1"
        assert redis_server.command(b"SET", b"rxlivechat:format", b"1") == b"+OK"
        assert redis_server.command(b"DEL", b"rxlivechat:lost") == b":1"
        await customer.save_identity(IDENTITY)  # restored: writes go on
        await customer.flush()
        assert (await customer.load()).checkpoints["c1"].event_id == "e2"


async def test_a_store_found_lost_is_refused_at_the_next_start_unless_new_is_asked(
    redis_url: str, redis_server: RedisServer
) -> None:
    store = RedisStore(redis_url)
    customer = store.customer(ORG, KEY)
    await customer.open()
    await customer.save_identity(IDENTITY)
    assert redis_server.command(b"FLUSHALL") == b"+OK"
    customer.commit("c1", "e1", at(1), "t1")
    with pytest.raises(StoreError):
        await customer.flush()
    with pytest.raises(StoreError):  # what is buffered cannot be written
        await customer.close()
    assert not store.is_open
    with pytest.raises(StoreError, match="on_lost_identity='new'"):
        await RedisStore(redis_url).open()
    with pytest.raises(InvalidArgumentError):
        RedisStore(redis_url, on_lost_identity="maybe")  # type: ignore[arg-type]
    async with RedisStore(redis_url, on_lost_identity="new").customer(
        ORG, KEY
    ) as customer:
        assert await customer.load() == Snapshot()  # a new customer, on purpose
    async with RedisStore(redis_url).customer(ORG, KEY):  # the mark is gone
        pass


async def test_a_vanished_identity_is_marked_and_refused_for_that_customer_only(
    redis_url: str, redis_server: RedisServer
) -> None:
    store = RedisStore(redis_url)
    async with store.customer(ORG, KEY) as customer, store.customer(ORG, "bob") as bob:
        await customer.save_identity(IDENTITY)
        customer.commit("c1", "e1", at(1), "t1")
        await customer.flush()
        key = b"rxlivechat:org-1:alice:identity"
        assert redis_server.command(b"DEL", key) == b":1"  # evicted, deleted
        customer.commit("c1", "e2", at(2), "t1")
        bob.commit("c9", "e9", at(9), "t1")
        with pytest.raises(StoreError, match="identity of customer org-1:alice"):
            await customer.flush()
        await bob.flush()  # bob is fine
        assert (await bob.load()).checkpoints["c9"].event_id == "e9"
        customer.commit("c1", "e3", at(3), "t1")  # dropped: it cannot be written
        with pytest.raises(StoreError, match="identity of customer org-1:alice"):
            await customer.flush()
    with pytest.raises(StoreError, match="identity of customer org-1:alice"):
        async with RedisStore(redis_url).customer(ORG, KEY) as customer:
            await customer.load()
    store = RedisStore(redis_url, on_lost_identity="new")
    async with store.customer(ORG, KEY) as customer:
        assert await customer.load() == Snapshot()  # the old chats cleared too


def test_importing_the_stores_does_not_import_redis() -> None:
    probe = "import sys, rxlivechat.stores; print('redis' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_without_the_extra_opening_says_what_to_install() -> None:
    probe = (
        "import asyncio, sys\n"
        "sys.modules['redis'] = None  # as if the extra were not installed\n"
        "from rxlivechat.stores import RedisStore\n"
        "from rxlivechat.exceptions import StoreError\n"
        "try:\n"
        "    asyncio.run(RedisStore('redis://127.0.0.1:1').open())\n"
        "except StoreError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert "pip install 'rxlivechat[redis]'" in out.stdout
