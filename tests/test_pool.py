"""CustomerPool: one HTTP session, a login gate, a bounded merged stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from rxlivechat import (
    CustomerPool,
    CustomerTokenProvider,
    InvalidArgumentError,
    Message,
    StreamOverflowError,
)
from rxlivechat.protocol.methods import GetCustomer
from rxlivechat.sandbox import Sandbox

from .helpers import Recorder, until


@pytest.fixture
async def pool(sandbox: Sandbox) -> AsyncIterator[CustomerPool]:
    async with CustomerPool(
        max_concurrent_logins=3,
        organization_id=sandbox.organization_id,
        client_id="test-client",
        api_url=sandbox.api_url,
        accounts_url=sandbox.accounts_url,
        request_timeout=5.0,
    ) as pool:
        yield pool


async def test_customers_share_one_session_but_keep_their_own_identity(
    pool: CustomerPool,
) -> None:
    customers = [await pool.add(f"c{i}") for i in range(5)]
    await pool.wait_connected(timeout=10)
    assert pool.connected == 5
    assert len({sdk.customer_id for sdk in customers}) == 5
    sessions = {sdk._engine.http() for sdk in customers}
    assert sessions == {pool._http}
    assert pool._http is not None
    assert isinstance(pool._http.cookie_jar, aiohttp.DummyCookieJar)  # keeps none
    # Each identity is its own: the customer's id and its own secret.
    identities = [sdk._engine.identity_cookies for sdk in customers]
    assert [i["__lc_cid"] for i in identities] == [s.customer_id for s in customers]
    assert len({i["__lc_cst"] for i in identities}) == 5


async def test_two_customers_keep_their_identities_through_refreshes_and_reconnects(
    pool: CustomerPool, sandbox: Sandbox
) -> None:
    alice, bob = await pool.add("alice"), await pool.add("bob")
    await pool.wait_connected(timeout=10)
    who = {
        sdk: (sdk.customer_id, dict(sdk._engine.identity_cookies))
        for sdk in (alice, bob)
    }
    logins = [Recorder(alice), Recorder(bob)]
    # A token refresh (expired: a new token by the cookie grant), then a drop.
    await sandbox.disconnect_customers("access_token_expired")
    await until(lambda: all(len(r.of("connection_restored")) == 1 for r in logins))
    await sandbox.drop_connections()
    await until(lambda: all(len(r.of("connection_restored")) == 2 for r in logins))
    await pool.wait_connected(timeout=10)
    for sdk, (customer_id, cookies) in who.items():
        assert sdk.customer_id == customer_id
        assert (await sdk.get_customer()).id == customer_id
        assert sdk._engine.identity_cookies["__lc_cid"] == customer_id
        assert sdk._engine.identity_cookies["__lc_cst"] == cookies["__lc_cst"]
        provider = sdk._engine._token_provider
        assert isinstance(provider, CustomerTokenProvider)
        assert provider.fetches == 2  # the refresh went to the accounts API
    assert len(sandbox.store.customers) == 2  # nobody became a new customer


async def test_the_pool_alone_closes_its_session(pool: CustomerPool) -> None:
    alice, bob = await pool.add("alice"), await pool.add("bob")
    await pool.wait_connected(timeout=10)
    session = pool._http
    assert session is not None
    await pool.remove("alice")
    assert alice._engine.closed
    assert not session.closed
    assert (await bob.web_call(GetCustomer())).id == bob.customer_id  # over it
    await pool.close()
    assert session.closed


async def test_the_merged_stream_carries_each_customer_key(
    pool: CustomerPool, sandbox: Sandbox
) -> None:
    seen: list[tuple[str, str, Any]] = []
    pool.subscribe(seen.append)
    alice = await pool.add("alice")
    bob = await pool.add("bob")
    await pool.wait_connected(timeout=10)
    assert {(k, n) for k, n, _ in seen if n == "connected"} == {
        ("alice", "connected"),
        ("bob", "connected"),
    }
    chat = await alice.start_chat([Message(text="hi")])
    agent = sandbox.agent("Jane")
    await agent.send_message(chat.id, "hello alice")
    await until(
        lambda: any(
            k == "alice" and n == "new_event" and p.event.text == "hello alice"
            for k, n, p in seen
        )
    )
    assert not any(k == "bob" and n == "new_event" for k, n, _ in seen)
    assert bob.connected


async def test_logins_pass_the_gate_a_few_at_a_time(
    pool: CustomerPool, sandbox: Sandbox
) -> None:
    sandbox.delay_replies(0.2, "login")
    for i in range(9):
        await pool.add(f"c{i}")
    most = 0
    while pool.connected < 9:
        logging_in = 3 - pool._gate._value
        most = max(most, logging_in)
        await asyncio.sleep(0.01)
    assert most == 3  # the gate was full, and never more than full


async def test_one_customer_failing_leaves_the_others_alone(
    pool: CustomerPool, sandbox: Sandbox
) -> None:
    good = await pool.add("good")
    bad = await pool.add("bad", api_url="http://127.0.0.1:9")  # nothing listens
    await good.wait_connected(timeout=10)
    errors: list[str] = []
    pool.subscribe(lambda item: errors.append(item[0]) if item[1] == "error" else None)

    def raising(_: Any) -> None:
        raise RuntimeError("a broken subscriber of one customer")

    good.subscribe(raising)
    await until(lambda: "bad" in errors)
    chat = await good.start_chat([Message(text="still here")])
    assert chat.id
    assert good.connected
    assert not bad.connected
    await pool.remove("bad")
    assert "bad" not in pool
    assert "good" in pool


async def test_add_refuses_a_key_twice_and_remove_forgets(pool: CustomerPool) -> None:
    await pool.add("k")
    with pytest.raises(InvalidArgumentError):
        await pool.add("k")
    await pool.remove("k")
    assert len(pool) == 0
    with pytest.raises(KeyError):
        await pool.remove("k")


async def _flood(pool: CustomerPool, sandbox: Sandbox, messages: int) -> None:
    sdk = await pool.add("talker")
    chat = await sdk.start_chat([Message(text="hi")])
    agent = sandbox.agent("Jane")
    for i in range(messages):
        await agent.send_message(chat.id, f"m{i}")


@pytest.mark.parametrize("overflow", ["buffer", "drop_oldest"])
async def test_a_slow_consumer_gets_a_bounded_queue(
    pool: CustomerPool, sandbox: Sandbox, overflow: Any
) -> None:
    queue = pool.queue(bound=5, overflow=overflow)
    await _flood(pool, sandbox, 30)
    await until(lambda: queue.dropped > 0 and len(queue) == 5)
    texts: list[str] = []
    while len(queue):
        _, name, payload = await asyncio.wait_for(queue.get(), 1)  # a slow reader
        await asyncio.sleep(0.01)
        if name == "new_event" and isinstance(payload.event, Message):
            texts.append(payload.event.text)
    assert queue.high_water == 5
    assert pool.dropped == queue.dropped
    if overflow == "drop_oldest":
        assert texts[-1] == "m29"  # the newest survived
    else:
        assert "m29" not in texts  # the oldest were kept
    queue.close()


async def test_a_failing_queue_fails_loudly(
    pool: CustomerPool, sandbox: Sandbox
) -> None:
    queue = pool.queue(bound=3, overflow="fail")
    await _flood(pool, sandbox, 10)
    with pytest.raises(StreamOverflowError):
        await asyncio.wait_for(_drain(queue), 5)
    assert len(queue) == 0


async def test_closing_the_pool_ends_its_queues(pool: CustomerPool) -> None:
    await pool.add("x")
    queue = pool.queue()
    reader = asyncio.ensure_future(_drain(queue))
    await pool.close()
    assert await asyncio.wait_for(reader, 5) >= 0


async def _drain(queue: Any) -> int:
    return len([item async for item in queue])


def test_bad_options_are_refused() -> None:
    with pytest.raises(InvalidArgumentError):
        CustomerPool(max_concurrent_logins=0)
    with pytest.raises(InvalidArgumentError):
        CustomerPool(connect_gate=asyncio.Semaphore(1))
