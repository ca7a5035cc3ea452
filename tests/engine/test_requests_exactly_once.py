"""Event-creating requests are never applied twice: lost replies and retries are
looked up by ``custom_id`` in the chat (rxlivechat/engine/outgoing.py), counted
from what the sandbox stored."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from reactivex import operators as ops

from rxlivechat import Message
from rxlivechat.exceptions import RequestTimeoutError
from rxlivechat.sandbox import Sandbox

from ..helpers import awaited, connect


def stored(sandbox: Sandbox, chat_id: str) -> list[Message]:
    """The chat's messages as the server keeps them, oldest first."""
    chat = sandbox.store.chats[chat_id]
    return [e for t in chat.threads for e in t.events if isinstance(e, Message)]


@pytest.mark.sandbox(seed=31)
async def test_lost_replies_settle_with_the_event_and_never_duplicate(
    sandbox: Sandbox,
) -> None:
    sdk = connect(sandbox, reconnect_delay=(0.01, 0.05), request_timeout=30.0)
    chat = await sdk.start_chat()
    sandbox.lose_replies("send_event", probability=0.3)
    sent = []
    for i in range(40):  # one at a time: each loss cuts the socket under it
        sent.append(await sdk.send_event(chat.id, Message(text=f"m{i}")))
    sandbox.lose_replies("send_event", probability=0)
    assert sandbox.faults.replies_lost >= 5  # the seed makes it so: the test bites
    texts = [m.text for m in stored(sandbox, chat.id) if m.text.startswith("m")]
    assert texts == [f"m{i}" for i in range(40)]  # each once, in order
    stored_ids = {m.id for m in stored(sandbox, chat.id)}
    assert [e.text for e in sent] == texts
    assert all(e.id in stored_ids and e.custom_id for e in sent)


@pytest.mark.sandbox(seed=7)
async def test_concurrent_sends_through_drops_are_each_stored_once(
    sandbox: Sandbox,
) -> None:
    sdk = connect(sandbox, reconnect_delay=(0.01, 0.05), request_timeout=60.0)
    chat = await sdk.start_chat()
    sandbox.latency(0.01, jitter=0.02)
    sandbox.lose_replies("send_event", probability=0.1)
    results = await asyncio.gather(
        *(awaited(sdk.send_event(chat.id, Message(text=f"c{i}"))) for i in range(60))
    )
    sandbox.lose_replies("send_event", probability=0)
    assert sandbox.faults.replies_lost >= 1
    counts = Counter(m.text for m in stored(sandbox, chat.id))
    assert all(counts[f"c{i}"] == 1 for i in range(60)), counts
    assert sorted(e.text for e in results) == sorted(f"c{i}" for i in range(60))


async def test_retry_against_slow_replies_stores_one_copy(sandbox: Sandbox) -> None:
    sdk = connect(sandbox, request_timeout=1.5)
    chat = await sdk.start_chat()
    sandbox.latency(1.0)  # each way: every reply comes 2 s after its request
    call = sdk.send_event(chat.id, Message(text="once")).pipe(ops.retry(3))
    with pytest.raises(RequestTimeoutError):
        await call
    sandbox.latency(0)
    await asyncio.sleep(2.5)  # what was on the link lands (or not) meanwhile
    assert [m.text for m in stored(sandbox, chat.id)].count("once") == 1


async def test_a_second_await_returns_the_event_sent_by_the_first(
    sandbox: Sandbox,
) -> None:
    sdk = connect(sandbox)
    chat = await sdk.start_chat()
    call = sdk.send_event(chat.id, Message(text="twice awaited"))
    first = await call
    second = await call
    assert second.id == first.id
    assert second.custom_id == first.custom_id
    assert [m.text for m in stored(sandbox, chat.id)].count("twice awaited") == 1


async def test_the_callers_event_is_copied_not_changed(sandbox: Sandbox) -> None:
    sdk = connect(sandbox)
    chat = await sdk.start_chat()
    message = Message(text="same object")
    first = await sdk.send_event(chat.id, message)
    second = await sdk.send_event(chat.id, message)
    assert message.custom_id is None
    assert first.custom_id
    assert second.custom_id
    assert first.custom_id != second.custom_id
    assert [m.text for m in stored(sandbox, chat.id)].count("same object") == 2


async def test_a_given_custom_id_is_kept(sandbox: Sandbox) -> None:
    sdk = connect(sandbox)
    chat = await sdk.start_chat()
    mine = {"type": "message", "text": "x", "custom_id": "mine-1"}
    sent = await sdk.send_event(chat.id, mine)
    assert sent.custom_id == "mine-1"


@pytest.mark.sandbox(seed=3)
async def test_resume_chat_with_a_lost_reply_settles_with_its_chat(
    sandbox: Sandbox,
) -> None:
    sdk = connect(sandbox, reconnect_delay=(0.01, 0.05), request_timeout=30.0)
    chat = await sdk.start_chat()
    await sdk.deactivate_chat(chat.id)
    sandbox.lose_replies("resume_chat")
    resumed = await sdk.resume_chat(chat.id, [Message(text="back")])
    sandbox.lose_replies("resume_chat", probability=0)
    assert sandbox.faults.replies_lost == 1
    assert resumed.id == chat.id
    assert [m.text for m in stored(sandbox, chat.id)].count("back") == 1
    assert len(sandbox.store.chats[chat.id].threads) == 2


@pytest.mark.sandbox(seed=5)
async def test_start_chat_with_a_lost_reply_finds_its_new_chat(
    sandbox: Sandbox,
) -> None:
    sdk = connect(sandbox, reconnect_delay=(0.01, 0.05), request_timeout=30.0)
    await sdk.wait_connected(timeout=10)
    sandbox.lose_replies("start_chat")
    chat = await sdk.start_chat([Message(text="first words")])
    sandbox.lose_replies("start_chat", probability=0)
    assert sandbox.faults.replies_lost == 1
    assert list(sandbox.store.chats) == [chat.id]  # one chat, found again
    assert [m.text for m in stored(sandbox, chat.id)] == ["first words"]
    assert chat.thread is not None
