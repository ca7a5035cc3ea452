"""The event stream: v3.6 pushes become the seed's events, over the sandbox."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

from rxlivechat import (
    ChatPropertiesUpdated,
    ChatThreadPropertiesUpdated,
    CustomerSDK,
    LastSeenTimestampUpdated,
    Message,
    NewEvent,
    ThreadClosed,
    ThreadSummary,
    UserInChat,
    UserTyping,
)
from rxlivechat.events import events_of_push
from rxlivechat.protocol import codec
from rxlivechat.protocol.frames import Push
from rxlivechat.protocol.models import Agent
from rxlivechat.sandbox import Sandbox

from .helpers import Recorder, awaited, connect


def push(action: str, payload: str) -> Push[Any]:
    frame = codec.decode_frame(
        f'{{"action":"{action}","type":"push","payload":{payload}}}'
    )
    assert isinstance(frame, Push)
    return frame


# The mapping, frame by frame ----------------------------------------------------------


def test_incoming_event_becomes_new_event_with_its_thread() -> None:
    ((name, event),) = events_of_push(
        push(
            "incoming_event",
            '{"chat_id":"C","thread_id":"T","event":{"id":"T_1","type":"message",'
            '"text":"hi","author_id":"a","created_at":"2026-01-01T00:00:00.000001Z"}}',
        )
    )
    assert name == "new_event"
    assert isinstance(event, NewEvent)
    assert (event.chat, event.thread, event.event.thread_id) == ("C", "T", "T")


def test_typing_indicator_becomes_is_typing_or_stopped_typing() -> None:
    for is_typing, expected in (
        ("true", "user_is_typing"),
        ("false", "user_stopped_typing"),
    ):
        ((name, payload),) = events_of_push(
            push(
                "incoming_typing_indicator",
                '{"chat_id":"C","thread_id":"T","typing_indicator":{"author_id":"a",'
                f'"timestamp":1574245378,"is_typing":{is_typing}}}}}',
            )
        )
        assert (name, payload) == (expected, UserTyping(chat="C", user="a", thread="T"))


def test_pushes_without_a_v1_name_keep_their_own() -> None:
    frame = push("greeting_canceled", '{"unique_id":"u"}')
    assert events_of_push(frame) == [("greeting_canceled", frame.payload)]
    unknown = push("brand_new_push", '{"x":1}')
    assert events_of_push(unknown) == [("brand_new_push", {"x": 1})]


# Over the sandbox ---------------------------------------------------------------------


async def test_agent_activity_reaches_the_customer_as_v1_events(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    seen = Recorder(sdk)
    chat = await sdk.start_chat()
    assert chat.thread is not None
    (summary,) = await seen.wait_for("thread_summary")
    assert isinstance(summary, ThreadSummary)
    assert (summary.id, summary.chat) == (chat.thread.id, chat.id)
    jane = sandbox.agent("Jane")
    await jane.join(chat.id)
    (joined,) = await seen.wait_for("user_joined_chat")
    assert joined == UserInChat(chat=chat.id, user=jane.id, reason=joined.reason)
    assert any(isinstance(u, Agent) and u.name == "Jane" for u in seen.of("user_data"))
    await jane.typing(chat.id, True)
    await jane.typing(chat.id, False)
    (typing,) = await seen.wait_for("user_is_typing")
    await seen.wait_for("user_stopped_typing")
    assert typing == UserTyping(chat=chat.id, user=jane.id, thread=chat.thread.id)
    await jane.send_message(chat.id, "How can I help?")
    (new,) = await seen.wait_for("new_event")
    assert isinstance(new.event, Message)
    assert (new.chat, new.event.text, new.event.author_id) == (
        chat.id,
        "How can I help?",
        jane.id,
    )
    await jane.update_chat_properties(chat.id, {"routing": {"pinned": True}})
    (props,) = await seen.wait_for("chat_properties_updated")
    assert props == ChatPropertiesUpdated(
        chat=chat.id, properties={"routing": {"pinned": True}}
    )
    await jane.update_thread_properties(chat.id, chat.thread.id, {"ns": {"k": 1}})
    (thread_props,) = await seen.wait_for("chat_thread_properties_updated")
    assert thread_props == ChatThreadPropertiesUpdated(
        chat=chat.id, thread=chat.thread.id, properties={"ns": {"k": 1}}
    )
    await jane.leave(chat.id)
    (left,) = await seen.wait_for("user_left_chat")
    assert (left.chat, left.user) == (chat.id, jane.id)


async def test_last_seen_and_thread_closed(sdk: CustomerSDK) -> None:
    seen = Recorder(sdk)
    chat = await sdk.start_chat()
    when = datetime.datetime(2021, 5, 6, 7, 8, 9, 10, tzinfo=datetime.UTC)
    await sdk.update_last_seen_timestamp(chat.id, when)
    (update,) = await seen.wait_for("last_seen_timestamp_updated")
    assert sdk.customer_id is not None
    assert update == LastSeenTimestampUpdated(
        chat=chat.id, user=sdk.customer_id, timestamp=when
    )
    await sdk.close_thread(chat.id)
    (closed,) = await seen.wait_for("thread_closed")
    assert isinstance(closed, ThreadClosed)
    assert closed.chat == chat.id


async def test_on_once_off(sdk: CustomerSDK, sandbox: Sandbox) -> None:
    every: list[Any] = []
    first: list[Any] = []
    sdk.on("new_event", every.append)
    sdk.once("new_event", first.append)
    chat = await sdk.start_chat()
    for text in ("a", "b"):
        await sdk.send_event(chat.id, Message(text=text))
    async with asyncio.timeout(5):
        while len(every) < 2:
            await asyncio.sleep(0.005)
    sdk.off("new_event", every.append)
    await sdk.send_event(chat.id, Message(text="c"))
    await asyncio.sleep(0.05)
    assert [e.event.text for e in every] == ["a", "b"]
    assert [e.event.text for e in first] == ["a"]


async def test_a_callback_that_raises_breaks_neither_stream_nor_others(
    sdk: CustomerSDK,
) -> None:
    seen = Recorder(sdk)
    good: list[Any] = []

    def bad(_: Any) -> None:
        raise RuntimeError("user bug")

    sdk.on("new_event", bad)
    sdk.on("new_event", good.append)
    chat = await sdk.start_chat()
    await sdk.send_event(chat.id, Message(text="1"))
    await sdk.send_event(chat.id, Message(text="2"))
    await seen.wait_for("new_event", 2)
    errors = await seen.wait_for("error", 2)
    assert all(isinstance(e, RuntimeError) for e in errors)
    assert len(good) == 2
    assert sdk.connected


async def test_the_sdk_is_an_observable_for_pipelines(sdk: CustomerSDK) -> None:
    texts = (
        sdk.filter(lambda item: item[0] == "new_event")
        .map(lambda item: item[1].event.text)
        .take(3)
        .to_list()
    )
    collecting = asyncio.ensure_future(awaited(texts))
    chat = await sdk.start_chat()
    for text in ("x", "y", "z"):
        await sdk.send_event(chat.id, Message(text=text))
    assert await asyncio.wait_for(collecting, 5) == ["x", "y", "z"]


async def test_frames_is_the_one_hot_stream(sdk: CustomerSDK) -> None:
    frames: list[Any] = []
    sdk.frames.subscribe(frames.append)
    observers = len(sdk._streams.frames.observers)
    chat = await sdk.start_chat()
    results = await asyncio.gather(
        *(awaited(sdk.send_event(chat.id, Message(text=str(i)))) for i in range(20))
    )
    assert len(results) == 20
    assert len(sdk._streams.frames.observers) == observers  # no subscriber per request
    actions = {f.action for f in frames}
    assert {"start_chat", "send_event", "incoming_event", "incoming_chat"} <= actions


async def test_malformed_frames_are_reported_and_skipped(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    seen = Recorder(sdk)
    await sandbox.send_raw(b"{not json")
    await sandbox.send_raw(b'{"action":"incoming_event","type":"push","payload":[]}')
    await seen.wait_for("error", 2)
    chat = await sdk.start_chat()
    assert chat.id
    assert sdk.connected


async def test_disconnected_reason_stops_for_good(sandbox: Sandbox) -> None:
    sdk = connect(sandbox)
    seen = Recorder(sdk)
    await sdk.wait_connected(timeout=5)
    logins = sandbox.count("login")
    await sandbox.disconnect_customers("too_many_connections")
    (gone,) = await seen.wait_for("disconnected")
    assert gone.reason == "too_many_connections"
    await asyncio.sleep(0.2)
    assert sandbox.count("login") == logins
    await sdk.destroy()
