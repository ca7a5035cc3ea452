"""Each fault the sandbox can inject."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from rxlivechat import CustomerSDK
from rxlivechat.protocol import methods as m
from rxlivechat.protocol.base import EmptyResult
from rxlivechat.protocol.frames import ErrorResponse, Response
from rxlivechat.protocol.models import Message
from rxlivechat.protocol.pushes import DisconnectionData
from rxlivechat.sandbox import RecordedRequest, RequestLog, Sandbox
from rxlivechat.sandbox.faults import FaultPlan

from .conftest import Connect, Rtm, until


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


# A network: latency and lost replies ------------------------------------------------


def texts_in(sandbox: Sandbox, chat_id: str) -> list[str]:
    """The texts of the messages in the chat, as the sandbox keeps them."""
    chat = sandbox.store.chats[chat_id]
    return [e.text for t in chat.threads for e in t.events if isinstance(e, Message)]


def sent_at(sandbox: Sandbox, request_id: str) -> float:
    """When the sandbox received the request (``time.monotonic()``)."""
    (recorded,) = [r for r in sandbox.requests if r.request_id == request_id]
    return recorded.at


async def test_latency_delays_each_direction(
    sandbox: Sandbox, connect: Connect
) -> None:
    rtm = await connect(sandbox)
    sandbox.latency(0.2)
    started = time.monotonic()
    rid = await rtm.send(m.Ping())
    assert isinstance(await rtm.reply(rid), Response)
    answered = time.monotonic()
    arrived = sent_at(sandbox, rid)
    assert arrived - started >= 0.2  # the request was on the wire 0.2 s
    assert answered - arrived >= 0.2  # and so was its reply
    assert answered - started >= 0.4


async def test_latency_keeps_each_connections_order(
    sandbox: Sandbox, connect: Connect
) -> None:
    token = await sandbox.create_customer_token()
    rtm = await connect(sandbox, token.access_token)
    chat = await rtm.call(m.StartChat())
    agent = sandbox.agent("Jane")
    await agent.join(chat.chat_id)
    # Each frame takes 10-60 ms: without ordering, the jitter would shuffle them.
    sandbox.latency(0.01, jitter=0.05)
    rids = [await rtm.send(m.Ping()) for _ in range(10)]  # the pending limit
    for i in range(30):
        await agent.send_message(chat.chat_id, f"m{i}")
    for rid in rids:
        assert isinstance(await rtm.reply(rid, timeout=10), Response)
    texts: list[str] = []
    async with asyncio.timeout(10):
        while len(texts) < 30:
            push = await rtm.push("incoming_event", timeout=10)
            texts.append(push.payload.event.text)
    assert texts == [f"m{i}" for i in range(30)]
    arrivals = [sent_at(sandbox, rid) for rid in rids]
    assert arrivals == sorted(arrivals)
    pings = [r.request_id for r in sandbox.requests.of("ping")]
    assert pings[-10:] == rids


async def test_latency_holds_no_one_else_up(sandbox: Sandbox, connect: Connect) -> None:
    clients = [await connect(sandbox) for _ in range(5)]
    sandbox.latency(0.3)
    started = time.monotonic()

    async def pings(rtm: Rtm) -> None:
        rids = [await rtm.send(m.Ping()) for _ in range(10)]
        for rid in rids:
            assert isinstance(await rtm.reply(rid, timeout=10), Response)

    await asyncio.gather(*(pings(rtm) for rtm in clients))
    # 50 round trips of 0.6 s side by side; one after the other would take 30 s.
    assert 0.6 <= time.monotonic() - started < 5


async def test_latency_zero_clears_it(sandbox: Sandbox, connect: Connect) -> None:
    rtm = await connect(sandbox)
    sandbox.latency(1.0)
    sandbox.latency(0)
    started = time.monotonic()
    await rtm.call(m.Ping())
    assert time.monotonic() - started < 1.0
    assert sandbox.faults.latency == (0.0, 0.0)


async def test_latency_delays_http_too(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    sandbox.latency(0.2)
    started = time.monotonic()
    async with http.post(
        f"{sandbox.accounts_url}/v2/customer/token", json={"grant_type": "x"}
    ) as response:
        assert response.status == 400
    assert time.monotonic() - started >= 0.4


async def test_a_disconnect_push_still_comes_before_the_close(
    sandbox: Sandbox, connect: Connect
) -> None:
    rtm = await connect(sandbox)
    sandbox.latency(0.1)
    await sandbox.disconnect_customers("logged_out_remotely")
    push = await rtm.push("customer_disconnected")
    assert push.payload.reason == "logged_out_remotely"
    assert await rtm.closed() == aiohttp.WSCloseCode.OK


async def test_a_lost_reply_cuts_the_socket_after_applying(
    sandbox: Sandbox, connect: Connect
) -> None:
    token = await sandbox.create_customer_token()
    rtm = await connect(sandbox, token.access_token)
    chat = await rtm.call(m.StartChat())
    sandbox.lose_replies("send_event")
    rid = await rtm.send(
        m.SendEvent(chat_id=chat.chat_id, event=Message(text="applied"))
    )
    request_ids = []
    with contextlib.suppress(ConnectionError):  # read until the socket is cut
        while True:
            request_ids.append(getattr(await rtm.recv(), "request_id", None))
    assert rid not in request_ids  # no reply, no echo
    assert rtm.ws.close_code == aiohttp.WSCloseCode.ABNORMAL_CLOSURE
    assert texts_in(sandbox, chat.chat_id) == ["applied"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.latency(-0.1), "seconds must be >= 0"),
        (lambda s: s.latency(float("nan")), "seconds must be >= 0"),
        (lambda s: s.latency(float("inf")), "seconds must be >= 0"),
        (lambda s: s.latency(0.1, jitter=-1), "jitter must be >= 0"),
        (lambda s: s.lose_replies(probability=1.5), r"in \[0, 1\]"),
        (lambda s: s.lose_replies(probability=-0.1), r"in \[0, 1\]"),
        (lambda s: s.lose_replies(probability=float("nan")), r"in \[0, 1\]"),
        (lambda s: s.lose_replies("send_evnt"), "'send_evnt' is not an RTM action"),
        (lambda s: s.lose_replies("upload_file"), "not an RTM action"),
    ],
)
def test_network_faults_refuse_bad_figures(
    call: Callable[[Sandbox], None], message: str
) -> None:
    sandbox = Sandbox()
    with pytest.raises(ValueError, match=message):
        call(sandbox)
    assert sandbox.faults.latency == (0.0, 0.0)
    assert not sandbox.faults.loses_reply("send_event")


def test_lost_replies_roll_with_the_seed() -> None:
    def rolls(seed: int) -> list[bool]:
        plan = FaultPlan(seed=seed)
        plan.lose_replies(None, 0.3)
        plan.lose_replies("ping", 0)  # the global setting applies to ping
        plan.lose_replies("get_customer", 1.0)
        assert plan.loses_reply("get_customer")  # certain, and rolls nothing
        return [plan.loses_reply("ping") for _ in range(400)]

    first = rolls(7)
    assert first == rolls(7)
    plan = FaultPlan(seed=7)
    plan.lose_replies(None, 0.3)
    assert [plan.loses_reply("ping") for _ in range(400)] == first
    assert plan.replies_lost == sum(first)
    assert first != rolls(8)
    assert 0.2 < sum(first) / len(first) < 0.4
    plan = FaultPlan(seed=7)
    plan.lose_replies("send_event", 1.0)
    assert not plan.loses_reply("ping")
    plan.clear()
    assert not plan.loses_reply("send_event")


def test_jitter_stays_within_its_bounds() -> None:
    plan = FaultPlan(seed=1)
    plan.set_latency(0.05, 0.02)
    delays = [plan.frame_delay() for _ in range(200)]
    assert all(0.05 <= d <= 0.07 for d in delays)
    assert len(set(delays)) > 100


# What a client sees (our SDK over its real socket) --------------------------------


async def test_a_lost_reply_is_looked_up_and_a_new_call_is_a_new_event(
    sandbox: Sandbox, sdk: CustomerSDK
) -> None:
    chat = await sdk.start_chat()
    agent = sandbox.agent("Jane")
    await agent.join(chat.id)
    sandbox.lose_replies("send_event")
    sent = await sdk.send_event(chat.id, Message(text="Where is my order?"))
    # Applied once, its reply lost with the socket: the SDK logged in again and
    # found the event by its custom_id instead of failing or sending it twice.
    assert texts_in(sandbox, chat.id) == ["Where is my order?"]
    heard = await agent.next_customer_event(chat.id)
    assert isinstance(heard, Message)
    assert (heard.text, heard.custom_id) == ("Where is my order?", sent.custom_id)
    assert (sandbox.count("send_event"), sandbox.count("login")) == (1, 2)
    # Exactly once holds per call: a user's own retry is a new call, a new event.
    sandbox.lose_replies("send_event", probability=0)
    await sdk.wait_connected(timeout=10)
    await sdk.send_event(chat.id, Message(text="Where is my order?"))
    assert texts_in(sandbox, chat.id) == ["Where is my order?"] * 2


async def test_lost_replies_to_one_action_spare_the_others(
    sandbox: Sandbox, sdk: CustomerSDK
) -> None:
    sandbox.lose_replies("send_event")
    chat = await sdk.start_chat([Message(text="Hello")])
    await sdk.get_customer()
    await sdk.update_customer(name="Ada")
    await sdk.list_chats()
    await sdk.get_chat(chat.id)
    await sdk.send_sneak_peek(chat.id, "Typ")
    assert sandbox.count("login") == 1  # never dropped
    assert len(sandbox.connections_of(str(sdk.customer_id))) == 1
    sent = await sdk.send_event(chat.id, Message(text="lost reply"))
    assert sent.text == "lost reply"  # found in the chat after the drop
    assert sandbox.count("login") == 2
    assert texts_in(sandbox, chat.id) == ["Hello", "lost reply"]


async def test_our_client_works_over_latency(
    sandbox: Sandbox, sdk: CustomerSDK
) -> None:
    sandbox.latency(0.05, jitter=0.02)
    agent = sandbox.agent("Jane")
    started = time.monotonic()
    chat = await sdk.start_chat([Message(text="Hi")])
    assert time.monotonic() - started >= 0.1
    await agent.join(chat.id)
    texts = [f"{i}" for i in range(20)]
    for text in texts:
        await sdk.send_event(chat.id, Message(text=text))
    assert texts_in(sandbox, chat.id) == ["Hi", *texts]
    await sandbox.drop_connections()  # and it reconnects over the slow network
    await sandbox.wait_for_login(sdk.customer_id, timeout=10)
    await sdk.wait_connected(timeout=10)
    assert (await sdk.get_chat(chat.id)).id == chat.id


async def test_the_official_python_sdk_works_over_latency() -> None:
    # lc-sdk-python is synchronous: each call runs in a worker thread
    # (tests/sandbox/test_lc_sdk.py drives all of it).
    pytest.importorskip("livechat", reason="lc-sdk-python is not installed")
    loguru = pytest.importorskip("loguru", reason="lc-sdk-python needs loguru")
    from livechat.customer.rtm.base import CustomerRTM
    from livechat.customer.web.base import CustomerWeb

    loguru.logger.disable("livechat")
    async with Sandbox(tls=True, seed=5) as sandbox:
        sandbox.latency(0.05, jitter=0.02)
        token = await sandbox.create_customer_token()
        agent = sandbox.agent("Jane")
        threads = set(threading.enumerate())
        rtm = CustomerRTM.get_client(
            version="3.6",
            base_url=sandbox.netloc,
            organization_id=sandbox.organization_id,
        )
        await asyncio.to_thread(rtm.open_connection, ws_conn_timeout=5)
        try:

            async def ok(method: str, /, **kwargs: Any) -> dict[str, Any]:
                response = await asyncio.to_thread(getattr(rtm, method), **kwargs)
                assert response is not None, f"{method}: no reply"
                assert response.success is True, f"{method}: {response.payload}"
                payload: dict[str, Any] = response.payload
                return payload

            await ok("login", token=f"Bearer {token.access_token}")
            chat_id = (await ok("start_chat", chat={"thread": {"events": []}}))[
                "chat_id"
            ]
            await agent.join(chat_id)
            message = {"type": "message", "text": "hi"}
            await ok("send_event", chat_id=chat_id, event=message)
            heard = await agent.next_customer_event(chat_id)
            assert isinstance(heard, Message)
            assert heard.text == "hi"
            got = await ok("get_chat", chat_id=chat_id)
            assert [e.get("text") for e in got["thread"]["events"]][-1] == "hi"
        finally:
            await asyncio.to_thread(rtm.close_connection)
            for thread in set(threading.enumerate()) - threads:  # its reader
                if not thread.name.startswith("asyncio_"):
                    await asyncio.to_thread(thread.join, 5)
        web = CustomerWeb.get_client(
            access_token=f"Bearer {token.access_token}",
            version="3.6",
            base_url=sandbox.netloc,
            organization_id=sandbox.organization_id,
            verify=sandbox.ssl_context_for_clients(),
            disable_logging=True,
        )
        try:
            started = time.monotonic()
            response = await asyncio.to_thread(web.list_chats)
            assert response.status_code == 200, response.text
            assert time.monotonic() - started >= 0.1
        finally:
            await asyncio.to_thread(web.session.close)
        assert sandbox.count("send_event") == 1
    loguru.logger.enable("livechat")
