"""The limits of docs/protocol.md §10 as a client sees them on the wire.

List limits and ``page_id`` rules: ``test_pagination.py``; pending requests:
``test_rtm.py``; the upload limit: ``test_web.py``. Here: the rest.
"""

from __future__ import annotations

import pytest

from rxlivechat.protocol import methods as m
from rxlivechat.protocol.models import Message
from rxlivechat.sandbox import LIMITS, Sandbox

from .conftest import Connect


async def test_message_text_up_to_16_kb(sandbox: Sandbox, connect: Connect) -> None:
    rtm = await connect(sandbox)
    chat = await rtm.call(m.StartChat())
    limit = LIMITS.text_bytes
    await rtm.call(m.SendEvent(chat_id=chat.chat_id, event=Message(text="a" * limit)))
    error = await rtm.error(
        m.SendEvent(chat_id=chat.chat_id, event=Message(text="a" * (limit + 1)))
    )
    assert (error.error.type, error.error.message) == (
        "validation",
        "Message text too long (max 16 KB)",
    )


@pytest.mark.parametrize("action", ["set_customer_session_fields", "update_customer"])
async def test_session_fields_up_to_100(
    sandbox: Sandbox, connect: Connect, action: str
) -> None:
    rtm = await connect(sandbox)
    make = (
        m.SetCustomerSessionFields
        if action == "set_customer_session_fields"
        else (m.UpdateCustomer)
    )
    fields = [{f"key{i}": "v"} for i in range(LIMITS.session_fields)]
    await rtm.call(make(session_fields=fields))
    error = await rtm.error(make(session_fields=[*fields, {"one": "more"}]))
    # customer-sdk/index.mdx, updateCustomer's errors:
    # "CUSTOMER_SESSION_FIELDS_LIMIT_REACHED" (the SDK upper-cases the wire type).
    assert error.error.type == "customer_session_fields_limit_reached"


async def test_one_chat_per_customer(sandbox: Sandbox, connect: Connect) -> None:
    rtm = await connect(sandbox)
    chat = await rtm.call(m.StartChat())
    # customer-sdk/index.mdx, startChat's errors: "CHAT_LIMIT_REACHED - the maximum
    # limit of chats per customer has been reached ... The limit is 1."
    assert (await rtm.error(m.StartChat())).error.type == "chat_limit_reached"
    await rtm.call(m.DeactivateChat(id=chat.chat_id))
    assert (await rtm.error(m.StartChat())).error.type == "chat_limit_reached"
    resumed = await rtm.call(m.ResumeChat(chat=m.ResumeChatSpec(id=chat.chat_id)))
    assert resumed.thread_id != chat.thread_id


async def test_resume_an_active_chat_is_refused(
    sandbox: Sandbox, connect: Connect
) -> None:
    rtm = await connect(sandbox)
    chat = await rtm.call(m.StartChat())
    error = await rtm.error(m.ResumeChat(chat=m.ResumeChatSpec(id=chat.chat_id)))
    # customer-sdk/index.mdx, resumeChat's errors: "CHAT_ALREADY_ACTIVE - the chat is
    # already active and you can't activate it again."
    assert (error.error.type, error.error.message) == (
        "chat_already_active",
        "Chat is already active",
    )


async def test_send_event_to_an_inactive_chat(
    sandbox: Sandbox, connect: Connect
) -> None:
    rtm = await connect(sandbox)
    chat = await rtm.call(m.StartChat())
    await rtm.call(m.DeactivateChat(id=chat.chat_id))
    error = await rtm.error(m.SendEvent(chat_id=chat.chat_id, event=Message(text="?")))
    assert error.error.type == "chat_inactive"
    attached = await rtm.call(
        m.SendEvent(
            chat_id=chat.chat_id, event=Message(text="PS"), attach_to_last_thread=True
        )
    )
    assert attached.event_id.startswith(chat.thread_id)
