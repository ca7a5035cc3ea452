"""The official Python SDK (lc-sdk-python) works against the sandbox unchanged.

Its customer RTM client hard-codes ``wss://`` (and skips certificate checks),
its Web client ``https://``: both run against the sandbox's TLS mode. The SDK is
synchronous (websocket-client in a thread, httpx), so every call runs in a
worker thread while the sandbox serves on the test's event loop.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

import pytest

from rxlivechat.protocol.models import RichMessageButton, RichMessageElement
from rxlivechat.sandbox import Sandbox

livechat = pytest.importorskip("livechat", reason="lc-sdk-python is not installed")
loguru = pytest.importorskip("loguru", reason="lc-sdk-python needs loguru")

from livechat.customer.rtm.base import CustomerRTM  # noqa: E402
from livechat.customer.web.base import CustomerWeb  # noqa: E402

T = TypeVar("T")

# The card the official client answers: its postback names this button
# (rtm-reference, send_rich_message_postback: "postback.id: The postback name of
# the button").
YES = RichMessageElement(
    buttons=[
        RichMessageButton(text="Yes", type="message", value="yes", postback_id="yes")
    ]
)


@pytest.fixture(autouse=True)
def _quiet_sdk() -> Iterator[None]:
    loguru.logger.disable("livechat")
    yield
    loguru.logger.enable("livechat")


@pytest.fixture
async def tls_sandbox() -> AsyncIterator[Sandbox]:
    # a.b is registered as an app would (Configuration API): the real service
    # refuses unregistered properties.
    async with Sandbox(
        tls=True, seed=5, chats_per_customer=1, properties={"a": {"b": "int"}}
    ) as sandbox:
        yield sandbox


async def sync(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await asyncio.to_thread(call, *args, **kwargs)


async def test_customer_rtm_client(tls_sandbox: Sandbox) -> None:
    sandbox = tls_sandbox
    token = await sandbox.create_customer_token()
    agent = sandbox.agent("Agent Smith")
    before = set(threading.enumerate())
    rtm = CustomerRTM.get_client(
        version="3.6",
        base_url=sandbox.netloc,
        organization_id=sandbox.organization_id,
    )
    await sync(rtm.open_connection, ws_conn_timeout=5)
    calls: list[str] = []

    async def ok(method: str, /, **kwargs: Any) -> dict[str, Any]:
        response = await sync(getattr(rtm, method), **kwargs)
        assert response is not None, f"{method}: no reply"
        assert response.success is True, f"{method}: {response.payload}"
        assert response.action == method
        calls.append(method)
        payload: dict[str, Any] = response.payload
        return payload

    # lc-sdk-python polls for each reply every 0.2 s: independent calls run
    # side by side (a handful at a time, under the 10-pending limit).
    try:
        await ok("login", token=f"Bearer {token.access_token}")
        started = await ok("start_chat", chat={"thread": {"events": []}})
        chat_id, thread_id = started["chat_id"], started["thread_id"]
        await agent.join(chat_id)
        card = await agent.send_rich_message(
            chat_id, [YES], template_id="quick_replies"
        )
        greeting_id, unique_id = await agent.send_greeting(token.entity_id, "Hello")
        sent, *_ = await asyncio.gather(
            ok("send_event", chat_id=chat_id, event={"type": "message", "text": "hi"}),
            ok("list_chats", limit=5),
            ok("list_threads", chat_id=chat_id, min_events_count=10),
            ok("get_chat", chat_id=chat_id),
            ok("get_customer"),
            ok("list_group_statuses", all=True),
            ok("get_form", group_id=0, type="prechat"),
            ok("get_predicted_agent"),
        )
        event_id = sent["event_id"]
        await asyncio.gather(
            ok("request_welcome_message"),
            ok("get_url_info", url="https://www.livechat.com"),
            ok("update_customer_page", url="https://shop.example/", title="Shop"),
            ok("deactivate_customer_page"),
            ok("set_customer_session_fields", session_fields=[{"plan": "pro"}]),
            ok("update_customer", name="Thomas", email="t@example.com"),
            ok("send_sneak_peek", chat_id=chat_id, sneak_peek_text="typing..."),
            ok(
                "mark_events_as_seen",
                chat_id=chat_id,
                seen_up_to="2030-01-01T00:00:00.000001Z",
            ),
        )
        await asyncio.gather(
            ok("activate_customer_page"),
            ok(
                "send_rich_message_postback",
                chat_id=chat_id,
                thread_id=thread_id,
                event_id=card.id,
                postback={"id": "yes", "toggled": True},
            ),
            ok(
                "update_chat_properties",
                id=chat_id,
                properties={"routing": {"email_follow_up": True}},
            ),
            ok(
                "update_thread_properties",
                chat_id=chat_id,
                thread_id=thread_id,
                properties={"rating": {"score": 1, "comment": "Thanks"}},
            ),
            ok(
                "update_event_properties",
                chat_id=chat_id,
                thread_id=thread_id,
                event_id=event_id,
                properties={"chats": {"formatting": "commonmark"}},
            ),
            ok("accept_greeting", greeting_id=greeting_id, unique_id=unique_id),
        )
        _, unique_id = await agent.send_greeting(token.entity_id, "Hello again")
        await asyncio.gather(
            ok(
                "delete_chat_properties",
                id=chat_id,
                properties={"routing": ["email_follow_up"]},
            ),
            ok(
                "delete_thread_properties",
                chat_id=chat_id,
                thread_id=thread_id,
                properties={"rating": ["score", "comment"]},
            ),
            ok(
                "delete_event_properties",
                chat_id=chat_id,
                thread_id=thread_id,
                event_id=event_id,
                properties={"chats": ["formatting"]},
            ),
            ok("cancel_greeting", unique_id=unique_id),
        )
        await ok(
            "delete_event", chat_id=chat_id, thread_id=thread_id, event_id=event_id
        )
        await ok("deactivate_chat", id=chat_id)
        await ok("resume_chat", chat={"id": chat_id})
    finally:
        await sync(rtm.close_connection)
        # websocket-client's reader thread ends once the socket is closed (the
        # default executor's "asyncio_*" workers live on until the loop closes).
        for thread in set(threading.enumerate()) - before:
            if not thread.name.startswith("asyncio_"):
                await sync(thread.join, 5)
                assert not thread.is_alive()

    public = {
        name
        for name in dir(rtm)
        if not name.startswith("_")
        and name not in ("open_connection", "close_connection", "ws")
    }
    assert public - set(calls) == set(), "an lc-sdk-python RTM method was not exercised"
    assert sandbox.count(transport="rtm") == len(calls)


async def test_customer_web_client(tls_sandbox: Sandbox) -> None:
    sandbox = tls_sandbox
    token = await sandbox.create_customer_token()
    agent = sandbox.agent("Agent Smith")
    web = CustomerWeb.get_client(
        access_token=f"Bearer {token.access_token}",
        version="3.6",
        base_url=sandbox.netloc,
        organization_id=sandbox.organization_id,
        verify=sandbox.ssl_context_for_clients(),  # verified against the sandbox CA
        disable_logging=True,
    )
    calls: list[str] = []

    async def ok(method: str, /, **kwargs: Any) -> Any:
        response = await sync(getattr(web, method), **kwargs)
        assert response.status_code == 200, f"{method}: {response.text}"
        calls.append(method)
        return response.json()

    try:
        chat_id = (await ok("start_chat"))["chat_id"]
        await agent.join(chat_id)
        await ok("list_chats")
        thread_id = (await ok("list_threads", chat_id=chat_id))["threads"][0]["id"]
        await ok("get_chat", chat_id=chat_id, thread_id=thread_id)
        await ok("get_dynamic_configuration", group_id=0, url="https://shop.example")
        await ok("get_configuration", group_id=0, version="1")
        await ok("get_localization", group_id=0, language="en", version="1")
        uploaded = await ok(
            "upload_file", file={"file": ("hello.txt", io.BytesIO(b"hi"), "text/plain")}
        )
        event_id = (
            await ok(
                "send_event",
                chat_id=chat_id,
                event={"type": "file", "url": uploaded["url"]},
            )
        )["event_id"]
        card = await agent.send_rich_message(
            chat_id, [YES], template_id="quick_replies"
        )
        await ok(
            "send_rich_message_postback",
            chat_id=chat_id,
            thread_id=thread_id,
            event_id=card.id,
            postback={"id": "yes", "toggled": True},
        )
        await ok("send_sneak_peek", chat_id=chat_id, sneak_peek_text="typing")
        await ok("update_chat_properties", id=chat_id, properties={"a": {"b": 1}})
        await ok("delete_chat_properties", id=chat_id, properties={"a": ["b"]})
        await ok(
            "update_thread_properties",
            chat_id=chat_id,
            thread_id=thread_id,
            properties={"a": {"b": 1}},
        )
        await ok(
            "delete_thread_properties",
            chat_id=chat_id,
            thread_id=thread_id,
            properties={"a": ["b"]},
        )
        await ok(
            "update_event_properties",
            chat_id=chat_id,
            thread_id=thread_id,
            event_id=event_id,
            properties={"a": {"b": 1}},
        )
        await ok(
            "delete_event_properties",
            chat_id=chat_id,
            thread_id=thread_id,
            event_id=event_id,
            properties={"a": ["b"]},
        )
        await ok(
            "delete_event", chat_id=chat_id, thread_id=thread_id, event_id=event_id
        )
        await ok("list_license_properties", namespace="routing")
        await ok("list_group_properties", group_id=0)
        await ok("get_customer")
        await ok("update_customer", name="Thomas")
        await ok("set_customer_session_fields", session_fields=[{"plan": "pro"}])
        await ok("list_group_statuses", group_ids=[0])
        await ok(
            "check_goals",
            session_fields=[{"plan": "pro"}],
            group_id=0,
            page_url="https://shop.example",
        )
        await ok("get_form", group_id=0, type="postchat")
        await ok("get_predicted_agent")
        await ok("request_welcome_message")
        await ok("get_url_info", url="https://www.livechat.com")
        await ok(
            "mark_events_as_seen", chat_id=chat_id, seen_up_to="2030-01-01T00:00:00.5Z"
        )
        greeting_id, unique_id = await agent.send_greeting(token.entity_id, "Hello")
        await ok("accept_greeting", greeting_id=greeting_id, unique_id=unique_id)
        _, unique_id = await agent.send_greeting(token.entity_id, "Hello again")
        await ok("cancel_greeting", unique_id=unique_id)
        await ok("request_email_verification", callback_uri="https://shop.example/cb")
        await ok("deactivate_chat", id=chat_id)
        await ok("resume_chat", chat={"id": chat_id})
    finally:
        await sync(web.session.close)

    public = {
        name
        for name in dir(web)
        if not name.startswith("_")
        and callable(getattr(web, name))
        and name not in ("modify_header", "remove_header", "get_headers")
    }
    assert public - set(calls) == set(), "an lc-sdk-python Web method was not exercised"
