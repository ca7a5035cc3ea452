"""``sdk.outbox`` against the sandbox, on each store kind."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from rxlivechat import Message
from rxlivechat.exceptions import (
    InvalidArgumentError,
    NotFoundError,
    OutboxFullError,
    SDKClosedError,
)
from rxlivechat.sandbox import Sandbox

from ..helpers import connect


def texts(sandbox: Sandbox, chat_id: str) -> list[str]:
    """The chat's messages as the server keeps them, oldest first."""
    chat = sandbox.store.chats[chat_id]
    return [e.text for t in chat.threads for e in t.events if isinstance(e, Message)]


async def test_put_then_drain_sends_each_once_in_order(
    sandbox: Sandbox, store: Any
) -> None:
    sdk = connect(sandbox, store=store(), customer_key="bridge")
    chat = await sdk.start_chat()
    results: list[Any] = []
    sdk.outbox.results.subscribe(results.append)
    entries = [await sdk.outbox.put(chat.id, Message(text=f"m{i}")) for i in range(30)]
    assert [e.seq for e in entries] == sorted(e.seq for e in entries)
    assert all(e.state == "queued" and e.custom_id for e in entries)
    await sdk.outbox.drain(timeout=30)
    assert sdk.outbox.pending == 0
    assert texts(sandbox, chat.id) == [f"m{i}" for i in range(30)]
    assert [r[1].text for r in results] == [f"m{i}" for i in range(30)]
    assert [r[0].state for r in results] == ["sent"] * 30
    # The same custom_id again: the entry put first, not a second message.
    again = await sdk.outbox.put(chat.id, entries[3].event)
    assert (again.seq, again.state) == (entries[3].seq, "sent")
    await sdk.outbox.drain(timeout=5)
    assert len(texts(sandbox, chat.id)) == 30


async def test_bad_input_never_enters_the_queue(sandbox: Sandbox) -> None:
    sdk = connect(sandbox)
    with pytest.raises(InvalidArgumentError):
        await sdk.outbox.put("", Message(text="x"))
    with pytest.raises(InvalidArgumentError):
        await sdk.outbox.put("C1", {"type": "nope"})
    assert sdk.outbox.pending == 0
    assert "not a crash" in repr(sdk.outbox)


async def test_a_definite_refusal_fails_its_entry_and_the_next_goes_on(
    sandbox: Sandbox,
) -> None:
    sdk = connect(sandbox)
    chat = await sdk.start_chat()
    results: list[Any] = []
    sdk.outbox.results.subscribe(results.append)
    await sdk.outbox.put("no-such-chat", Message(text="lost"))
    await sdk.outbox.put(chat.id, Message(text="fine"))
    await sdk.outbox.drain(timeout=30)
    outcomes = {entry.chat_id: (entry.state, type(out)) for entry, out in results}
    assert outcomes["no-such-chat"] == ("failed", NotFoundError)
    assert outcomes[chat.id][0] == "sent"
    assert texts(sandbox, chat.id) == ["fine"]


async def test_full_outbox_refuses_without_blocking_and_waits_with(
    sandbox: Sandbox,
) -> None:
    sdk = connect(sandbox)
    chat = await sdk.start_chat()
    sdk.outbox.max_pending = 2
    sandbox.delay_replies(0.5)
    await sdk.outbox.put(chat.id, Message(text="a"))
    await sdk.outbox.put(chat.id, Message(text="b"))
    with pytest.raises(OutboxFullError):
        await sdk.outbox.put(chat.id, Message(text="c"), block=False)
    third = asyncio.ensure_future(sdk.outbox.put(chat.id, Message(text="c")))
    await asyncio.sleep(0.1)
    assert not third.done()
    sandbox.delay_replies(0)
    await asyncio.wait_for(third, 30)
    await sdk.outbox.drain(timeout=30)
    assert texts(sandbox, chat.id) == ["a", "b", "c"]


async def test_a_restart_sends_what_was_left_once(sandbox: Sandbox, store: Any) -> None:
    first = connect(sandbox, store=store(), customer_key="bridge")
    chat = await first.start_chat()
    sandbox.delay_replies(30)  # nothing is answered: all stays queued
    for i in range(5):
        await first.outbox.put(chat.id, Message(text=f"r{i}"))
    await asyncio.sleep(0.3)  # the first one is written, maybe applied
    await first.destroy()
    sandbox.delay_replies(0)
    second = connect(sandbox, store=store(), customer_key="bridge")
    assert second.outbox.pending in (0, 5)  # still opening, or opened
    await second.outbox.drain(timeout=30)
    assert texts(sandbox, chat.id) == [f"r{i}" for i in range(5)]
    with pytest.raises(SDKClosedError):
        await first.outbox.put(chat.id, Message(text="late"))


async def test_pool_customers_have_an_outbox(sandbox: Sandbox, tmp_path: Any) -> None:
    from rxlivechat.pool import CustomerPool

    async with CustomerPool(
        organization_id=sandbox.organization_id,
        client_id="test-client",
        api_url=sandbox.api_url,
        accounts_url=sandbox.accounts_url,
        store=str(tmp_path / "pool.db"),
    ) as pool:
        customer = await pool.add("a", customer_key="a")
        chat = await customer.start_chat()
        await customer.outbox.put(chat.id, Message(text="from the pool"))
        await customer.outbox.drain(timeout=30)
    assert texts(sandbox, chat.id) == ["from the pool"]
