"""Only the push that answers a request carries its ``request_id`` (the requester's
copy); the side effects of a request (system messages, side storage) do not."""

from __future__ import annotations

from rxlivechat.protocol import methods as m
from rxlivechat.protocol.models import Message, SystemMessage
from rxlivechat.sandbox import Sandbox
from rxlivechat.sandbox.echoes import ANSWERING_PUSH, carries_request_id

from .conftest import Connect


def test_each_action_is_answered_by_its_own_push_only() -> None:
    assert carries_request_id("send_event", "incoming_event")
    assert carries_request_id("start_chat", "incoming_chat")
    assert not carries_request_id("deactivate_chat", "incoming_event")
    assert not carries_request_id("update_thread_properties", "incoming_event")
    assert not carries_request_id("login", "customer_side_storage_updated")
    assert not carries_request_id(None, "incoming_event")
    assert ANSWERING_PUSH["deactivate_chat"] == "chat_deactivated"


async def test_system_messages_of_a_request_carry_no_request_id(
    sandbox: Sandbox, connect: Connect
) -> None:
    rtm = await connect(sandbox)
    chat = await rtm.call(m.StartChat())
    started = await rtm.push("incoming_chat")
    assert started.request_id is not None
    sent = await rtm.send(
        m.SendEvent(chat_id=chat.chat_id, event=Message(text="hello"))
    )
    await rtm.reply(sent)
    echo = await rtm.push("incoming_event")
    assert echo.request_id == sent
    rated = await rtm.send(
        m.UpdateThreadProperties(
            chat_id=chat.chat_id,
            thread_id=chat.thread_id,
            properties={"rating": {"score": 1, "comment": "thanks"}},
        )
    )
    await rtm.reply(rated)
    assert (await rtm.push("thread_properties_updated")).request_id == rated
    for expected in ("rating.chat_rated", "rating.chat_commented"):
        push = await rtm.push("incoming_event")
        assert isinstance(push.payload.event, SystemMessage)
        assert push.payload.event.system_message_type == expected
        assert push.request_id is None
    closed = await rtm.send(m.DeactivateChat(id=chat.chat_id))
    await rtm.reply(closed)
    archived = await rtm.push("incoming_event")
    assert archived.payload.event.system_message_type == "manual_archived_customer"
    assert archived.request_id is None
    assert (await rtm.push("chat_deactivated")).request_id == closed
