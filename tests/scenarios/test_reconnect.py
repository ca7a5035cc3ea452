"""Surviving a bad network: reconnect, no lost events, tokens, terminal reasons.

Everything runs against the sandbox over real sockets; faults are the sandbox's.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from rxlivechat import CustomerSDK, Message, SDKClosedError
from rxlivechat.engine.engine import RECONNECT_REASONS, REFRESH_TOKEN_REASONS
from rxlivechat.protocol.methods import GetCustomer
from rxlivechat.sandbox import Sandbox, ScriptedAgent
from rxlivechat.testing.pytest_plugin import Faults

from ..helpers import Recorder, awaited, connect, until

# Fast reconnects, and no storm bound: these tests drop sockets on purpose, often.
# (The backoff policy itself is tested in tests/engine/test_backoff.py.)
FAST = {"reconnect_delay": (0.005, 0.05), "reconnects_per_minute": 10_000}


@pytest.fixture
def livechat_customer_options(
    livechat_customer_options: dict[str, Any],
) -> dict[str, Any]:
    """The plugin's customer (``livechat_customer``) reconnects fast here."""
    return livechat_customer_options | FAST


async def test_a_drop_is_lost_then_restored_with_the_chats_summary(
    livechat_customer: CustomerSDK, livechat_faults: Faults
) -> None:
    sdk = livechat_customer
    seen = Recorder(sdk)
    chat = await sdk.start_chat()
    await livechat_faults.drop_connections()
    (restored,) = await seen.wait_for("connection_restored")
    names = seen.names()
    assert names.index("connection_lost") < names.index("connection_restored")
    assert [c.id for c in restored.chats_summary] == [chat.id]
    assert not seen.of("disconnected")
    assert sdk.connected


async def test_agent_messages_survive_fifty_random_drops(
    livechat_customer: CustomerSDK,
    livechat_agent: ScriptedAgent,
    livechat_faults: Faults,
) -> None:
    sdk, agent = livechat_customer, livechat_agent
    seen = Recorder(sdk)
    chat = await sdk.start_chat()
    await agent.join(chat.id)
    rng = random.Random(7)
    total = 1000

    async def talk() -> None:
        for i in range(total):
            await agent.send_message(chat.id, f"m{i}")
            if i % 10 == 0:
                await asyncio.sleep(0)

    async def chaos() -> None:
        for _ in range(50):
            await asyncio.sleep(rng.uniform(0.0, 0.02))
            await livechat_faults.drop_connections()

    await asyncio.gather(talk(), chaos())

    def received() -> list[str]:
        return seen.texts_by(agent.id)

    async with asyncio.timeout(30):
        while len(received()) < total:
            await asyncio.sleep(0.01)
    assert received() == [f"m{i}" for i in range(total)]
    assert seen.of("connection_lost")  # drops that hit a reconnect are not counted


async def test_requests_made_during_an_outage_complete_after_reconnect(
    sandbox: Sandbox,
) -> None:
    sdk = connect(sandbox, **FAST)
    seen = Recorder(sdk)
    await sdk.wait_connected(timeout=5)
    sandbox.refuse_connections(0.3)
    await sandbox.drop_connections()
    await seen.wait_for("connection_lost")
    customer = await sdk.call(GetCustomer())  # waits for the connection
    assert customer.id == sdk.customer_id
    await sdk.destroy()


async def test_in_flight_requests_at_a_drop_settle(sandbox: Sandbox) -> None:
    sdk = connect(sandbox, **FAST)
    await sdk.wait_connected(timeout=5)
    chat = await sdk.start_chat()
    sandbox.delay_replies(10.0)  # both still in flight at the drop
    safe = asyncio.ensure_future(awaited(sdk.call(GetCustomer())))
    unsafe = asyncio.ensure_future(awaited(sdk.send_event(chat.id, Message(text="x"))))
    await asyncio.sleep(0.05)
    await sandbox.drop_connections()
    sandbox.delay_replies(0)
    assert (await safe).id == sdk.customer_id  # re-sent after the reconnect
    # Looked up by its custom_id after the reconnect: applied once, not re-sent.
    assert (await unsafe).text == "x"
    threads = sandbox.store.chats[chat.id].threads
    assert [e.text for t in threads for e in t.events if isinstance(e, Message)] == [
        "x"
    ]
    await sdk.destroy()


async def test_token_expiry_on_a_live_socket_refreshes_and_loses_nothing() -> None:
    async with Sandbox(token_ttl=1) as sandbox:
        sdk = connect(sandbox, **FAST)
        seen = Recorder(sdk)
        await sdk.wait_connected(timeout=5)
        chat = await sdk.start_chat()
        agent = sandbox.agent("Jane")
        await agent.join(chat.id)
        for i in range(30):
            await agent.send_message(chat.id, f"t{i}")
            await asyncio.sleep(0.05)
        await seen.wait_for("connection_restored")
        async with asyncio.timeout(5):
            while len(seen.texts_by(agent.id)) < 30:
                await asyncio.sleep(0.01)
        assert seen.texts_by(agent.id) == [f"t{i}" for i in range(30)]
        assert sandbox.count("login") >= 2
        assert not seen.of("disconnected")
        await sdk.destroy()


@pytest.mark.parametrize(
    "reason",
    [
        "license_not_found",
        "license_expired",
        "unsupported_version",
        "too_many_connections",
        "logged_out_remotely",
        "customer_banned",
        "customer_temporarily_blocked",
        "inactivity_timeout",
    ],
)
async def test_terminal_reasons_stop_for_good(sandbox: Sandbox, reason: str) -> None:
    assert reason not in RECONNECT_REASONS | REFRESH_TOKEN_REASONS
    sdk = connect(sandbox, **FAST)
    seen = Recorder(sdk)
    await sdk.wait_connected(timeout=5)
    logins = sandbox.count("login")
    await sandbox.disconnect_customers(reason)
    (gone,) = await seen.wait_for("disconnected")
    assert gone.reason == reason
    await asyncio.sleep(0.1)
    assert sandbox.count("login") == logins
    with pytest.raises(SDKClosedError):
        await sdk.call(GetCustomer())
    await sdk.destroy()


@pytest.mark.parametrize("reason", sorted(RECONNECT_REASONS | REFRESH_TOKEN_REASONS))
async def test_other_reasons_reconnect(sandbox: Sandbox, reason: str) -> None:
    sdk = connect(sandbox, **FAST)
    seen = Recorder(sdk)
    await sdk.wait_connected(timeout=5)
    await sandbox.disconnect_customers(reason)
    await seen.wait_for("connection_restored")
    assert not seen.of("disconnected")
    await sdk.destroy()


async def test_disconnect_during_reconnect_really_stops(sandbox: Sandbox) -> None:
    sdk = connect(sandbox, **FAST)
    await sdk.wait_connected(timeout=5)
    sandbox.refuse_connections(5)
    await sandbox.drop_connections()
    await asyncio.sleep(0.05)
    await sdk.disconnect()
    attempts = sandbox.count("login")
    await asyncio.sleep(0.2)
    assert sandbox.count("login") == attempts
    await sdk.destroy()


async def test_disconnect_during_login_really_stops(sandbox: Sandbox) -> None:
    sandbox.delay_replies(10.0, action="login")  # still logging in at disconnect()
    sdk = connect(sandbox, **FAST)
    await until(lambda: sandbox.count("login") == 1)  # received, not yet answered
    await sdk.disconnect()
    assert not sdk.connected
    await asyncio.sleep(0.2)
    assert sandbox.count("login") == 1  # no reconnect
    assert not sdk.connected
    await sdk.destroy()


@pytest.mark.parametrize("seed", range(6))
async def test_nothing_hangs_after_destroy_at_a_random_moment(
    sandbox: Sandbox, seed: int
) -> None:
    rng = random.Random(seed)
    sdk = connect(sandbox, **FAST)
    await sdk.wait_connected(timeout=5)
    chat = await sdk.start_chat()
    sandbox.delay_replies(rng.uniform(0, 0.05))
    calls = [
        asyncio.ensure_future(awaited(sdk.send_event(chat.id, Message(text=str(i)))))
        for i in range(30)
    ]
    calls += [
        asyncio.ensure_future(awaited(sdk.call(GetCustomer()))) for _ in range(10)
    ]
    await asyncio.sleep(rng.uniform(0, 0.1))
    if rng.random() < 0.5:
        await sandbox.drop_connections()
        await asyncio.sleep(rng.uniform(0, 0.02))
    await (sdk.destroy() if seed % 2 else sdk.disconnect())
    async with asyncio.timeout(2):
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
    assert len(outcomes) == 40  # every one settled: a result or an error
    await sdk.destroy()
