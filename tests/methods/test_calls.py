"""Methods as cold, awaitable observables: every way a request ends.

Against :class:`~tests.engine.hostile.HostileServer`, which lets a test decide
when the server replies and whether our copy of the event (the push carrying
the request's id) comes before the reply, after it, or not at all.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

import rxlivechat
from rxlivechat import CustomerSDK, Message, SDKClosedError
from rxlivechat.protocol.methods import GetCustomer

from ..engine.hostile import (
    CUSTOMER_ID,
    HOLD,
    Connection,
    HostileServer,
    Request,
    incoming_event,
    ok_reply,
)
from ..helpers import CREATED, Recorder, awaited, until

CHAT = "C1"


@pytest.fixture
async def server() -> AsyncIterator[HostileServer]:
    async with HostileServer() as hostile:
        yield hostile


@pytest.fixture
async def sdk(server: HostileServer) -> CustomerSDK:
    sdk = rxlivechat.init(**server.options())
    CREATED.append(sdk)
    await sdk.wait_connected(timeout=10)
    return sdk


def sent_event(request: Request, event_id: str) -> dict[str, Any]:
    """The event a ``send_event`` request stored, as the server echoes it."""
    event: dict[str, Any] = request["payload"]["event"]
    return event | {"id": event_id, "author_id": CUSTOMER_ID}


async def reply(connection: Connection, request: Request, payload: Any) -> None:
    """Answer ``request`` from inside a handler (which then returns HOLD)."""
    await connection.send_raw(json.dumps(ok_reply(request, payload)))


async def test_our_copy_after_the_reply_is_the_value(
    server: HostileServer, sdk: CustomerSDK
) -> None:
    async def send_event(connection: Connection, request: Request) -> Any:
        await reply(connection, request, {"event_id": "E1"})
        await connection.push(
            "incoming_event",
            incoming_event(CHAT, sent_event(request, "E1")),
            request_id=request["request_id"],
        )
        return HOLD

    server.handlers["send_event"] = send_event
    event = await sdk.send_event(CHAT, Message(text="hi"))
    assert (event.id, event.thread_id, event.text) == ("E1", "T1", "hi")
    assert server.counts["get_chat"] == 0  # not read back


async def test_without_our_copy_the_event_is_read_back(
    server: HostileServer, sdk: CustomerSDK
) -> None:
    async def send_event(connection: Connection, request: Request) -> Any:
        await reply(connection, request, {"event_id": "E1"})
        await connection.ws.close()  # dropped before our copy came
        return HOLD

    async def get_chat(connection: Connection, request: Request) -> Any:
        stored = {"id": "E1", "type": "message", "text": "hi"}
        return {
            "id": CHAT,
            "users": [],
            "thread": {
                "id": "T7",
                "active": True,
                "user_ids": [CUSTOMER_ID],
                "events": [stored | {"created_at": "2026-01-01T00:00:00.000000Z"}],
                "created_at": "2026-01-01T00:00:00.000000Z",
            },
        }

    server.handlers["send_event"] = send_event
    server.handlers["get_chat"] = get_chat
    event = await sdk.send_event(CHAT, Message(text="hi"))
    assert (event.id, event.thread_id, event.text) == ("E1", "T7", "hi")
    assert server.counts["get_chat"] == 1


async def test_cancelling_an_await_abandons_the_request(
    server: HostileServer, sdk: CustomerSDK
) -> None:
    release = asyncio.Event()

    async def send_event(connection: Connection, request: Request) -> Any:
        await release.wait()
        await connection.push(
            "incoming_event",
            incoming_event(CHAT, sent_event(request, "E1")),
            request_id=request["request_id"],
        )
        return {"event_id": "E1"}

    server.handlers["send_event"] = send_event
    recorder = Recorder(sdk)
    waiting = asyncio.ensure_future(awaited(sdk.send_event(CHAT, Message(text="x"))))
    await until(lambda: server.counts["send_event"] == 1)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert sdk._engine.in_flight == 1  # its slot is kept until the reply
    release.set()
    await until(lambda: sdk._engine.in_flight == 0)  # the reply came: dropped
    await recorder.wait_for("new_event")  # our copy is still an event
    assert recorder.of("error") == []
    assert (await sdk.call(GetCustomer())).id == CUSTOMER_ID  # still serving


async def test_disposing_inside_on_next_skips_on_completed(sdk: CustomerSDK) -> None:
    seen: list[str] = []
    done = asyncio.Event()

    def on_next(customer: Any) -> None:
        seen.append("next")
        subscription.dispose()
        done.set()

    subscription = sdk.call(GetCustomer()).subscribe(
        on_next, lambda exc: seen.append(repr(exc)), lambda: seen.append("completed")
    )
    await done.wait()
    await asyncio.sleep(0)
    assert seen == ["next"]


async def test_subscribing_without_on_error_raises_once_destroyed(
    sdk: CustomerSDK,
) -> None:
    customer = sdk.call(GetCustomer())
    await sdk.destroy()
    with pytest.raises(SDKClosedError):
        customer.subscribe(print)
    got: list[Any] = []
    customer.subscribe(got.append, got.append)  # with one, it gets the error
    assert [type(e) for e in got] == [SDKClosedError]
    with pytest.raises(SDKClosedError):
        await customer
