"""v3.5, v3.6 and v3.7 side by side: paths, request versions, push stamps, shapes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import pytest

from rxlivechat.protocol import methods as m
from rxlivechat.protocol.codec import decode
from rxlivechat.protocol.frames import Response
from rxlivechat.protocol.models import Message
from rxlivechat.sandbox import Sandbox
from rxlivechat.sandbox.roster import RosterGroup
from rxlivechat.sandbox.versions import (
    Subscription,
    adapt_result,
    knows_action,
    knows_push,
    missing_action,
    request_version,
)

from ..vectors import load, normalize, params
from .conftest import Rtm

VECTOR = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "vectors"
    / "update_customer_page.response.json"
)
NEW_IN_3_6 = ("delete_event", "request_welcome_message", "send_greeting_button_clicked")


def ws_url(sandbox: Sandbox, version: str) -> str:
    return sandbox.ws_url.replace("/v3.6/", f"/v{version}/")


def web_url(sandbox: Sandbox, version: str, action: str) -> str:
    return sandbox.action_url(action).replace("/v3.6/", f"/v{version}/")


# The pure rules ---------------------------------------------------------------------


def test_actions_and_pushes_new_in_3_6_are_unknown_in_3_5() -> None:
    for action in NEW_IN_3_6:
        assert knows_action("3.6", action)
        assert not knows_action("3.5", action)
    assert knows_action("3.5", "send_event")
    assert not knows_push("3.5", "incoming_welcome_message")
    assert knows_push("3.5", "incoming_event")
    assert knows_push("3.6", "incoming_event_preview")
    assert knows_push("3.7", "incoming_welcome_message")


def test_get_predicted_agent_is_gone_in_3_7_and_names_its_replacement() -> None:
    assert knows_action("3.6", "get_predicted_agent")
    assert not knows_action("3.7", "get_predicted_agent")
    assert "request_welcome_message" in (
        missing_action("3.7", "get_predicted_agent") or ""
    )
    for action in NEW_IN_3_6:
        assert knows_action("3.7", action)


@pytest.mark.parametrize(
    ("requested", "connection", "expected"),
    [
        (None, "3.5", "3.5"),
        ("3.6", "3.5", "3.6"),
        ("3.6", "3.6", "3.6"),
        ("3.7", "3.6", "3.7"),
    ],
)
def test_a_request_may_ask_for_its_connections_version_or_a_higher_one(
    requested: str | None, connection: str, expected: str
) -> None:
    assert request_version(requested, connection) == expected


@pytest.mark.parametrize(("requested", "connection"), [("3.5", "3.6"), ("3.8", "3.6")])
def test_lower_or_unserved_request_versions_are_refused(
    requested: str, connection: str
) -> None:
    with pytest.raises(Exception, match="unsupported API versions") as caught:
        request_version(requested, connection)
    assert type(caught.value).__name__ == "UnsupportedVersionError"


def test_subscription_defaults_to_every_push_of_the_connection() -> None:
    legacy = Subscription("3.5")
    assert legacy.version_of("incoming_event") == "3.5"
    assert legacy.version_of("incoming_event_preview") is None
    assert Subscription("3.6").version_of("incoming_event_preview") == "3.6"


def test_subscription_lists_pushes_per_version() -> None:
    subscription = Subscription(
        "3.5",
        {
            "3.5": ["incoming_event", "customer_page_updated", "incoming_chat"],
            "3.6": ["incoming_chat", "incoming_welcome_message"],
            "3.8": ["all"],  # a version the sandbox does not serve: ignored
        },
    )
    assert subscription.version_of("incoming_event") == "3.5"
    assert subscription.version_of("incoming_chat") == "3.6"  # the higher one
    assert subscription.version_of("incoming_welcome_message") == "3.6"
    assert subscription.version_of("chat_deactivated") is None
    preview = Subscription("3.6", {"3.6": ["incoming_chat"], "3.7": ["all"]})
    assert preview.version_of("incoming_chat") == "3.7"  # the docs' own sample
    assert preview.version_of("incoming_event") == "3.7"
    everything = Subscription("3.6", {"3.5": ["all"]})
    assert everything.version_of("chat_deactivated") == "3.5"
    assert everything.version_of("incoming_event_preview") is None


def test_results_take_their_3_5_shape() -> None:
    page = m.UpdateCustomerPageResult(groups=[])
    assert adapt_result("update_customer_page", page, "3.6") is page
    assert adapt_result("update_customer_page", page, "3.5").groups is None
    dynamic = m.GetDynamicConfigurationResult(
        organization_id="org",
        default_widget="livechat",
        livechat_active=True,
        livechat=m.DynamicLivechatConfiguration(group_id=0, language="en"),
    )
    flat = adapt_result("get_dynamic_configuration", dynamic, "3.5")
    assert flat["organization_id"] == "org"
    assert flat["group_id"] == 0
    assert "livechat" not in flat


@pytest.mark.parametrize("name", params("list_chats.response.json"))
def test_the_docs_list_chats_page_in_3_7s_shape(name: str) -> None:
    vector = load(name)
    documented = vector.get("payload", vector)  # an RTM frame, or a Web API body
    page = decode(json.dumps(documented), m.ListChatsResult)
    info = adapt_result("list_chats", page, "3.7")
    assert isinstance(info, m.ListChatsInfoResult)
    wire = msgspec.to_builtins(info)
    assert "chats_summary" not in wire
    # The same chats, each with its last thread and newest events moved inside.
    expected = []
    for chat in documented["chats_summary"]:
        moved = {
            k: v
            for k, v in chat.items()
            if k
            not in {"last_thread_id", "last_thread_created_at", "last_event_per_type"}
        }
        moved["last_thread_info"] = {
            "id": chat["last_thread_id"],
            "created_at": chat["last_thread_created_at"],
            "last_event_per_type": {
                kind: {"event": newest["event"]}
                for kind, newest in chat["last_event_per_type"].items()
            },
        }
        expected.append(moved)
    assert normalize(wire["chats_info"]) == normalize(expected)
    # Read back in the 3.6 shape: the same, but for each event's thread, which
    # 3.7 no longer says (the last thread's, now).
    back = msgspec.to_builtins(info.as_summary())
    for chat in documented["chats_summary"]:
        for newest in chat["last_event_per_type"].values():
            newest["thread_id"] = chat["last_thread_id"]
            newest["thread_created_at"] = chat["last_thread_created_at"]
    assert normalize(back) == normalize(documented)


# Over the wire ----------------------------------------------------------------------


async def open_rtm(
    http: aiohttp.ClientSession, sandbox: Sandbox, version: str, **login: Any
) -> tuple[aiohttp.ClientWebSocketResponse, Rtm]:
    ws = await http.ws_connect(ws_url(sandbox, version))
    rtm = Rtm(ws)
    token = (await sandbox.create_customer_token()).access_token
    await rtm.call(m.Login(token=f"Bearer {token}", **login))
    return ws, rtm


async def test_a_3_5_socket_gets_3_5_pushes_and_refuses_3_6_actions(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    ws, rtm = await open_rtm(http, sandbox, "3.5")
    async with ws:
        # The handshake's reply (aiohttp keeps it on the socket object).
        assert ws._response.headers["Legacy"] == "2027-02-07"
        chat = await rtm.call(m.StartChat())
        pushed = await rtm.push("incoming_chat")
        assert pushed.version == "3.5"
        error = await rtm.error(m.RequestWelcomeMessage())
        assert error.error.type == "validation"
        # ...unless the request asks for 3.6 itself (§1.4).
        await rtm.send_json(
            {"version": "3.6", "request_id": "w", "action": "request_welcome_message"}
        )
        assert isinstance(await rtm.reply("w"), Response)
        # The welcome push is 3.6-only: a 3.5 subscription never gets it.
        await rtm.call(m.SendEvent(chat_id=chat.chat_id, event=Message(text="hi")))
        await rtm.call(m.Ping())
        assert {p.action for p in rtm.pushes} == {
            "customer_side_storage_updated",
            "incoming_event",
        }
        assert all(p.version == "3.5" for p in rtm.pushes)


async def test_a_3_5_login_may_subscribe_to_3_6_pushes(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    ws, rtm = await open_rtm(
        http,
        sandbox,
        "3.5",
        pushes={"3.5": ["incoming_chat"], "3.6": ["incoming_welcome_message"]},
    )
    async with ws:
        await rtm.call(m.StartChat())
        await rtm.send_json(
            {"version": "3.6", "request_id": "w", "action": "request_welcome_message"}
        )
        await rtm.reply("w")
        welcome = await rtm.push("incoming_welcome_message")
        chat = await rtm.push("incoming_chat")
        assert (welcome.version, chat.version) == ("3.6", "3.5")


async def test_one_customer_on_both_versions_gets_each_its_own_stamp(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    token = (await sandbox.create_customer_token()).access_token
    stamps = {}
    async with (
        http.ws_connect(ws_url(sandbox, "3.5")) as old,
        http.ws_connect(ws_url(sandbox, "3.6")) as new,
    ):
        legacy, current = Rtm(old), Rtm(new)
        for rtm in (legacy, current):
            await rtm.call(m.Login(token=f"Bearer {token}"))
        await current.call(m.StartChat())
        for name, rtm in (("3.5", legacy), ("3.6", current)):
            stamps[name] = (await rtm.push("incoming_chat")).version
    assert stamps == {"3.5": "3.5", "3.6": "3.6"}


async def test_an_unserved_socket_version_is_disconnected(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    async with http.ws_connect(ws_url(sandbox, "3.1")) as ws:
        push = json.loads((await ws.receive()).data)
        assert push["action"] == "customer_disconnected"
        assert push["payload"]["reason"] == "unsupported_version"
        assert (await ws.receive()).type is aiohttp.WSMsgType.CLOSE


async def test_web_api_serves_3_5_with_its_shapes_and_legacy_header(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    async with http.get(
        web_url(sandbox, "3.5", "get_dynamic_configuration"), params={"group_id": 0}
    ) as response:
        assert response.status == 200
        assert response.headers["Legacy"] == "2027-02-07"
        body = await response.json()
    assert body["group_id"] == 0
    assert body["organization_id"] == sandbox.organization_id
    assert body["online_group_ids"] == [0]
    async with http.get(
        web_url(sandbox, "3.6", "get_dynamic_configuration")
    ) as response:
        assert "Legacy" not in response.headers
        assert (await response.json())["livechat"]["group_id"] == 0
    token = (await sandbox.create_customer_token()).access_token
    async with http.post(
        web_url(sandbox, "3.5", "request_welcome_message"),
        json={},
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        assert response.status == 400  # unknown in 3.5 (no not_found on the Web)
        assert (await response.json())["error"]["type"] == "validation"
    async with http.get(web_url(sandbox, "3.0", "get_localization")) as response:
        assert (await response.json())["error"]["type"] == "unsupported_version"


@pytest.mark.parametrize(("version", "groups"), [("3.6", [1]), ("3.5", None)])
async def test_update_customer_page_names_the_new_group_in_3_6_only(
    http: aiohttp.ClientSession, version: str, groups: list[int] | None
) -> None:
    async with Sandbox(
        groups=[RosterGroup(1, "Pricing", pages=("https://livechatinc.com/pricing",))]
    ) as sandbox:
        ws, rtm = await open_rtm(http, sandbox, version)
        async with ws:
            routed = await rtm.call(
                m.UpdateCustomerPage(url="https://livechatinc.com/pricing")
            )
            again = await rtm.call(
                m.UpdateCustomerPage(url="https://livechatinc.com/pricing?plan=team")
            )
        assert [g.id for g in routed.groups or []] == (groups or [])
        if version == "3.6" and VECTOR.is_file():  # the docs' example, exactly
            documented = json.loads(VECTOR.read_text())["payload"]
            assert msgspec.to_builtins(routed) == documented
        assert again.groups is None  # no change the second time
        (customer,) = sandbox.store.customers.values()
        assert customer.group_id == 1


async def test_widget_reads_need_no_configuration_version(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    # `version` only names a cached copy; the sandbox serves its current one.
    for action, query in (
        ("get_configuration", {"group_id": "0"}),
        ("get_localization", {"group_id": "0", "language": "en"}),
        ("get_configuration", {"group_id": "0", "version": "0.0.1"}),
    ):
        async with http.get(sandbox.action_url(action), params=query) as response:
            assert response.status == 200, (action, await response.text())
    async with http.get(
        sandbox.action_url("get_configuration"), params={"version": "1"}
    ) as response:
        assert (await response.json())["error"]["type"] == "validation"


async def test_3_7_lists_chats_info_and_refuses_get_predicted_agent(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    ws, rtm = await open_rtm(http, sandbox, "3.7")
    async with ws:
        assert "Legacy" not in ws._response.headers
        chat = await rtm.call(m.StartChat())
        await rtm.call(m.SendEvent(chat_id=chat.chat_id, event=Message(text="hi")))
        await rtm.send(m.ListChats(), "l")
        raw = json.loads((await ws.receive(timeout=3)).data)
        while raw.get("request_id") != "l":
            raw = json.loads((await ws.receive(timeout=3)).data)
        page = raw["payload"]
        assert "chats_summary" not in page
        (info,) = page["chats_info"]
        assert "last_event_per_type" not in info
        last = info["last_thread_info"]
        assert (info["id"], last["id"]) == (chat.chat_id, chat.thread_id)
        assert last["last_event_per_type"]["message"]["event"]["text"] == "hi"
        error = await rtm.error(m.GetPredictedAgent())
        assert error.error.type == "validation"
        assert "request_welcome_message" in error.error.message
        await rtm.call(m.RequestWelcomeMessage())
        welcome = await rtm.push("incoming_welcome_message")
        assert welcome.version == "3.7"
    # The same action over the Web API, in 3.7.
    token = (await sandbox.create_customer_token()).access_token
    async with http.post(
        web_url(sandbox, "3.7", "get_predicted_agent"),
        json={},
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        assert response.status == 400
        body = await response.json()
        assert body["error"]["type"] == "validation"
        assert "request_welcome_message" in body["error"]["message"]
