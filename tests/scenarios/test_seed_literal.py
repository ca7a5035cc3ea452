"""Every example of the seed's "Methods" page, as literally as Python allows.

The seed is the JS Customer SDK v1 documentation (customer-sdk v1.0, "Methods").
Each test transcribes one example: the same call, the same options objects as
dicts with snake_case keys (``{"offset": 0, "limit": 10}``), the same literal
values, against the sandbox over real sockets. Where the seed logs the result,
the test checks the fields its "Returned value" table promises. Only ids differ:
the seed's ``"ON0X0R0L67"`` is whatever chat the sandbox made.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

import rxlivechat
from rxlivechat import CustomerSDK, File, Message, NewEvent
from rxlivechat.protocol.base import EmptyResult
from rxlivechat.protocol.models import Event, RichMessageButton, RichMessageElement
from rxlivechat.sandbox import Sandbox

from ..helpers import until

# The seed's examples write property_namespace.sample, which the app registered
# first (LiveChat refuses unregistered properties: docs/sandbox-choices.md).
SEED_PROPERTIES = {"property_namespace": {"sample": "string"}}
pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.sandbox(chats_per_customer=5, properties=SEED_PROPERTIES),
]


async def test_init_and_send_event_from_how_to_start(sandbox: Sandbox) -> None:
    # CustomerSDK.init({license: LICENSE_NUMBER, clientId: CLIENT_ID})
    customer_sdk = rxlivechat.init(
        organization_id=sandbox.organization_id,
        client_id="CLIENT_ID",
        api_url=sandbox.api_url,
        accounts_url=sandbox.accounts_url,
    )
    async with customer_sdk:
        new_events: list[Any] = []
        customer_sdk.on("new_event", lambda new_event: new_events.append(new_event))
        chat_id = (await customer_sdk.start_chat()).id
        response = await customer_sdk.send_event(
            chat_id, {"type": "message", "text": "Hi!"}
        )
        assert isinstance(response, Message)
        assert response.text == "Hi!"
        assert response.id is not None
        await until(lambda: any(e.event.id == response.id for e in new_events))


async def test_close_thread(sdk: CustomerSDK) -> None:
    chat = await sdk.start_chat()
    response = await sdk.close_thread(chat.id)
    assert response.success is True


async def test_destroy(sdk: CustomerSDK) -> None:
    await sdk.wait_connected(timeout=10)
    sdk.destroy()
    assert "destroyed" in repr(sdk)
    with pytest.raises(rxlivechat.SDKClosedError):
        sdk.start_chat()


async def test_disconnect(sdk: CustomerSDK) -> None:
    await sdk.wait_connected(timeout=10)
    await sdk.disconnect()
    assert not sdk.connected


async def test_get_chat_history(sdk: CustomerSDK) -> None:
    chat = await sdk.start_chat({"events": [{"type": "message", "text": "Hello"}]})
    whole_chat_history_loaded = False

    history = sdk.get_chat_history(chat.id)

    result = await history.next()
    if result.done:
        whole_chat_history_loaded = True
    events = result.value
    assert _texts(events) == ["Hello"]
    if not whole_chat_history_loaded:
        assert (await history.next()).done


async def test_get_chats_summary(sdk: CustomerSDK) -> None:
    chat = await sdk.start_chat()
    summary = await sdk.get_chats_summary({"offset": 0, "limit": 10})
    chats_summary, total_chats = summary.chats_summary, summary.total_chats
    assert total_chats == 1
    (only,) = chats_summary
    assert (only.id, only.active, only.last_thread) == (
        chat.id,
        True,
        chat.thread and chat.thread.id,
    )
    assert sdk.customer_id in only.users


async def test_get_chat_threads(sdk: CustomerSDK) -> None:
    chat = await sdk.start_chat({"events": [{"type": "message", "text": "one"}]})
    await sdk.close_thread(chat.id)
    await sdk.resume_chat(chat.id, [{"type": "message", "text": "two"}])
    summary = await sdk.get_chat_threads_summary(chat.id)
    threads = [t.id for t in summary.threads_summary]
    assert len(threads) == 2

    got = await sdk.get_chat_threads(chat.id, threads)
    assert [t.id for t in got] == threads
    assert [t.chat for t in got] == [chat.id, chat.id]
    assert [t.active for t in got] == [False, True]
    assert got[0].order < got[1].order
    assert [_texts(t.events) for t in got] == [["one"], ["two"]]


async def test_get_chat_threads_summary(sdk: CustomerSDK) -> None:
    chat = await sdk.start_chat()
    summary = await sdk.get_chat_threads_summary(chat.id, {"offset": 0, "limit": 10})
    assert summary.total_threads == 1
    (thread,) = summary.threads_summary
    assert chat.thread is not None
    assert thread.id == chat.thread.id
    assert thread.total_events == len(chat.thread.events or ())


@pytest.mark.sandbox(agents=[], properties=SEED_PROPERTIES)
async def test_get_predicted_agent(sdk: CustomerSDK, sandbox: Sandbox) -> None:
    sandbox.agent("Jane Doe")
    agent = await sdk.get_predicted_agent()
    assert agent.name == "Jane Doe"


async def test_on_once_off(sdk: CustomerSDK) -> None:
    seen: list[str] = []
    once: list[str] = []
    everything: list[str] = []  # stays subscribed: tells when "second" was delivered

    def handler(payload: NewEvent) -> None:
        seen.extend(_texts([payload.event]))

    sdk.on("new_event", lambda payload: everything.extend(_texts([payload.event])))
    sdk.on("new_event", handler)
    sdk.once("new_event", lambda payload: once.extend(_texts([payload.event])))
    chat = await sdk.start_chat()
    await sdk.send_event(chat.id, {"type": "message", "text": "first"})
    await until(lambda: seen == ["first"])
    sdk.off("new_event", handler)
    await sdk.send_event(chat.id, {"type": "message", "text": "second"})
    await until(lambda: everything == ["first", "second"])
    assert once == ["first"]
    assert seen == ["first"]


@pytest.mark.parametrize(
    "rating",
    [
        {"value": "good", "comment": "Agent helped me a lot!"},  # the seed's example
        {"score": 1, "comment": "Agent helped me a lot!"},  # the seed's table
    ],
)
async def test_rate_chat(
    sdk: CustomerSDK, sandbox: Sandbox, rating: dict[str, Any]
) -> None:
    chat = await sdk.start_chat()
    result = await sdk.rate_chat(chat.id, rating)
    assert chat.thread is not None
    assert result.id == chat.thread.id
    stored = sandbox.store.chats[chat.id].thread(chat.thread.id)
    assert stored.properties["rating"] == {
        "score": 1,
        "comment": "Agent helped me a lot!",
    }


async def test_send_event(sdk: CustomerSDK) -> None:
    chat = await sdk.start_chat()
    event = {
        "type": "message",
        # ... other properties specific for the event's type
        "text": "Hi!",
    }

    sent = await sdk.send_event(chat.id, event)
    assert isinstance(sent, Message)
    assert (sent.text, sent.author_id) == ("Hi!", sdk.customer_id)
    assert sent.id is not None
    assert sent.thread_id is not None
    # meta: {attachToLastThread}
    await sdk.close_thread(chat.id)
    late = await sdk.send_event(chat.id, event, {"attach_to_last_thread": True})
    assert late.thread_id == sent.thread_id


async def test_send_file(sdk: CustomerSDK, tmp_path: Path) -> None:
    chat = await sdk.start_chat()
    file = tmp_path / "photo.jpg"
    file.write_bytes(b"\xff\xd8\xff" + bytes(200_000))
    custom_id = "814.3316641404942"
    progress_seen: list[float] = []

    response = await sdk.send_file(
        chat.id,
        {
            "file": file,
            "custom_id": custom_id,  # optional
        },
        {
            "on_progress": lambda progress: progress_seen.append(progress),
        },
    )
    assert response.url.endswith("photo.jpg")
    assert progress_seen
    assert progress_seen[-1] == 1.0
    assert progress_seen == sorted(progress_seen)
    history = await sdk.get_chat_history(chat.id).next()
    files = [e for e in history.value if isinstance(e, File)]
    assert [(f.url, f.custom_id) for f in files] == [(response.url, custom_id)]


async def test_send_file_can_be_cancelled(sdk: CustomerSDK) -> None:
    chat = await sdk.start_chat()
    upload = sdk.send_file(chat.id, {"file": b"x" * 1000})
    upload.cancel()
    with pytest.raises(rxlivechat.UploadCancelledError):
        await upload


async def test_send_postback(sdk: CustomerSDK, sandbox: Sandbox) -> None:
    chat = await sdk.start_chat()
    assert chat.thread is not None
    agent = sandbox.agent("Jane")
    await agent.join(chat.id)
    button = RichMessageButton(
        text="Yes", type="message", postback_id="OS0C0W0Z1B01002"
    )
    rich = await agent.send_rich_message(
        chat.id, [RichMessageElement(title="Ready?", buttons=[button])]
    )
    assert rich.id is not None

    await sdk.send_postback(
        chat.id,
        chat.thread.id,
        rich.id,
        {"id": "OS0C0W0Z1B01002", "toggled": True},
    )
    (request,) = sandbox.requests.of("send_rich_message_postback")
    assert request.payload.postback.id == "OS0C0W0Z1B01002"
    assert request.payload.postback.toggled is True


async def test_set_sneak_peek(sdk: CustomerSDK, sandbox: Sandbox) -> None:
    chat = await sdk.start_chat()
    agent = sandbox.agent("Jane")
    await agent.join(chat.id)
    sdk.set_sneak_peek(chat.id, "what is the price for your ")  # returns nothing
    await until(lambda: len(agent.sneak_peeks(chat.id)) == 1)
    assert agent.sneak_peeks(chat.id)[0].text == "what is the price for your "


async def test_start_chat(sdk: CustomerSDK) -> None:
    chat = await sdk.start_chat({"events": []})
    assert chat.id
    assert chat.thread is not None
    assert chat.thread.active
    # specification: {scope, events}; scope is v3.6's access.
    scoped = await sdk.start_chat(
        {
            "events": [{"type": "message", "text": "Hello"}],
            "scope": {"group_ids": [0]},
        }
    )
    assert scoped.access is not None
    assert scoped.access.group_ids == [0]
    assert scoped.thread is not None
    assert _texts(scoped.thread.events or ()) == ["Hello"]


async def test_update_chat_properties(sdk: CustomerSDK, sandbox: Sandbox) -> None:
    chat = await sdk.start_chat()
    properties = {"property_namespace": {"sample": "property"}}
    response = await sdk.update_chat_properties(chat.id, properties)
    assert response == EmptyResult()
    stored = sandbox.store.chats[chat.id].properties
    assert stored["property_namespace"] == {"sample": "property"}


async def test_update_chat_thread_properties(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    chat = await sdk.start_chat()
    assert chat.thread is not None
    properties = {"property_namespace": {"sample": "property"}}
    response = await sdk.update_chat_thread_properties(
        chat.id, chat.thread.id, properties
    )
    assert response == EmptyResult()
    thread = sandbox.store.chats[chat.id].thread(chat.thread.id)
    assert thread.properties["property_namespace"] == {"sample": "property"}


async def test_update_customer(sdk: CustomerSDK, sandbox: Sandbox) -> None:
    properties = {
        "name": "John Doe",
        "email": "john.doe@example.com",
        "fields": {
            "custom_property": "BasketValue=10usd",
            "any_key_is_ok": "sample custom field",
        },
    }
    await sdk.update_customer(properties)
    customer = await sdk.get_customer()
    assert (customer.name, customer.email) == ("John Doe", "john.doe@example.com")
    assert customer.session_fields == [
        {"custom_property": "BasketValue=10usd"},
        {"any_key_is_ok": "sample custom field"},
    ]


async def test_update_customer_page(sdk: CustomerSDK, sandbox: Sandbox) -> None:
    await sdk.update_customer_page(
        {"url": "https://platform.text.com/", "title": "LiveChat for Developers"}
    )
    (request,) = sandbox.requests.of("update_customer_page")
    assert request.payload.url == "https://platform.text.com/"
    assert request.payload.title == "LiveChat for Developers"


async def test_update_last_seen_timestamp(sdk: CustomerSDK) -> None:
    chat = await sdk.start_chat()
    response = await sdk.update_last_seen_timestamp(chat.id, 1500646701447)
    assert response.timestamp.timestamp() * 1000 == pytest.approx(1500646701447)


async def test_observable_interop(sdk: CustomerSDK) -> None:
    # Rx.Observable.from(visitorSDK).subscribe(([eventName, eventData]) => ...)
    seen: list[tuple[str, Any]] = []

    def subscriber(item: tuple[str, Any]) -> None:
        event_name, event_data = item
        seen.append((event_name, event_data))

    sdk.subscribe(subscriber)
    chat = await sdk.start_chat()
    await sdk.send_event(chat.id, {"type": "message", "text": "streamed"})
    await until(lambda: any(name == "new_event" for name, _ in seen))
    event_name, event_data = next(item for item in seen if item[0] == "new_event")
    assert event_name == "new_event"
    assert event_data.event.text == "streamed"


def _texts(events: Iterable[Event]) -> list[str]:
    """The texts of the messages among ``events``, in order."""
    return [e.text for e in events if isinstance(e, Message)]
