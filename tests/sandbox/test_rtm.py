"""The RTM WebSocket over real sockets: login, timeouts, limits, frames, fan-out."""

from __future__ import annotations

import asyncio
import contextlib
import json

import aiohttp

from rxlivechat.protocol import methods as m
from rxlivechat.protocol.base import EmptyResult
from rxlivechat.protocol.frames import ErrorResponse, Push, Response
from rxlivechat.protocol.models import Customer, Message
from rxlivechat.protocol.pushes import CustomerDisconnected, IncomingEvent
from rxlivechat.sandbox import Sandbox

from .conftest import Connect, until

# Login ----------------------------------------------------------------------------


async def test_login_returns_the_customer(sandbox: Sandbox, connect: Connect) -> None:
    token = await sandbox.create_customer_token()
    rtm = await connect(sandbox, login=False)
    result = await rtm.call(
        m.Login(
            token=f"Bearer {token.access_token}",
            customer=m.LoginCustomer(name="Ann", session_fields=[{"a": "1"}]),
            customer_page=m.CustomerPage(url="https://shop.example/", title="Shop"),
        )
    )
    assert isinstance(result, m.LoginResult)
    assert result.customer.id == token.entity_id
    assert result.customer.name == "Ann"
    assert result.customer.session_fields == [{"a": "1"}]
    assert result.customer.statistics is not None
    assert result.customer.statistics.visits_count == 1
    assert result.customer.statistics.page_views_count == 1
    assert result.has_active_thread is False
    assert result.chats == []
    storage = await rtm.push("customer_side_storage_updated")
    assert storage.payload.customer_side_storage == {"customer_visits": "1"}


async def test_login_accepts_a_token_without_bearer(
    sandbox: Sandbox, connect: Connect
) -> None:
    token = await sandbox.create_customer_token()
    rtm = await connect(sandbox, login=False)
    result = await rtm.call(m.Login(token=token.access_token))
    assert result.customer.id == token.entity_id


async def test_login_lists_chats_with_unread_flags(
    sandbox: Sandbox, connect: Connect
) -> None:
    token = await sandbox.create_customer_token()
    chat_id = sandbox.seed_chat(token.entity_id, threads=2, active=True)
    rtm = await connect(sandbox, login=False)
    result = await rtm.call(m.Login(token=token.access_token))
    assert result.has_active_thread is True
    assert result.chats == [m.LoginChat(chat_id=chat_id, has_unread_events=False)]


async def test_bad_token_is_refused_with_authentication(
    sandbox: Sandbox, connect: Connect
) -> None:
    rtm = await connect(sandbox, login=False)
    error = await rtm.error(m.Login(token="Bearer dal:not-a-token"))
    assert error.error.type == "authentication"
    assert error.error.message == "Invalid access token"


async def test_second_login_on_a_socket_is_refused(
    sandbox: Sandbox, connect: Connect
) -> None:
    rtm = await connect(sandbox)
    token = await sandbox.create_customer_token()
    error = await rtm.error(m.Login(token=token.access_token))
    assert error.error.type == "validation"


async def test_only_login_and_ping_before_login(
    sandbox: Sandbox, connect: Connect
) -> None:
    rtm = await connect(sandbox, login=False)
    assert await rtm.call(m.Ping()) == EmptyResult()
    error = await rtm.error(m.ListChats())
    assert error.error.type == "authorization"
    assert error.action == "list_chats"


async def test_unknown_organization_is_disconnected(
    sandbox: Sandbox, connect: Connect
) -> None:
    url = sandbox.ws_url.replace(sandbox.organization_id, "no-such-org")
    rtm = await connect(sandbox, login=False, url=url)
    push = await rtm.push("customer_disconnected")
    assert push.payload == CustomerDisconnected(reason="license_not_found")
    assert await rtm.closed() == aiohttp.WSCloseCode.POLICY_VIOLATION


# Timeouts -------------------------------------------------------------------------


async def test_login_timeout_closes_the_socket(connect: Connect) -> None:
    async with Sandbox(login_timeout=0.2) as sandbox:
        rtm = await connect(sandbox, login=False)
        push = await rtm.push("customer_disconnected", timeout=2)
        assert push.payload.reason == "connection_timeout"
        assert await rtm.closed() == aiohttp.WSCloseCode.OK
        await until(lambda: not sandbox.connections)


async def test_ping_timeout_after_login(connect: Connect) -> None:
    async with Sandbox(ping_timeout=0.2) as sandbox:
        rtm = await connect(sandbox)
        push = await rtm.push("customer_disconnected", timeout=2)
        assert push.payload.reason == "connection_timeout"
        assert await rtm.closed() == aiohttp.WSCloseCode.OK


async def test_protocol_pings_keep_the_socket(connect: Connect) -> None:
    async with Sandbox(ping_timeout=0.2) as sandbox:
        rtm = await connect(sandbox)
        for _ in range(8):
            await asyncio.sleep(0.06)
            assert await rtm.call(m.Ping()) == EmptyResult()
        assert len(sandbox.connections) == 1


async def test_control_frame_pings_keep_the_socket(connect: Connect) -> None:
    async with Sandbox(ping_timeout=0.2) as sandbox:
        rtm = await connect(sandbox)
        for _ in range(8):
            await asyncio.sleep(0.06)
            await rtm.ws.ping(b"x")
        assert len(sandbox.connections) == 1
        await asyncio.sleep(0.3)  # no more pings: dropped
        assert (await rtm.push("customer_disconnected")).payload.reason == (
            "connection_timeout"
        )


async def test_other_requests_do_not_count_as_pings(connect: Connect) -> None:
    async with Sandbox(ping_timeout=0.25) as sandbox:
        rtm = await connect(sandbox)
        with contextlib.suppress(ConnectionError):
            for _ in range(10):
                await asyncio.sleep(0.05)
                await rtm.send(m.GetCustomer())
        await rtm.closed()
        assert any(p.action == "customer_disconnected" for p in rtm.pushes)


# Token expiry ---------------------------------------------------------------------


async def test_token_expiring_on_a_live_socket(connect: Connect) -> None:
    async with Sandbox(token_ttl=0.3) as sandbox:
        rtm = await connect(sandbox)
        push = await rtm.push("customer_disconnected", timeout=2)
        assert push.payload.reason == "access_token_expired"
        assert await rtm.closed() == aiohttp.WSCloseCode.OK


async def test_expired_token_is_refused_at_login(connect: Connect) -> None:
    async with Sandbox(token_ttl=0.05) as sandbox:
        token = await sandbox.create_customer_token()
        await asyncio.sleep(0.1)
        rtm = await connect(sandbox, login=False)
        error = await rtm.error(m.Login(token=token.access_token))
        assert error.error.type == "authentication"


# Pending requests -----------------------------------------------------------------


async def test_at_most_ten_pending_requests(sandbox: Sandbox, connect: Connect) -> None:
    rtm = await connect(sandbox)
    sandbox.delay_replies(0.3, action="get_customer")
    ids = [await rtm.send(m.GetCustomer()) for _ in range(11)]
    first = await rtm.recv()  # the 11th is refused at once
    assert isinstance(first, ErrorResponse)
    assert first.request_id == ids[10]
    assert first.error.type == "pending_requests_limit_reached"
    for rid in ids[:10]:
        assert isinstance(await rtm.reply(rid), Response)
    # Once answered, requests are no longer pending.
    assert isinstance(await rtm.call(m.GetCustomer()), Customer)


async def test_requests_are_pending_concurrently(
    sandbox: Sandbox, connect: Connect
) -> None:
    rtm = await connect(sandbox)
    sandbox.delay_replies(0.3, action="get_customer")
    slow = await rtm.send(m.GetCustomer())
    fast = await rtm.send(m.ListChats())
    first = await rtm.recv()
    assert first.request_id == fast
    assert isinstance(await rtm.reply(slow), Response)


# Frames ---------------------------------------------------------------------------


async def test_unknown_action_and_malformed_frames(
    sandbox: Sandbox, connect: Connect
) -> None:
    rtm = await connect(sandbox)
    await rtm.send_json(
        {"request_id": "x1", "action": "fly_to_the_moon", "payload": {}}
    )
    reply = await rtm.recv()
    assert isinstance(reply, ErrorResponse)
    assert (reply.request_id, reply.action, reply.error.type) == (
        "x1",
        "fly_to_the_moon",
        "validation",
    )
    await rtm.ws.send_str("{not json")
    reply = await rtm.recv()
    assert isinstance(reply, ErrorResponse)
    assert (reply.request_id, reply.action, reply.error.type) == (
        None,
        "",
        "validation",
    )
    await rtm.send_json({"request_id": "x2", "action": "get_chat", "payload": {}})
    reply = await rtm.recv()
    assert isinstance(reply, ErrorResponse)
    assert (reply.request_id, reply.error.type) == ("x2", "validation")


async def test_web_only_action_over_rtm_is_refused(
    sandbox: Sandbox, connect: Connect
) -> None:
    rtm = await connect(sandbox)
    error = await rtm.error(m.CheckGoals(session_fields=[], group_id=0, page_url="x"))
    assert error.error.type == "validation"


async def test_request_version(sandbox: Sandbox, connect: Connect) -> None:
    rtm = await connect(sandbox)
    for version, expected in (("3.6", True), ("3.5", False)):
        await rtm.send_json(
            {"version": version, "request_id": version, "action": "ping", "payload": {}}
        )
        reply = await rtm.reply(version)
        assert isinstance(reply, Response) is expected
        if isinstance(reply, ErrorResponse):
            assert reply.error.type == "unsupported_version"


async def test_request_without_request_id(sandbox: Sandbox, connect: Connect) -> None:
    rtm = await connect(sandbox)
    await rtm.ws.send_str(json.dumps({"action": "ping"}))
    msg = await rtm.ws.receive_json()
    assert msg == {"action": "ping", "type": "response", "success": True, "payload": {}}


async def test_binary_frames_are_read_as_json(
    sandbox: Sandbox, connect: Connect
) -> None:
    rtm = await connect(sandbox)
    await rtm.ws.send_bytes(b'{"request_id":"b","action":"ping"}')
    assert isinstance(await rtm.reply("b"), Response)


# Fan-out --------------------------------------------------------------------------


async def test_pushes_fan_out_to_every_connection_of_a_customer(
    sandbox: Sandbox, connect: Connect
) -> None:
    token = await sandbox.create_customer_token()
    first = await connect(sandbox, token.access_token)
    second = await connect(sandbox, token.access_token)
    agent = sandbox.agent("Jane")
    start = await first.send(m.StartChat())
    started = await first.reply(start)
    assert isinstance(started, Response)
    chat_id = started.payload.chat_id
    mine = await first.push("incoming_chat")
    theirs = await second.push("incoming_chat")
    assert mine.request_id == start
    assert theirs.request_id is None
    assert mine.payload == theirs.payload
    assert await agent.next_chat() == chat_id

    await agent.join(chat_id)
    sent = await second.send(m.SendEvent(chat_id=chat_id, event=Message(text="hi")))
    reply = await second.reply(sent)
    assert isinstance(reply, Response)
    on_second = await second.push("incoming_event")
    on_first = await first.push("incoming_event")
    assert on_second.request_id == sent
    assert on_first.request_id is None
    assert isinstance(on_first.payload, IncomingEvent)
    assert on_first.payload.event.id == reply.payload.event_id
    assert on_first.payload.event.author_id == token.entity_id
    assert len(sandbox.connections_of(token.entity_id)) == 2
    received = await agent.next_customer_event(chat_id)
    assert isinstance(received, Message)
    assert received.text == "hi"


async def test_pushes_respect_the_login_subscription(
    sandbox: Sandbox, connect: Connect
) -> None:
    # A version the sandbox does not serve is ignored ("3.7" is served: its
    # "all" would bring every push, stamped 3.7: tests/sandbox/test_versions.py).
    rtm = await connect(sandbox, pushes={"3.6": ["incoming_chat"], "3.8": ["all"]})
    chat = await rtm.call(m.StartChat())
    await rtm.call(m.SendEvent(chat_id=chat.chat_id, event=Message(text="x")))
    await rtm.call(m.Ping())
    assert [p.action for p in rtm.pushes] == ["incoming_chat"]


async def test_push_frames_carry_the_version(
    sandbox: Sandbox, connect: Connect
) -> None:
    rtm = await connect(sandbox)
    await rtm.call(m.StartChat())
    push = await rtm.push("incoming_chat")
    assert isinstance(push, Push)
    assert push.version == "3.6"


async def test_customers_do_not_see_each_others_chats(
    sandbox: Sandbox, connect: Connect
) -> None:
    ann = await connect(sandbox)
    bob = await connect(sandbox)
    chat = await ann.call(m.StartChat())
    error = await bob.error(m.GetChat(chat_id=chat.chat_id))
    assert error.error.type == "not_found"
    await bob.call(m.Ping())
    assert bob.pushes == []


async def test_closed_sockets_are_forgotten(sandbox: Sandbox, connect: Connect) -> None:
    rtm = await connect(sandbox)
    assert len(sandbox.connections) == 1
    await rtm.ws.close()
    await until(lambda: not sandbox.connections)
