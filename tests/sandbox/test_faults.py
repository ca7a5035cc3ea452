"""Each fault the sandbox can inject."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from rxlivechat.protocol import methods as m
from rxlivechat.protocol.base import EmptyResult
from rxlivechat.protocol.frames import ErrorResponse, Response
from rxlivechat.protocol.pushes import DisconnectionData
from rxlivechat.sandbox import RecordedRequest, RequestLog, Sandbox

from .conftest import Connect, until


async def test_drop_connections_is_abrupt(sandbox: Sandbox, connect: Connect) -> None:
    rtm = await connect(sandbox)
    await sandbox.drop_connections()
    msg = await rtm.ws.receive(timeout=2)
    assert msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
    assert rtm.ws.close_code == aiohttp.WSCloseCode.ABNORMAL_CLOSURE
    assert rtm.pushes == []  # no customer_disconnected
    await until(lambda: not sandbox.connections)


async def test_disconnect_customers_with_a_reason(
    sandbox: Sandbox, connect: Connect
) -> None:
    rtm = await connect(sandbox)
    await sandbox.disconnect_customers(
        "misdirected_connection", DisconnectionData(region="fra")
    )
    push = await rtm.push("customer_disconnected")
    assert push.payload.reason == "misdirected_connection"
    assert push.payload.data == DisconnectionData(region="fra")
    assert await rtm.closed() == aiohttp.WSCloseCode.OK


async def test_disconnect_one_customer(sandbox: Sandbox, connect: Connect) -> None:
    ann_token = await sandbox.create_customer_token()
    ann = await connect(sandbox, ann_token.access_token)
    bob = await connect(sandbox)
    await sandbox.disconnect_customers(
        "logged_out_remotely", customer_id=ann_token.entity_id
    )
    assert (await ann.push("customer_disconnected")).payload.reason == (
        "logged_out_remotely"
    )
    assert isinstance(await bob.call(m.Ping()), EmptyResult)


async def test_delay_replies(sandbox: Sandbox, connect: Connect) -> None:
    rtm = await connect(sandbox)
    sandbox.delay_replies(0.2, action="get_customer")
    started = time.monotonic()
    await rtm.call(m.GetCustomer())
    assert time.monotonic() - started >= 0.2
    started = time.monotonic()
    await rtm.call(m.ListChats())  # other actions are not delayed
    assert time.monotonic() - started < 0.2
    sandbox.delay_replies(0.1)  # every action
    started = time.monotonic()
    await rtm.call(m.ListChats())
    assert time.monotonic() - started >= 0.1
    sandbox.delay_replies(0)
    sandbox.delay_replies(0, action="get_customer")
    started = time.monotonic()
    await rtm.call(m.GetCustomer())
    assert time.monotonic() - started < 0.1


async def test_a_long_delay_is_answered_request_timeout(connect: Connect) -> None:
    async with Sandbox(request_timeout=0.1) as sandbox:
        rtm = await connect(sandbox)
        sandbox.delay_replies(1.0, action="get_customer")
        error = await rtm.error(m.GetCustomer())
        assert error.error.type == "request_timeout"


async def test_fail_next(
    sandbox: Sandbox, connect: Connect, http: aiohttp.ClientSession
) -> None:
    token = await sandbox.create_customer_token()
    rtm = await connect(sandbox, token.access_token)
    sandbox.fail_next("list_chats", "internal", count=2)
    for _ in range(2):
        error = await rtm.error(m.ListChats())
        assert (error.error.type, error.error.message) == (
            "internal",
            "Internal server error",
        )
    assert isinstance(await rtm.call(m.ListChats()), m.ListChatsResult)
    sandbox.fail_next("get_customer", "too_many_requests", message="slow down")
    async with http.post(
        sandbox.action_url("get_customer"),
        json={},
        headers={"Authorization": f"Bearer {token.access_token}"},
    ) as response:
        assert response.status == 429
        assert await response.json() == {
            "error": {"type": "too_many_requests", "message": "slow down"}
        }


async def test_fail_next_login(sandbox: Sandbox, connect: Connect) -> None:
    sandbox.fail_next("login", "users_limit_reached")
    token = await sandbox.create_customer_token()
    rtm = await connect(sandbox, login=False)
    error = await rtm.error(m.Login(token=token.access_token))
    assert error.error.type == "users_limit_reached"
    assert isinstance(await rtm.call(m.Login(token=token.access_token)), m.LoginResult)


async def test_send_raw(sandbox: Sandbox, connect: Connect) -> None:
    rtm = await connect(sandbox)
    await sandbox.send_raw("{not json")
    msg = await rtm.ws.receive(timeout=2)
    assert (msg.type, msg.data) == (aiohttp.WSMsgType.TEXT, "{not json")
    await sandbox.send_raw(b"\x00\x01", binary=True)
    msg = await rtm.ws.receive(timeout=2)
    assert (msg.type, msg.data) == (aiohttp.WSMsgType.BINARY, b"\x00\x01")
    assert isinstance(await rtm.call(m.Ping()), EmptyResult)


async def test_refuse_connections(
    sandbox: Sandbox, connect: Connect, http: aiohttp.ClientSession
) -> None:
    sandbox.refuse_connections(0.3)
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        await connect(sandbox, login=False)
    assert info.value.status == 503
    async with http.post(f"{sandbox.accounts_url}/v2/customer/token", json={}) as r:
        assert r.status == 503
        assert (await r.json())["error"]["type"] == "service_unavailable"
    await asyncio.sleep(0.35)
    await connect(sandbox)


async def test_restart_keeps_state_and_port(sandbox: Sandbox, connect: Connect) -> None:
    token = await sandbox.create_customer_token()
    rtm = await connect(sandbox, token.access_token)
    chat = await rtm.call(m.StartChat())
    port = sandbox.port
    await sandbox.restart()
    assert await rtm.closed() == aiohttp.WSCloseCode.SERVICE_RESTART
    assert sandbox.port == port
    again = await connect(sandbox, token.access_token)
    got = await again.call(m.GetChat(chat_id=chat.chat_id))
    assert got.id == chat.chat_id


async def test_pending_requests_survive_a_socket_close(
    sandbox: Sandbox, connect: Connect
) -> None:
    rtm = await connect(sandbox)
    sandbox.delay_replies(5, action="get_customer")
    await rtm.send(m.GetCustomer())
    await until(lambda: sandbox.connections[0].pending == 1)
    await rtm.ws.close()
    await until(lambda: not sandbox.connections)  # its tasks were cancelled


async def test_errors_keep_request_ids(sandbox: Sandbox, connect: Connect) -> None:
    rtm = await connect(sandbox)
    sandbox.fail_next("ping", "service_unavailable")
    rid = await rtm.send(m.Ping(), request_id="mine")
    reply = await rtm.reply(rid)
    assert isinstance(reply, ErrorResponse)
    assert (reply.request_id, reply.action) == ("mine", "ping")
    assert isinstance(await rtm.reply(await rtm.send(m.Ping())), Response)


# The request log ------------------------------------------------------------------


def test_the_request_log_sheds_old_payloads_then_old_entries() -> None:
    log = RequestLog(max_entries=5, max_bytes=250)
    for i in range(8):
        log.append(RecordedRequest("rtm", f"a{i % 2}", {"n": i}, "c", size=100))
    assert [r.payload for r in log] == [None, None, None, {"n": 6}, {"n": 7}]
    assert log.payload_bytes == 200
    assert [r.action for r in log[:2]] == ["a1", "a0"]
    assert (log.count(), log.count("a0"), log.count(customer_id="c")) == (8, 4, 8)
    assert log.count(transport="web") == 0
    log.clear()
    assert (len(log), log.count(), log.payload_bytes) == (0, 0, 0)


def test_a_payload_over_the_budget_is_shed_at_once() -> None:
    log = RequestLog(max_bytes=10)
    log.append(RecordedRequest("web", "a", {"big": 1}, None, size=11))
    assert log[0].payload is None
    assert (log.count("a"), log.payload_bytes) == (1, 0)
