"""Scripted agents: what they do reaches the customer's socket, and back."""

from __future__ import annotations

from typing import Any

import pytest

from rxlivechat.exceptions import (
    AuthorizationError,
    ChatInactiveError,
    InvalidArgumentError,
    NotFoundError,
    ValidationError,
)
from rxlivechat.protocol import methods as m
from rxlivechat.protocol.models import (
    Agent,
    Message,
    RichMessage,
    RichMessageButton,
    RichMessageElement,
    SystemMessage,
)
from rxlivechat.protocol.pushes import GreetingAccepted
from rxlivechat.sandbox import IncomingSneakPeek, Sandbox
from rxlivechat.sandbox.agents import AgentTimeoutError

from ..helpers import until
from .conftest import Connect, Rtm


async def started(sandbox: Sandbox, connect: Connect) -> tuple[Rtm, str]:
    rtm = await connect(sandbox)
    chat = await rtm.call(m.StartChat())
    await rtm.push("incoming_chat")
    return rtm, chat.chat_id


async def test_agent_joins_writes_and_leaves(
    sandbox: Sandbox, connect: Connect
) -> None:
    rtm, chat_id = await started(sandbox, connect)
    agent = sandbox.agent("Jane", job_title="Support Hero")
    assert sandbox.agent("Jane") is agent
    assert await agent.next_chat() == chat_id
    await agent.join(chat_id)
    added = (await rtm.push("user_added_to_chat")).payload
    assert isinstance(added.user, Agent)
    assert (added.user.id, added.user.name, added.user.job_title) == (
        agent.id,
        "Jane",
        "Support Hero",
    )
    await agent.typing(chat_id)
    typing = (await rtm.push("incoming_typing_indicator")).payload.typing_indicator
    assert (typing.author_id, typing.is_typing) == (agent.id, True)
    sent = await agent.send_message(chat_id, "Hello!", custom_id="a1")
    event = (await rtm.push("incoming_event")).payload.event
    assert event == sent
    assert (event.author_id, event.text, event.custom_id) == (agent.id, "Hello!", "a1")
    card = await agent.send_rich_message(
        chat_id,
        [RichMessageElement(title="Pick", buttons=[RichMessageButton(text="Yes")])],
        template_id="quick_replies",
    )
    assert isinstance((await rtm.push("incoming_event")).payload.event, RichMessage)
    assert card.id is not None
    await agent.thinking(chat_id, "Looking it up")
    assert (await rtm.push("incoming_thinking_indicator")).payload.title == (
        "Looking it up"
    )
    await agent.leave(chat_id)
    removed = (await rtm.push("user_removed_from_chat")).payload
    assert removed.user_id == agent.id


async def test_agent_hears_the_customer(sandbox: Sandbox, connect: Connect) -> None:
    rtm, chat_id = await started(sandbox, connect)
    agent = sandbox.agent("Jane")
    await agent.join(chat_id)
    await rtm.call(m.SendSneakPeek(chat_id=chat_id, sneak_peek_text="I wa"))
    await rtm.call(m.SendEvent(chat_id=chat_id, event=Message(text="I want a refund")))
    event = await agent.next_customer_event(chat_id, timeout=2)
    assert isinstance(event, Message)
    assert event.text == "I want a refund"
    (peek,) = agent.sneak_peeks(chat_id)
    assert peek.text == "I wa"
    assert peek.sent_at.tzinfo is not None
    notice = await agent.next_push("incoming_sneak_peek")
    assert isinstance(notice, IncomingSneakPeek)
    with pytest.raises(TimeoutError):
        await agent.next_customer_event(chat_id, timeout=0.05)


async def test_agent_properties_and_seen(sandbox: Sandbox, connect: Connect) -> None:
    rtm, chat_id = await started(sandbox, connect)
    agent = sandbox.agent("Jane")
    await agent.join(chat_id)
    message = await agent.send_message(chat_id, "Rate me")
    thread_id = message.id.rsplit("_", 1)[0] if message.id else ""
    await agent.update_chat_properties(chat_id, {"routing": {"pinned": True}})
    assert (await rtm.push("chat_properties_updated")).payload.properties == {
        "routing": {"pinned": True}
    }
    await agent.update_thread_properties(chat_id, thread_id, {"lc2": {"x": 1}})
    assert (await rtm.push("thread_properties_updated")).payload.thread_id == thread_id
    assert message.id is not None
    await agent.update_event_properties(
        chat_id, thread_id, message.id, {"status": {"delivered": True}}
    )
    pushed = (await rtm.push("event_properties_updated")).payload
    assert pushed.event_id == message.id
    await agent.mark_seen(chat_id)
    seen = (await rtm.push("events_marked_as_seen")).payload
    assert seen.user_id == agent.id


async def test_agent_transfers_and_deactivates(
    sandbox: Sandbox, connect: Connect
) -> None:
    rtm, chat_id = await started(sandbox, connect)
    jane, john = sandbox.agent("Jane"), sandbox.agent("John")
    await jane.join(chat_id)
    assert (await rtm.push("user_added_to_chat")).payload.user.id == jane.id
    await jane.transfer(chat_id, agent_ids=[john.id])
    moved = (await rtm.push("chat_transferred")).payload
    assert moved.transferred_to.agent_ids == [john.id]
    assert (await rtm.push("user_removed_from_chat")).payload.user_id == jane.id
    assert (await rtm.push("user_added_to_chat")).payload.user.id == john.id
    await john.deactivate(chat_id)
    closing = (await rtm.push("incoming_event")).payload.event
    assert isinstance(closing, SystemMessage)
    assert closing.system_message_type == "manual_archived_agent"
    assert (await rtm.push("chat_deactivated")).payload.user_id == john.id
    with pytest.raises(ChatInactiveError):
        await john.send_message(chat_id, "too late")


async def test_agent_greets_a_customer(sandbox: Sandbox, connect: Connect) -> None:
    token = await sandbox.create_customer_token()
    rtm = await connect(sandbox, token.access_token)
    agent = sandbox.agent("Jane")
    greeting_id, unique_id = await agent.send_greeting(token.entity_id, "Need help?")
    shown = (await rtm.push("incoming_greeting")).payload
    assert (shown.id, shown.unique_id, shown.agent.id) == (
        greeting_id,
        unique_id,
        agent.id,
    )
    await rtm.call(m.AcceptGreeting(greeting_id=greeting_id, unique_id=unique_id))
    assert (await rtm.push("greeting_accepted")).payload.unique_id == unique_id
    accepted = await agent.next_push("greeting_accepted")
    assert isinstance(accepted, GreetingAccepted)


async def test_group_status_and_multicast_reach_customers(
    sandbox: Sandbox, connect: Connect
) -> None:
    rtm = await connect(sandbox)
    await sandbox.set_group_status(0, "offline")
    groups = (await rtm.push("groups_status_updated")).payload.groups
    assert [(g.id, g.status) for g in groups] == [(0, "offline")]
    assert (await rtm.error(m.StartChat())).error.type == "groups_offline"
    await sandbox.multicast({"type": "announcement"})
    assert (await rtm.push("incoming_multicast")).payload.content == {
        "type": "announcement"
    }


async def test_agent_previews_and_edits_a_message(
    sandbox: Sandbox, connect: Connect
) -> None:
    rtm, chat_id = await started(sandbox, connect)
    jane, john = sandbox.agent("Jane"), sandbox.agent("John")
    await jane.join(chat_id)
    await jane.preview(chat_id, "Let me", custom_id="d1")
    preview = (await rtm.push("incoming_event_preview")).payload
    assert isinstance(preview.event, Message)
    assert (preview.event.text, preview.event.author_id, preview.event.id) == (
        "Let me",
        jane.id,
        None,
    )
    assert preview.event.custom_id == "d1"
    assert preview.event.created_at is not None
    sent = await jane.send_message(chat_id, "Let me check")
    await rtm.push("incoming_event")
    assert sent.id is not None
    edited = await jane.edit_message(chat_id, sent.id, "Checked: all good")
    assert (edited.id, edited.text, edited.created_at) == (
        sent.id,
        "Checked: all good",
        sent.created_at,
    )
    updated = (await rtm.push("event_updated")).payload
    assert updated.event == edited
    chat = await rtm.call(m.GetChat(chat_id=chat_id))
    assert [e.text for e in chat.thread.events if e.id == sent.id] == [
        "Checked: all good"
    ]
    with pytest.raises(AuthorizationError):
        await john.edit_message(chat_id, sent.id, "not mine")
    with pytest.raises(NotFoundError):
        await jane.edit_message(chat_id, "NOPE_1", "x")
    with pytest.raises(ValidationError):
        await jane.edit_message(chat_id, sent.id, "")


async def test_queue_position_updates(sandbox: Sandbox, connect: Connect) -> None:
    rtm, chat_id = await started(sandbox, connect)
    await sandbox.set_queue_position(chat_id, 2, wait_time=90)
    queued = (await rtm.push("queue_position_updated")).payload
    assert (queued.chat_id, queued.queue.position, queued.queue.wait_time) == (
        chat_id,
        2,
        90,
    )
    assert queued.queue.queued_at is None  # the push has none (§3)
    first = (await rtm.call(m.GetChat(chat_id=chat_id))).thread.queue
    await sandbox.set_queue_position(chat_id, 1, wait_time=10)
    await rtm.push("queue_position_updated")
    second = (await rtm.call(m.GetChat(chat_id=chat_id))).thread.queue
    assert (second.position, second.wait_time) == (1, 10)
    assert second.queued_at == first.queued_at is not None
    await rtm.call(m.DeactivateChat(id=chat_id))
    with pytest.raises(ChatInactiveError):
        await sandbox.set_queue_position(chat_id, 1)
    with pytest.raises(NotFoundError):
        await sandbox.set_queue_position("NOSUCHCHAT", 1)


# Plain dicts, and waits that say what they waited for --------------------------------


async def test_agent_helpers_take_plain_dicts_in_wire_form(
    sandbox: Sandbox, connect: Connect
) -> None:
    rtm, chat_id = await started(sandbox, connect)
    agent = sandbox.agent("Jane")
    await agent.join(chat_id)
    button: dict[str, Any] = {
        "text": "Yes",
        "type": "message",
        "value": "yes",
        "postback_id": "p1",
    }
    card = await agent.send_rich_message(
        chat_id, [{"title": "Shall we?", "buttons": [button]}]
    )
    pushed = (await rtm.push("incoming_event")).payload.event
    assert pushed == card
    assert isinstance(pushed, RichMessage)
    (element,) = pushed.elements or []
    # The server lists who toggled each button: none yet (data-structures).
    assert element == RichMessageElement(
        title="Shall we?", buttons=[RichMessageButton(**button, user_ids=[])]
    )
    sent = await agent.send_event(
        chat_id, {"type": "message", "text": "From a dict", "custom_id": "d1"}
    )
    assert isinstance(sent, Message)
    assert (await rtm.push("incoming_event")).payload.event == sent
    # A dict nested in a model is checked too.
    mixed = await agent.send_event(
        chat_id,
        RichMessage(template_id="cards", elements=[{"title": "T"}]),  # type: ignore[list-item]
    )
    assert isinstance(mixed, RichMessage)
    assert mixed.elements == [RichMessageElement(title="T")]


@pytest.mark.parametrize(
    ("event", "says"),
    [
        ({"type": "message", "text": 5}, "Expected `str`, got `int` - at `$.text`"),
        ({"type": "poll"}, "Invalid value 'poll' - at `$.type`"),
        ({"text": "no type"}, "missing required field `type`"),
        (object(), "Encoding objects of type object is unsupported"),
    ],
)
async def test_a_dict_that_does_not_fit_is_refused_before_anything_is_sent(
    sandbox: Sandbox, connect: Connect, event: object, says: str
) -> None:
    rtm, chat_id = await started(sandbox, connect)
    agent = sandbox.agent("Jane")
    await agent.join(chat_id)
    with pytest.raises(InvalidArgumentError) as refused:
        await agent.send_event(chat_id, event)  # type: ignore[arg-type]
    assert str(refused.value).startswith("event: ")
    assert says in str(refused.value)
    with pytest.raises(InvalidArgumentError, match=r"elements\[0\].buttons"):
        await agent.send_rich_message(chat_id, [{"buttons": "Yes"}])
    assert len(sandbox.store.chats[chat_id].threads[-1].events) == 0
    with pytest.raises(TimeoutError):
        await rtm.push("incoming_event", timeout=0.2)


async def test_a_wait_that_ends_empty_says_what_it_waited_for(
    sandbox: Sandbox, connect: Connect
) -> None:
    rtm, chat_id = await started(sandbox, connect)
    agent = sandbox.agent("Jane")
    assert await agent.next_chat() == chat_id  # read; no other chat comes
    await agent.join(chat_id)
    await rtm.call(m.SendSneakPeek(chat_id=chat_id, sneak_peek_text="Hel"))
    await agent.next_push("incoming_sneak_peek")  # read; the next one is not

    waits = [
        (
            agent.next_customer_event(chat_id, timeout=0.05),
            f"a customer event in chat {chat_id}",
        ),
        (agent.next_chat(timeout=0.05), "a new chat"),
        (agent.next_push("chat_deactivated", timeout=0.05), "a chat_deactivated push"),
    ]
    for wait, awaited in waits:
        with pytest.raises(AgentTimeoutError) as timed_out:
            await wait
        error = timed_out.value
        assert isinstance(error, TimeoutError)  # what callers caught before
        assert (error.awaited, error.timeout) == (awaited, 0.05)
        assert str(error).startswith(f"{agent!r} waited 0.05 s for {awaited}; none")
    await rtm.call(m.SendSneakPeek(chat_id=chat_id, sneak_peek_text="Hello"))
    await until(lambda: len(agent.sneak_peeks(chat_id)) == 2)
    unread = r"\(unread pushes: user_added_to_chat x1, incoming_sneak_peek x1\)$"
    with pytest.raises(AgentTimeoutError, match=unread):  # what came instead
        await agent.next_customer_event(chat_id, timeout=0.05)
