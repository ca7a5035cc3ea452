"""The official Python SDK's v3.7 client against the sandbox's v3.7, unchanged.

lc-sdk-python has a client per version (3.5, 3.6, 3.7); its 3.7 one lacks
``get_predicted_agent`` and reads ``list_chats`` as ``chats_info``. Run as
tests/sandbox/test_lc_sdk.py runs its 3.6 client: over TLS, each blocking call in
a worker thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import pytest

from rxlivechat.sandbox import Sandbox

pytest.importorskip("livechat", reason="lc-sdk-python is not installed")
loguru = pytest.importorskip("loguru", reason="lc-sdk-python needs loguru")

from livechat.customer.rtm.base import CustomerRTM  # noqa: E402

T = TypeVar("T")


@pytest.fixture
async def tls_sandbox() -> AsyncIterator[Sandbox]:
    loguru.logger.disable("livechat")
    try:
        async with Sandbox(tls=True, seed=7, agents=[]) as sandbox:
            yield sandbox
    finally:
        loguru.logger.enable("livechat")


async def sync(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await asyncio.to_thread(call, *args, **kwargs)


async def test_lc_sdk_python_3_7_client(tls_sandbox: Sandbox) -> None:
    sandbox = tls_sandbox
    token = await sandbox.create_customer_token()
    agent = sandbox.agent("Agent Smith")
    before = set(threading.enumerate())
    rtm = CustomerRTM.get_client(
        version="3.7",
        base_url=sandbox.netloc,
        organization_id=sandbox.organization_id,
    )
    assert not hasattr(rtm, "get_predicted_agent")
    await sync(rtm.open_connection, ws_conn_timeout=5)

    async def ok(method: str, /, **kwargs: Any) -> dict[str, Any]:
        response = await sync(getattr(rtm, method), **kwargs)
        assert response is not None, f"{method}: no reply"
        assert response.success is True, f"{method}: {response.payload}"
        payload: dict[str, Any] = response.payload
        return payload

    try:
        await ok("login", token=f"Bearer {token.access_token}")
        started = await ok("start_chat", chat={"thread": {"events": []}})
        chat_id, thread_id = started["chat_id"], started["thread_id"]
        await agent.join(chat_id)
        await agent.send_message(chat_id, "Hello from 3.7")
        page = await ok("list_chats", limit=5)
        (info,) = page["chats_info"]
        assert "chats_summary" not in page
        last = info["last_thread_info"]
        assert (info["id"], last["id"]) == (chat_id, thread_id)
        newest = last["last_event_per_type"]["message"]["event"]
        assert newest["text"] == "Hello from 3.7"
        welcome = await ok("request_welcome_message")
        assert welcome["predicted_agent"]["id"] == agent.id
    finally:
        await sync(rtm.close_connection)
        for thread in set(threading.enumerate()) - before:
            if not thread.name.startswith("asyncio_"):
                await sync(thread.join, 5)
                assert not thread.is_alive()
    assert {c.version for c in sandbox.connections} <= {"3.7"}
