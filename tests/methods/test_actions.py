"""The v3.6 actions beyond the seed, and every push, against the sandbox over sockets.

Per method: it works (and causes its pushes), it refuses bad input before
sending anything, and a server error arrives as its exception class. Per push:
the sandbox sends it (a customer action, a scripted agent or a sandbox call)
and it reaches the event stream typed, under the name
``tests/scenarios/test_coverage.py`` lists for it (``pushed(seen, "<push>")``).
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from reactivex import Observable

import rxlivechat
from rxlivechat import (
    AuthorizationError,
    CancelRateResult,
    Chat,
    ChatAlreadyActiveError,
    ChatAnonymizedError,
    ChatInactiveError,
    Customer,
    CustomerBannedError,
    CustomerSDK,
    GreetingNotFoundError,
    GroupNotFoundError,
    GroupsOfflineError,
    GroupUnavailableError,
    InternalServerError,
    InvalidArgumentError,
    LicenseExpiredError,
    LicenseNotFoundError,
    LimitReachedError,
    Message,
    MisdirectedRequestError,
    NotFoundError,
    Postback,
    SDKClosedError,
    ServerError,
    ServerRequestTimeoutError,
    ServiceUnavailableError,
    SystemMessage,
    TooManyRequestsError,
    ValidationError,
)
from rxlivechat.protocol import methods as m
from rxlivechat.protocol.base import EmptyResult
from rxlivechat.protocol.models import (
    Properties,
    RichMessageButton,
    RichMessageElement,
)
from rxlivechat.sandbox import Sandbox, ScriptedAgent
from rxlivechat.sandbox.store import GroupRecord

from ..helpers import Recorder, connect, until
from ..scenarios.test_coverage import PUSH_EVENTS

Call = Callable[[CustomerSDK], Observable[Any]]

WHEN = datetime.datetime(2021, 5, 6, 7, 8, 9, 123456, tzinfo=datetime.UTC)


async def pushed(
    seen: Recorder, push: str, event: str | None = None, count: int = 1
) -> Any:
    """Wait for the ``count``-th event ``push`` becomes, typed; return its payload.

    The event name and payload type come from ``PUSH_EVENTS`` (first entry by
    default, or ``event``).
    """
    events = PUSH_EVENTS[push]
    name = event or next(iter(events))
    kind = events[name]

    def typed() -> list[Any]:
        return [x for x in seen.of(name) if isinstance(x, kind)]

    await until(lambda: len(typed()) >= count)
    return typed()[count - 1]


async def started(sdk: CustomerSDK, *events: rxlivechat.Event) -> tuple[Chat, str]:
    """A new chat and its thread id."""
    chat = await sdk.start_chat(list(events))
    assert chat.thread is not None
    return chat, chat.thread.id


async def joined(sandbox: Sandbox, chat_id: str, name: str = "Jane") -> ScriptedAgent:
    agent = sandbox.agent(name)
    await agent.join(chat_id)
    return agent


def add_group(sandbox: Sandbox, group_id: int, status: str = "online") -> None:
    sandbox.store.groups[group_id] = GroupRecord(
        id=group_id, name=f"Group {group_id}", status=status
    )


# Chats --------------------------------------------------------------------------------


async def test_list_chats_pages_by_cursor(sdk: CustomerSDK, sandbox: Sandbox) -> None:
    assert sdk.customer_id is not None
    ids = [sandbox.seed_chat(sdk.customer_id) for _ in range(3)]
    first = await sdk.list_chats(limit=2)
    assert isinstance(first, m.ListChatsResult)
    assert first.total_chats == 3
    assert [c.id for c in first.chats_summary] == ids[::-1][:2]  # newest first
    assert first.next_page_id is not None
    assert first.previous_page_id is None
    second = await sdk.list_chats(page_id=first.next_page_id)
    assert isinstance(second, m.ListChatsResult)
    assert [c.id for c in second.chats_summary] == [ids[0]]
    assert second.next_page_id is None
    oldest = await sdk.list_chats(sort_order="asc", limit=1)
    assert isinstance(oldest, m.ListChatsResult)
    assert [c.id for c in oldest.chats_summary] == [ids[0]]
    assert all(sdk._active_chats[i] is False for i in ids)
    assert sandbox.requests.of("list_chats")[-1].payload == m.ListChats(
        sort_order="asc", limit=1
    )


async def test_list_threads_pages_by_cursor(sdk: CustomerSDK, sandbox: Sandbox) -> None:
    assert sdk.customer_id is not None
    chat_id = sandbox.seed_chat(
        sdk.customer_id, threads=3, events_per_thread=2, thread_ids=["T1", "T2", "T3"]
    )
    page = await sdk.list_threads(chat_id, limit=2)
    assert isinstance(page, m.ListThreadsResult)
    assert page.found_threads == 3
    assert [t.id for t in page.threads] == ["T3", "T2"]
    assert all(len(t.events or ()) == 2 for t in page.threads)
    assert page.next_page_id is not None
    rest = await sdk.list_threads(chat_id, page_id=page.next_page_id)
    assert [t.id for t in rest.threads] == ["T1"]
    assert rest.next_page_id is None
    enough = await sdk.list_threads(chat_id, min_events_count=3, sort_order="asc")
    # rtm-reference, list_threads: "You'll get as many latest threads as needed to
    # meet the min_events_count condition" (ascending: oldest of them first).
    assert [t.id for t in enough.threads] == ["T2", "T3"]
    assert enough.previous_page_id is not None
    older = await sdk.list_threads(chat_id, page_id=enough.previous_page_id)
    assert [t.id for t in older.threads] == ["T1"]


async def test_get_chat_latest_or_given_thread(sdk: CustomerSDK) -> None:
    chat, first_thread = await started(sdk, Message(text="one"))
    latest = await sdk.get_chat(chat.id)
    assert isinstance(latest, Chat)
    assert latest.thread is not None
    assert latest.thread.id == first_thread
    assert [e.text for e in latest.thread.events or () if isinstance(e, Message)] == [
        "one"
    ]
    assert any(user.id == sdk.customer_id for user in latest.users)
    await sdk.deactivate_chat(chat.id)
    resumed = await sdk.resume_chat(chat.id)
    assert resumed.thread is not None
    older = await sdk.get_chat(chat.id, thread_id=first_thread)
    assert older.thread is not None
    assert (older.thread.id, older.thread.active) == (first_thread, False)
    assert older.thread.next_thread_id == resumed.thread.id


async def test_resume_chat_emits_the_chat_with_its_new_thread(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    seen = Recorder(sdk)
    chat, first_thread = await started(sdk)
    await sdk.deactivate_chat(chat.id)
    resumed = await sdk.resume_chat(
        chat.id,
        [Message(text="I'm back")],
        properties={"routing": {"email_follow_up": True}},
        thread_properties={"routing": {"transcript_email": "a@example.com"}},
    )
    assert isinstance(resumed, Chat)
    assert resumed.id == chat.id
    assert resumed.thread is not None
    assert resumed.thread.id != first_thread
    assert resumed.thread.active
    assert [e.text for e in resumed.thread.events or () if isinstance(e, Message)] == [
        "I'm back"
    ]
    assert (resumed.properties or {})["routing"] == {"email_follow_up": True}
    assert (resumed.thread.properties or {})["routing"] == {
        "transcript_email": "a@example.com"
    }
    assert sandbox.count("get_chat") == 0  # taken from our incoming_chat push
    incoming = await pushed(seen, "incoming_chat", count=2)
    assert incoming.chat.thread.id == resumed.thread.id
    assert sdk._active_chats[chat.id] is True
    with pytest.raises(ChatAlreadyActiveError):  # a ValidationError too
        await sdk.resume_chat(chat.id)


async def test_resume_chat_inactive_thread(sdk: CustomerSDK) -> None:
    chat, _ = await started(sdk)
    await sdk.deactivate_chat(chat.id)
    resumed = await sdk.resume_chat(chat.id, active=False, continuous=True)
    assert resumed.thread is not None
    assert resumed.thread.active is False


async def test_deactivate_chat(sdk: CustomerSDK) -> None:
    seen = Recorder(sdk)
    chat, thread_id = await started(sdk)
    assert await sdk.deactivate_chat(chat.id) == EmptyResult()
    closed = await pushed(seen, "chat_deactivated")
    assert (closed.chat, closed.thread, closed.user) == (
        chat.id,
        thread_id,
        sdk.customer_id,
    )
    notes = [e.event for e in seen.of("new_event")]
    assert any(
        isinstance(e, SystemMessage)
        and e.system_message_type == "manual_archived_customer"
        for e in notes
    )
    with pytest.raises(ChatInactiveError):
        await sdk.deactivate_chat(chat.id)


async def test_delete_event(sdk: CustomerSDK) -> None:
    seen = Recorder(sdk)
    chat, thread_id = await started(sdk)
    sent = await sdk.send_event(chat.id, Message(text="oops"))
    assert sent.id is not None
    assert await sdk.delete_event(chat.id, thread_id, sent.id) == EmptyResult()
    deleted = await pushed(seen, "event_deleted")
    assert (deleted.chat_id, deleted.thread_id, deleted.event_id) == (
        chat.id,
        thread_id,
        sent.id,
    )
    after = await sdk.get_chat(chat.id)
    assert after.thread is not None
    assert sent.id not in [e.id for e in after.thread.events or ()]
    with pytest.raises(NotFoundError):
        await sdk.delete_event(chat.id, thread_id, sent.id)


async def test_an_agents_event_cannot_be_deleted(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    chat, thread_id = await started(sdk)
    agent = await joined(sandbox, chat.id)
    theirs = await agent.send_message(chat.id, "mine")
    assert theirs.id is not None
    with pytest.raises(AuthorizationError):
        await sdk.delete_event(chat.id, thread_id, theirs.id)


# Events -------------------------------------------------------------------------------


async def test_mark_events_as_seen(sdk: CustomerSDK) -> None:
    seen = Recorder(sdk)
    chat, _ = await started(sdk)
    assert await sdk.mark_events_as_seen(chat.id, WHEN) == EmptyResult()
    update = await pushed(seen, "events_marked_as_seen")
    assert (update.chat, update.user, update.timestamp) == (
        chat.id,
        sdk.customer_id,
        WHEN,
    )
    got = await sdk.get_chat(chat.id)
    me = next(u for u in got.users if u.id == sdk.customer_id)
    assert me.events_seen_up_to == WHEN


async def test_send_rich_message_postback(sdk: CustomerSDK, sandbox: Sandbox) -> None:
    seen = Recorder(sdk)
    chat, thread_id = await started(sdk)
    agent = await joined(sandbox, chat.id)
    button = RichMessageButton(text="Yes", type="message", postback_id="yes")
    rich = await agent.send_rich_message(
        chat.id, [RichMessageElement(title="Ready?", buttons=[button])]
    )
    assert rich.id is not None
    postback = Postback(
        id="yes", toggled=True, button_type="message", button_value="Yes"
    )
    result = await sdk.send_rich_message_postback(chat.id, thread_id, rich.id, postback)
    assert result == EmptyResult()
    got = await pushed(seen, "incoming_rich_message_postback")
    assert (got.user_id, got.chat_id, got.thread_id, got.event_id) == (
        sdk.customer_id,
        chat.id,
        thread_id,
        rich.id,
    )
    assert got.postback == postback
    await sdk.send_rich_message_postback(
        chat.id, thread_id, rich.id, {"id": "yes", "toggled": False}
    )
    again = await pushed(seen, "incoming_rich_message_postback", count=2)
    assert again.postback == Postback(id="yes", toggled=False)
    request = sandbox.requests.of("send_rich_message_postback")[0].payload
    assert request.postback == postback


@pytest.mark.sandbox(agents=[])  # Jane is the only agent online
async def test_request_welcome_message(sdk: CustomerSDK, sandbox: Sandbox) -> None:
    seen = Recorder(sdk)
    jane = sandbox.agent("Jane")
    result = await sdk.request_welcome_message()
    assert isinstance(result, m.RequestWelcomeMessageResult)
    assert result.predicted_agent is not None
    assert result.predicted_agent.id == jane.id
    assert result.queue is False
    welcome = await pushed(seen, "incoming_welcome_message")
    assert welcome.id == result.id
    assert isinstance(welcome.event, Message)
    assert welcome.event.author_id == jane.id
    again = await sdk.request_welcome_message(id=result.id, group_id=0)
    assert again.id != result.id
    assert sandbox.requests.of("request_welcome_message")[-1].payload == (
        m.RequestWelcomeMessage(id=result.id, group_id=0)
    )


# Properties ---------------------------------------------------------------------------


async def test_chat_properties_update_and_delete(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    seen = Recorder(sdk)
    chat, _ = await started(sdk)
    props = {"routing": {"email_follow_up": True, "ignore_agents_routing": False}}
    await sdk.update_chat_properties(chat.id, props)
    updated = await pushed(seen, "chat_properties_updated")
    assert (updated.chat, updated.properties) == (chat.id, props)
    result = await sdk.delete_chat_properties(chat.id, {"routing": ["email_follow_up"]})
    assert result == EmptyResult()
    deleted = await pushed(seen, "chat_properties_deleted")
    assert (deleted.chat_id, deleted.properties) == (
        chat.id,
        {"routing": ["email_follow_up"]},
    )
    got = await sdk.get_chat(chat.id)
    assert got.properties == {"routing": {"ignore_agents_routing": False}}
    with pytest.raises(ValidationError):  # read-only for customers
        await sdk.delete_chat_properties(chat.id, {"routing": ["continuous"]})


async def test_thread_properties_update_and_delete(sdk: CustomerSDK) -> None:
    seen = Recorder(sdk)
    chat, thread_id = await started(sdk)
    props = {"routing": {"transcript_email": "a@example.com"}}
    await sdk.update_chat_thread_properties(chat.id, thread_id, props)
    updated = await pushed(seen, "thread_properties_updated")
    assert (updated.chat, updated.thread, updated.properties) == (
        chat.id,
        thread_id,
        props,
    )
    names = {"routing": ["transcript_email"]}
    assert await sdk.delete_thread_properties(chat.id, thread_id, names) == (
        EmptyResult()
    )
    deleted = await pushed(seen, "thread_properties_deleted")
    assert (deleted.chat_id, deleted.thread_id, deleted.properties) == (
        chat.id,
        thread_id,
        names,
    )
    got = await sdk.get_chat(chat.id)
    assert got.thread is not None
    assert not got.thread.properties


async def test_event_properties_update_and_delete(sdk: CustomerSDK) -> None:
    seen = Recorder(sdk)
    chat, thread_id = await started(sdk)
    sent = await sdk.send_event(chat.id, Message(text="**bold**"))
    assert sent.id is not None
    props: Properties = {
        "chats": {"formatting": "commonmark"},
        "status": {"delivered": True},
    }
    result = await sdk.update_event_properties(chat.id, thread_id, sent.id, props)
    assert result == EmptyResult()
    updated = await pushed(seen, "event_properties_updated")
    assert (updated.chat_id, updated.thread_id, updated.event_id) == (
        chat.id,
        thread_id,
        sent.id,
    )
    assert updated.properties == props
    names = {"status": ["delivered"]}
    await sdk.delete_event_properties(chat.id, thread_id, sent.id, names)
    deleted = await pushed(seen, "event_properties_deleted")
    assert (deleted.event_id, deleted.properties) == (sent.id, names)
    got = await sdk.get_chat(chat.id)
    assert got.thread is not None
    (event,) = [e for e in got.thread.events or () if e.id == sent.id]
    assert event.properties == {"chats": {"formatting": "commonmark"}}


async def test_cancel_rate_removes_the_latest_threads_rating(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    seen = Recorder(sdk)
    chat, thread_id = await started(sdk)
    await sdk.rate_chat(chat.id, 1, comment="great")
    result = await sdk.cancel_rate(chat.id)
    assert result == CancelRateResult(id=thread_id)
    deleted = await pushed(seen, "thread_properties_deleted")
    assert deleted.properties == {"rating": ["score"]}
    got = await sdk.get_chat(chat.id)
    assert got.thread is not None
    assert got.thread.properties == {"rating": {"comment": "great"}}
    await sdk.cancel_rate(chat.id, ["comment"])
    got = await sdk.get_chat(chat.id)
    assert got.thread is not None
    assert not got.thread.properties
    canceled = [
        e.event.system_message_type
        for e in seen.of("new_event")
        if isinstance(e.event, SystemMessage)
    ]
    assert "rating.chat_rating_canceled" in canceled


async def test_cancel_rate_needs_a_thread(sdk: CustomerSDK, sandbox: Sandbox) -> None:
    assert sdk.customer_id is not None
    empty = sandbox.store.new_chat(sdk.customer_id)
    with pytest.raises(InvalidArgumentError, match="no thread"):
        await sdk.cancel_rate(empty.id)
    assert sandbox.count("delete_thread_properties") == 0


async def test_list_license_and_group_properties_over_http(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    every = await sdk.list_license_properties()
    assert every == sandbox.store.license_properties
    routing = await sdk.list_license_properties(namespace="routing")
    assert set(routing) == {"routing"}
    sandbox.store.groups[0].properties = {"smart_actions": {"greeting": {"on": 1}}}
    group = await sdk.list_group_properties(0)
    assert group == {"smart_actions": {"greeting": {"on": 1}}}
    assert await sdk.list_group_properties(0, namespace="other") == {}
    assert sandbox.count("list_license_properties", transport="web") == 2
    assert sandbox.count("list_group_properties", transport="web") == 2
    with pytest.raises(GroupNotFoundError):
        await sdk.list_group_properties(42)


# Customer -----------------------------------------------------------------------------


async def test_get_customer(sdk: CustomerSDK) -> None:
    await sdk.update_customer(name="Ann", email="ann@example.com")
    customer = await sdk.get_customer()
    assert isinstance(customer, Customer)
    assert (customer.id, customer.name, customer.email) == (
        sdk.customer_id,
        "Ann",
        "ann@example.com",
    )


async def test_customer_updated_reaches_the_stream(sdk: CustomerSDK) -> None:
    seen = Recorder(sdk)
    await sdk.update_customer(name="Bob")
    update = await pushed(seen, "customer_updated")
    assert (update.id, update.name) == (sdk.customer_id, "Bob")


async def test_set_customer_session_fields_keeps_their_order(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    fields = [{"plan": "pro"}, {"account": "7"}, {"a": "z"}]
    assert await sdk.set_customer_session_fields(fields) == EmptyResult()
    customer = await sdk.get_customer()
    assert customer.session_fields == fields
    assert await sdk.set_customer_session_fields([]) == EmptyResult()
    assert not (await sdk.get_customer()).session_fields


async def test_request_email_verification_over_http(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    uri = "https://example.com/verified"
    assert await sdk.request_email_verification(uri) == EmptyResult()
    assert sandbox.store.email_verifications == [(sdk.customer_id, uri)]
    assert sandbox.count("request_email_verification", transport="web") == 1


async def test_activate_and_deactivate_customer_page(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    assert sdk.customer_id is not None
    customers = sandbox.store.customers
    assert await sdk.deactivate_customer_page() == EmptyResult()
    assert customers[sdk.customer_id].page_active is False
    assert await sdk.activate_customer_page() == EmptyResult()
    assert customers[sdk.customer_id].page_active is True
    assert sandbox.count("activate_customer_page", transport="rtm") == 1
    assert sandbox.count("deactivate_customer_page", transport="rtm") == 1


# Greetings ----------------------------------------------------------------------------


async def test_greetings_accept_cancel_and_click(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    seen = Recorder(sdk)
    assert sdk.customer_id is not None
    jane = sandbox.agent("Jane")
    greeting_id, unique_id = await jane.send_greeting(sdk.customer_id, "Need help?")
    shown = await pushed(seen, "incoming_greeting")
    assert (shown.id, shown.unique_id) == (greeting_id, unique_id)
    assert isinstance(shown.event, Message)
    assert shown.event.text == "Need help?"
    assert shown.agent.id == jane.id
    clicked = await sdk.send_greeting_button_clicked(unique_id, "button-1")
    assert clicked == EmptyResult()
    assert await sdk.accept_greeting(shown.id, shown.unique_id) == EmptyResult()
    accepted = await pushed(seen, "greeting_accepted")
    assert accepted.unique_id == unique_id
    # Accepting marks it seen; it stays shown, so accepting again is fine.
    assert await sdk.accept_greeting(greeting_id, unique_id) == EmptyResult()

    _, second = await jane.send_greeting(sdk.customer_id, "Still there?")
    await pushed(seen, "incoming_greeting", count=2)
    assert (await pushed(seen, "greeting_canceled")).unique_id == unique_id
    assert await sdk.cancel_greeting(second) == EmptyResult()
    canceled = await pushed(seen, "greeting_canceled", count=2)
    assert canceled.unique_id == second
    with pytest.raises(GreetingNotFoundError):
        await sdk.cancel_greeting(second)


async def test_a_new_greeting_cancels_the_shown_one(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    seen = Recorder(sdk)
    assert sdk.customer_id is not None
    jane = sandbox.agent("Jane")
    _, first = await jane.send_greeting(sdk.customer_id, "Hi")
    await jane.send_greeting(sdk.customer_id, "Hi again")
    replaced = await pushed(seen, "greeting_canceled")
    assert replaced.unique_id == first


# Status and configuration -------------------------------------------------------------


async def test_list_group_statuses(sdk: CustomerSDK, sandbox: Sandbox) -> None:
    add_group(sandbox, 1, "offline")
    add_group(sandbox, 2, "online_for_queue")
    assert await sdk.list_group_statuses() == {
        0: "online",
        1: "offline",
        2: "online_for_queue",
    }
    assert await sdk.list_group_statuses(all=True) == await sdk.list_group_statuses()
    assert await sdk.list_group_statuses([1, 99]) == {1: "offline"}
    sent = [r.payload for r in sandbox.requests.of("list_group_statuses")]
    assert sent[0] == m.ListGroupStatuses(all=True)
    assert sent[-1] == m.ListGroupStatuses(group_ids=[1, 99])


async def test_get_form(sdk: CustomerSDK) -> None:
    prechat = await sdk.get_form(0, "prechat")
    assert isinstance(prechat, m.GetFormResult)
    assert prechat.enabled
    assert prechat.form is not None
    assert {f.type for f in prechat.form.fields} >= {"name", "email"}
    postchat = await sdk.get_form(0, "postchat")
    assert (postchat.enabled, postchat.form) == (False, None)
    with pytest.raises(GroupNotFoundError):
        await sdk.get_form(42, "ticket")


async def test_get_url_info(sdk: CustomerSDK) -> None:
    info = await sdk.get_url_info("https://example.com/pricing")
    assert isinstance(info, m.GetUrlInfoResult)
    assert info.url == "https://example.com/pricing"
    assert info.title == "example.com"
    assert info.image_width
    assert info.image_height


async def test_widget_configuration_over_http(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    dynamic = await sdk.get_dynamic_configuration(
        group_id=0, url="https://example.com", channel_type="code", test=False
    )
    assert isinstance(dynamic, m.GetDynamicConfigurationResult)
    assert dynamic.organization_id == sandbox.organization_id
    livechat = dynamic.livechat
    assert livechat is not None
    assert livechat.config_version is not None
    assert livechat.localization_version is not None
    assert livechat.language is not None
    config = await sdk.get_configuration(0, livechat.config_version)
    assert isinstance(config, m.GetConfigurationResult)
    assert config.properties is not None
    assert config.properties["license"] == sandbox.store.license_properties
    phrases = await sdk.get_localization(
        0, livechat.language, livechat.localization_version
    )
    assert phrases["Welcome_title"] == "Chat with us"
    for action in (
        "get_dynamic_configuration",
        "get_configuration",
        "get_localization",
    ):
        assert sandbox.count(action, transport="web") == 1
    query = sandbox.requests.of("get_dynamic_configuration")[0].payload
    assert query == m.GetDynamicConfiguration(
        group_id=0, url="https://example.com", channel_type="code", test=False
    )


async def test_check_goals_over_http(sdk: CustomerSDK, sandbox: Sandbox) -> None:
    result = await sdk.check_goals([{"plan": "pro"}], 0, "https://example.com/buy")
    assert result == EmptyResult()
    (request,) = sandbox.requests.of("check_goals")
    assert request.transport == "web"
    assert request.payload == m.CheckGoals(
        session_fields=[{"plan": "pro"}], group_id=0, page_url="https://example.com/buy"
    )
    with pytest.raises(GroupNotFoundError):
        await sdk.check_goals([], 42, "https://example.com/buy")


# Every method: bad input is refused before sending ------------------------------------

BAD_INPUT: dict[str, tuple[tuple[str, ...], list[Call]]] = {
    "list_chats": (
        ("list_chats",),
        [
            lambda s: s.list_chats(limit=0),
            lambda s: s.list_chats(limit=26),
            lambda s: s.list_chats(limit="5"),  # type: ignore[arg-type]
            lambda s: s.list_chats(sort_order="newest"),  # type: ignore[arg-type]
            lambda s: s.list_chats(page_id=""),
            lambda s: s.list_chats(page_id="p", limit=5),
        ],
    ),
    "list_threads": (
        ("list_threads",),
        [
            lambda s: s.list_threads(""),
            lambda s: s.list_threads("C", limit=101),
            lambda s: s.list_threads("C", min_events_count=0),
            lambda s: s.list_threads("C", limit=2, min_events_count=2),
            lambda s: s.list_threads("C", page_id="p", sort_order="asc"),
        ],
    ),
    "get_chat": (
        ("get_chat",),
        [
            lambda s: s.get_chat(123),  # type: ignore[arg-type]
            lambda s: s.get_chat("C", ""),
        ],
    ),
    "resume_chat": (
        ("resume_chat",),
        [
            lambda s: s.resume_chat(""),
            lambda s: s.resume_chat("C", Message(text="x")),  # type: ignore[arg-type]
            lambda s: s.resume_chat("C", [{"type": "message"}]),
            lambda s: s.resume_chat("C", [Message(text="x" * (16 * 1024 + 1))]),
            lambda s: s.resume_chat("C", properties="p"),  # type: ignore[arg-type]
            lambda s: s.resume_chat("C", thread_properties={"ns": 1}),  # type: ignore[dict-item]
            lambda s: s.resume_chat("C", continuous="yes"),  # type: ignore[arg-type]
            lambda s: s.resume_chat("C", access="all"),  # type: ignore[arg-type]
        ],
    ),
    "deactivate_chat": (
        ("deactivate_chat",),
        [lambda s: s.deactivate_chat(""), lambda s: s.deactivate_chat(None)],  # type: ignore[arg-type]
    ),
    "delete_event": (
        ("delete_event",),
        [
            lambda s: s.delete_event("C", "T", ""),
            lambda s: s.delete_event("C", 1, "E"),  # type: ignore[arg-type]
        ],
    ),
    "mark_events_as_seen": (
        ("mark_events_as_seen",),
        [
            lambda s: s.mark_events_as_seen("C", datetime.datetime(2030, 1, 1)),
            lambda s: s.mark_events_as_seen("C", 1_700_000_000_000),  # type: ignore[arg-type]
            lambda s: s.mark_events_as_seen("", WHEN),
        ],
    ),
    "send_rich_message_postback": (
        ("send_rich_message_postback",),
        [
            lambda s: s.send_rich_message_postback("C", "T", "E", "yes"),  # type: ignore[arg-type]
            lambda s: s.send_rich_message_postback(
                "C", "T", "E", {"id": "", "toggled": True}
            ),
            lambda s: s.send_rich_message_postback("C", "T", "E", {"id": "x"}),
            lambda s: s.send_rich_message_postback(
                "", "T", "E", Postback(id="x", toggled=True)
            ),
        ],
    ),
    "request_welcome_message": (
        ("request_welcome_message",),
        [
            lambda s: s.request_welcome_message(id=""),
            lambda s: s.request_welcome_message(group_id=-1),
        ],
    ),
    "delete_chat_properties": (
        ("delete_chat_properties",),
        [
            lambda s: s.delete_chat_properties("C", {"rating": "score"}),  # type: ignore[dict-item]
            lambda s: s.delete_chat_properties("C", {}),
            lambda s: s.delete_chat_properties("C", {"rating": []}),
            lambda s: s.delete_chat_properties("", {"rating": ["score"]}),
        ],
    ),
    "delete_thread_properties": (
        ("delete_thread_properties",),
        [
            lambda s: s.delete_thread_properties("C", "T", {"rating": [""]}),
            lambda s: s.delete_thread_properties("C", "", {"rating": ["score"]}),
        ],
    ),
    "update_event_properties": (
        ("update_event_properties",),
        [
            lambda s: s.update_event_properties("C", "T", "E", {"rating": 1}),  # type: ignore[dict-item]
            lambda s: s.update_event_properties("C", "T", "E", []),  # type: ignore[arg-type]
            lambda s: s.update_event_properties("C", "T", "E", {"": {"a": 1}}),
        ],
    ),
    "delete_event_properties": (
        ("delete_event_properties",),
        [
            lambda s: s.delete_event_properties("C", "T", "", {"a": ["b"]}),
            lambda s: s.delete_event_properties("C", "T", "E", {"a": [1]}),  # type: ignore[list-item]
        ],
    ),
    "cancel_rate": (
        ("get_chat", "delete_thread_properties"),
        [
            lambda s: s.cancel_rate(""),
            lambda s: s.cancel_rate("C", "score"),
            lambda s: s.cancel_rate("C", []),
            lambda s: s.cancel_rate("C", ["score", ""]),
        ],
    ),
    "list_license_properties": (
        ("list_license_properties",),
        [
            lambda s: s.list_license_properties(namespace=""),
            lambda s: s.list_license_properties(name=5),  # type: ignore[arg-type]
        ],
    ),
    "list_group_properties": (
        ("list_group_properties",),
        [
            lambda s: s.list_group_properties("0"),  # type: ignore[arg-type]
            lambda s: s.list_group_properties(-1),
            lambda s: s.list_group_properties(0, namespace=""),
        ],
    ),
    "set_customer_session_fields": (
        ("set_customer_session_fields",),
        [
            lambda s: s.set_customer_session_fields({"a": "b"}),  # type: ignore[dict-item]
            lambda s: s.set_customer_session_fields("a=b"),  # type: ignore[arg-type]
            lambda s: s.set_customer_session_fields([{"a": "b", "c": "d"}]),
            lambda s: s.set_customer_session_fields([{"a": 1}]),  # type: ignore[dict-item]
            lambda s: s.set_customer_session_fields([{"": "v"}]),
            lambda s: s.set_customer_session_fields(
                [{str(i): "v"} for i in range(101)]
            ),
        ],
    ),
    "request_email_verification": (
        ("request_email_verification",),
        [
            lambda s: s.request_email_verification(""),
            lambda s: s.request_email_verification("ftp://example.com/x"),
            lambda s: s.request_email_verification("example.com/x"),
        ],
    ),
    "accept_greeting": (
        ("accept_greeting",),
        [
            lambda s: s.accept_greeting("7", "u"),  # type: ignore[arg-type]
            lambda s: s.accept_greeting(True, "u"),
            lambda s: s.accept_greeting(7, ""),
        ],
    ),
    "cancel_greeting": (
        ("cancel_greeting",),
        [lambda s: s.cancel_greeting(""), lambda s: s.cancel_greeting(7)],  # type: ignore[arg-type]
    ),
    "send_greeting_button_clicked": (
        ("send_greeting_button_clicked",),
        [
            lambda s: s.send_greeting_button_clicked("u", ""),
            lambda s: s.send_greeting_button_clicked("", "b"),
        ],
    ),
    "list_group_statuses": (
        ("list_group_statuses",),
        [
            lambda s: s.list_group_statuses([1], all=True),
            lambda s: s.list_group_statuses(all=False),
            lambda s: s.list_group_statuses("1"),  # type: ignore[arg-type]
            lambda s: s.list_group_statuses([True]),
            lambda s: s.list_group_statuses([-1]),
        ],
    ),
    "get_form": (
        ("get_form",),
        [
            lambda s: s.get_form(0, "survey"),  # type: ignore[arg-type]
            lambda s: s.get_form(-1, "prechat"),
            lambda s: s.get_form("0", "prechat"),  # type: ignore[arg-type]
        ],
    ),
    "get_url_info": (
        ("get_url_info",),
        [lambda s: s.get_url_info("example.com"), lambda s: s.get_url_info("")],
    ),
    "get_dynamic_configuration": (
        ("get_dynamic_configuration",),
        [
            lambda s: s.get_dynamic_configuration(group_id=-1),
            lambda s: s.get_dynamic_configuration(url=""),
            lambda s: s.get_dynamic_configuration(test="yes"),  # type: ignore[arg-type]
        ],
    ),
    "get_configuration": (
        ("get_configuration",),
        [
            lambda s: s.get_configuration(0, ""),
            lambda s: s.get_configuration(None, "1"),  # type: ignore[arg-type]
        ],
    ),
    "get_localization": (
        ("get_localization",),
        [
            lambda s: s.get_localization(0, "", "1"),
            lambda s: s.get_localization(0, "en", ""),
            lambda s: s.get_localization(-1, "en", "1"),
        ],
    ),
    "check_goals": (
        ("check_goals",),
        [
            lambda s: s.check_goals({"a": "b"}, 0, "https://example.com"),  # type: ignore[dict-item]
            lambda s: s.check_goals([{"a": "b"}], 0, "not a url"),
            lambda s: s.check_goals([{"a": "b"}], "0", "https://example.com"),  # type: ignore[arg-type]
        ],
    ),
}


@pytest.mark.parametrize("method", sorted(BAD_INPUT))
async def test_bad_input_is_refused_before_sending(
    method: str, sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    actions, calls = BAD_INPUT[method]
    before = {action: sandbox.count(action) for action in actions}
    for number, bad in enumerate(calls):
        try:
            bad(sdk)
        except InvalidArgumentError:
            continue
        pytest.fail(f"{method}: bad call #{number} was not refused")
    await asyncio.sleep(0.01)
    assert {action: sandbox.count(action) for action in actions} == before


# Every method: a server error arrives as its exception class --------------------------

SERVER_ERRORS: list[tuple[str, Call, str, type[ServerError]]] = [
    ("list_chats", lambda s: s.list_chats(), "internal", InternalServerError),
    ("list_threads", lambda s: s.list_threads("C"), "not_found", NotFoundError),
    ("get_chat", lambda s: s.get_chat("C"), "chat_anonymized", ChatAnonymizedError),
    ("resume_chat", lambda s: s.resume_chat("C"), "groups_offline", GroupsOfflineError),
    (
        "deactivate_chat",
        lambda s: s.deactivate_chat("C"),
        "chat_inactive",
        ChatInactiveError,
    ),
    (
        "delete_event",
        lambda s: s.delete_event("C", "T", "E"),
        "authorization",
        AuthorizationError,
    ),
    (
        "mark_events_as_seen",
        lambda s: s.mark_events_as_seen("C", WHEN),
        "not_found",
        NotFoundError,
    ),
    (
        "send_rich_message_postback",
        lambda s: s.send_rich_message_postback(
            "C", "T", "E", Postback(id="p", toggled=True)
        ),
        "chat_inactive",
        ChatInactiveError,
    ),
    (
        "request_welcome_message",
        lambda s: s.request_welcome_message(),
        "group_unavailable",
        GroupUnavailableError,
    ),
    (
        "delete_chat_properties",
        lambda s: s.delete_chat_properties("C", {"a": ["b"]}),
        "validation",
        ValidationError,
    ),
    (
        "delete_thread_properties",
        lambda s: s.delete_thread_properties("C", "T", {"a": ["b"]}),
        "not_found",
        NotFoundError,
    ),
    (
        "update_event_properties",
        lambda s: s.update_event_properties("C", "T", "E", {"a": {"b": 1}}),
        "limit_reached",
        LimitReachedError,
    ),
    (
        "delete_event_properties",
        lambda s: s.delete_event_properties("C", "T", "E", {"a": ["b"]}),
        "too_many_requests",
        TooManyRequestsError,
    ),
    ("get_chat", lambda s: s.cancel_rate("C"), "internal", InternalServerError),
    (
        "list_license_properties",
        lambda s: s.list_license_properties(),
        "license_not_found",
        LicenseNotFoundError,
    ),
    (
        "list_group_properties",
        lambda s: s.list_group_properties(0),
        "group_not_found",
        GroupNotFoundError,
    ),
    (
        "get_customer",
        lambda s: s.get_customer(),
        "customer_banned",
        CustomerBannedError,
    ),
    (
        "set_customer_session_fields",
        lambda s: s.set_customer_session_fields([{"a": "b"}]),
        "limit_reached",
        LimitReachedError,
    ),
    (
        "request_email_verification",
        lambda s: s.request_email_verification("https://example.com/cb"),
        "service_unavailable",
        ServiceUnavailableError,
    ),
    (
        "activate_customer_page",
        lambda s: s.activate_customer_page(),
        "internal",
        InternalServerError,
    ),
    (
        "deactivate_customer_page",
        lambda s: s.deactivate_customer_page(),
        "internal",
        InternalServerError,
    ),
    (
        "accept_greeting",
        lambda s: s.accept_greeting(7, "u"),
        "greeting_not_found",
        GreetingNotFoundError,
    ),
    (
        "cancel_greeting",
        lambda s: s.cancel_greeting("u"),
        "greeting_not_found",
        GreetingNotFoundError,
    ),
    (
        "send_greeting_button_clicked",
        lambda s: s.send_greeting_button_clicked("u", "b"),
        "greeting_not_found",
        GreetingNotFoundError,
    ),
    (
        "list_group_statuses",
        lambda s: s.list_group_statuses(),
        "group_not_found",
        GroupNotFoundError,
    ),
    ("get_form", lambda s: s.get_form(0, "prechat"), "validation", ValidationError),
    (
        "get_url_info",
        lambda s: s.get_url_info("https://example.com"),
        "too_many_requests",
        TooManyRequestsError,
    ),
    (
        "get_dynamic_configuration",
        lambda s: s.get_dynamic_configuration(),
        "misdirected_request",
        MisdirectedRequestError,
    ),
    (
        "get_configuration",
        lambda s: s.get_configuration(0, "1"),
        "internal",
        InternalServerError,
    ),
    (
        "get_localization",
        lambda s: s.get_localization(0, "en", "1"),
        "request_timeout",
        ServerRequestTimeoutError,
    ),
    (
        "check_goals",
        lambda s: s.check_goals([], 0, "https://example.com"),
        "license_expired",
        LicenseExpiredError,
    ),
]


@pytest.mark.parametrize(
    ("action", "call", "error_type", "error_class"),
    SERVER_ERRORS,
    ids=[f"{action}-{error}" for action, _, error, _ in SERVER_ERRORS],
)
async def test_server_errors_arrive_as_their_class(
    action: str,
    call: Call,
    error_type: str,
    error_class: type[ServerError],
    sdk: CustomerSDK,
    sandbox: Sandbox,
) -> None:
    sandbox.fail_next(action, error_type)
    with pytest.raises(error_class) as info:
        await call(sdk)
    assert info.value.error_type == error_type
    assert info.value.action == action
    assert sandbox.count(action) >= 1


# Every method: cold, and refused after destroy ----------------------------------------

EVERY_CALL: list[tuple[str, Call]] = [
    ("list_chats", lambda s: s.list_chats()),
    ("list_threads", lambda s: s.list_threads("C")),
    ("get_chat", lambda s: s.get_chat("C")),
    ("resume_chat", lambda s: s.resume_chat("C")),
    ("deactivate_chat", lambda s: s.deactivate_chat("C")),
    ("delete_event", lambda s: s.delete_event("C", "T", "E")),
    ("mark_events_as_seen", lambda s: s.mark_events_as_seen("C", WHEN)),
    (
        "send_rich_message_postback",
        lambda s: s.send_rich_message_postback(
            "C", "T", "E", Postback(id="p", toggled=True)
        ),
    ),
    ("request_welcome_message", lambda s: s.request_welcome_message()),
    ("delete_chat_properties", lambda s: s.delete_chat_properties("C", {"a": ["b"]})),
    (
        "delete_thread_properties",
        lambda s: s.delete_thread_properties("C", "T", {"a": ["b"]}),
    ),
    (
        "update_event_properties",
        lambda s: s.update_event_properties("C", "T", "E", {"a": {"b": 1}}),
    ),
    (
        "delete_event_properties",
        lambda s: s.delete_event_properties("C", "T", "E", {"a": ["b"]}),
    ),
    ("get_chat", lambda s: s.cancel_rate("C")),
    ("list_license_properties", lambda s: s.list_license_properties()),
    ("list_group_properties", lambda s: s.list_group_properties(0)),
    ("get_customer", lambda s: s.get_customer()),
    ("set_customer_session_fields", lambda s: s.set_customer_session_fields([])),
    (
        "request_email_verification",
        lambda s: s.request_email_verification("https://example.com/cb"),
    ),
    ("activate_customer_page", lambda s: s.activate_customer_page()),
    ("deactivate_customer_page", lambda s: s.deactivate_customer_page()),
    ("accept_greeting", lambda s: s.accept_greeting(7, "u")),
    ("cancel_greeting", lambda s: s.cancel_greeting("u")),
    (
        "send_greeting_button_clicked",
        lambda s: s.send_greeting_button_clicked("u", "b"),
    ),
    ("list_group_statuses", lambda s: s.list_group_statuses()),
    ("get_form", lambda s: s.get_form(0, "prechat")),
    ("get_url_info", lambda s: s.get_url_info("https://example.com")),
    ("get_dynamic_configuration", lambda s: s.get_dynamic_configuration()),
    ("get_configuration", lambda s: s.get_configuration(0, "1")),
    ("get_localization", lambda s: s.get_localization(0, "en", "1")),
    ("check_goals", lambda s: s.check_goals([], 0, "https://example.com")),
]


async def test_every_method_is_cold(sdk: CustomerSDK, sandbox: Sandbox) -> None:
    before = len(sandbox.requests)
    for _, make in EVERY_CALL:
        (method,) = (n for n in make.__code__.co_names if hasattr(CustomerSDK, n))
        # Dropped unsent, it warns like a never-awaited coroutine, naming the method.
        with pytest.warns(RuntimeWarning) as warned:
            make(sdk)  # dropped at once: nothing else refers to it
        assert [str(w.message).split(" was ")[0] for w in warned] == [
            f"CustomerSDK.{method}(...)"
        ]
        assert "never awaited or subscribed" in str(warned[0].message)
    await asyncio.sleep(0.05)
    assert len(sandbox.requests) == before  # nothing sent before subscribing


async def test_every_method_refuses_after_destroy(sandbox: Sandbox) -> None:
    sdk = connect(sandbox)
    await sdk.wait_connected(timeout=10)
    await sdk.destroy()
    before = len(sandbox.requests)
    for _, make in EVERY_CALL:
        with pytest.raises(SDKClosedError):
            await make(sdk)
    assert len(sandbox.requests) == before, [r.action for r in sandbox.requests]


# Pushes that no customer action causes ------------------------------------------------


async def test_agent_activity_pushes(sdk: CustomerSDK, sandbox: Sandbox) -> None:
    seen = Recorder(sdk)
    chat, thread_id = await started(sdk)
    await pushed(seen, "incoming_chat")
    jane = await joined(sandbox, chat.id)
    join = await pushed(seen, "user_added_to_chat")
    assert (join.chat, join.user) == (chat.id, jane.id)
    await jane.typing(chat.id, True)
    await jane.typing(chat.id, False)
    typing = await pushed(seen, "incoming_typing_indicator")
    stopped = await pushed(seen, "incoming_typing_indicator", "user_stopped_typing")
    assert typing.user == stopped.user == jane.id
    await jane.thinking(chat.id, "Looking it up", "Checking your order")
    thinking = await pushed(seen, "incoming_thinking_indicator")
    assert (thinking.chat_id, thinking.thread_id, thinking.author_id) == (
        chat.id,
        thread_id,
        jane.id,
    )
    assert (thinking.title, thinking.description) == (
        "Looking it up",
        "Checking your order",
    )
    await jane.preview(chat.id, "Your order is", custom_id="draft-1")
    preview = await pushed(seen, "incoming_event_preview")
    assert (preview.chat_id, preview.thread_id) == (chat.id, thread_id)
    assert isinstance(preview.event, Message)
    assert (preview.event.text, preview.event.id) == ("Your order is", None)
    assert preview.event.custom_id == "draft-1"
    message = await jane.send_message(chat.id, "Your order is on its way")
    new = await pushed(seen, "incoming_event")
    assert (new.chat, new.event.id, new.event.thread_id) == (
        chat.id,
        message.id,
        thread_id,
    )
    assert message.id is not None
    edited = await jane.edit_message(chat.id, message.id, "Your order has arrived")
    updated = await pushed(seen, "event_updated")
    assert (updated.chat_id, updated.thread_id) == (chat.id, thread_id)
    assert updated.event == edited
    assert isinstance(updated.event, Message)
    assert (updated.event.id, updated.event.text) == (
        message.id,
        "Your order has arrived",
    )
    got = await sdk.get_chat(chat.id)
    assert got.thread is not None
    texts = [
        e.text
        for e in got.thread.events or ()
        if isinstance(e, Message) and e.id == message.id
    ]
    assert texts == ["Your order has arrived"]
    await jane.leave(chat.id)
    left = await pushed(seen, "user_removed_from_chat")
    assert (left.chat, left.user) == (chat.id, jane.id)


async def test_chat_transferred_and_queue_position_updated(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    seen = Recorder(sdk)
    add_group(sandbox, 1)
    chat, thread_id = await started(sdk)
    jane = await joined(sandbox, chat.id)
    await jane.transfer(chat.id, group_ids=[1])
    moved = await pushed(seen, "chat_transferred")
    assert (moved.chat_id, moved.thread_id, moved.requester_id) == (
        chat.id,
        thread_id,
        jane.id,
    )
    assert moved.transferred_to.group_ids == [1]
    await sandbox.set_queue_position(chat.id, 3, wait_time=120)
    queued = await pushed(seen, "queue_position_updated")
    assert (queued.chat_id, queued.thread_id) == (chat.id, thread_id)
    assert (queued.queue.position, queued.queue.wait_time) == (3, 120)
    await sandbox.set_queue_position(chat.id, 1, wait_time=30)
    closer = await pushed(seen, "queue_position_updated", count=2)
    assert closer.queue.position == 1
    got = await sdk.get_chat(chat.id)
    assert got.thread is not None
    assert got.thread.queue is not None
    assert (got.thread.queue.position, got.thread.queue.wait_time) == (1, 30)
    assert got.thread.queue.queued_at is not None
    assert got.transferred_from is not None


async def test_groups_status_and_multicast_pushes(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    seen = Recorder(sdk)
    await sandbox.set_group_status(0, "offline")
    status = await pushed(seen, "groups_status_updated")
    assert [(g.id, g.status) for g in status.groups] == [(0, "offline")]
    await sandbox.multicast({"type": "lc2", "value": {"x": 1}}, author_id="app-1")
    multicast = await pushed(seen, "incoming_multicast")
    assert multicast.content == {"type": "lc2", "value": {"x": 1}}
    assert multicast.author_id == "app-1"


async def test_customer_side_storage_updated_at_login(sandbox: Sandbox) -> None:
    sdk = connect(sandbox)
    seen = Recorder(sdk)
    await sdk.wait_connected(timeout=10)
    storage = await pushed(seen, "customer_side_storage_updated")
    assert storage.customer_side_storage["customer_visits"] == "1"
    await sdk.destroy()


async def test_customer_disconnected_reaches_the_stream(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    seen = Recorder(sdk)
    await sandbox.disconnect_customers("logged_out_remotely")
    gone = await pushed(seen, "customer_disconnected")
    assert gone.reason == "logged_out_remotely"
    (stopped,) = await seen.wait_for("disconnected")
    assert stopped.reason == "logged_out_remotely"


# The v3.6 names of the seed's methods ------------------------------------------------


async def test_send_sneak_peek_sends_at_once_unthrottled(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    chat, _ = await started(sdk)
    agent = sandbox.agent("Jane")
    for text in ("H", "He", "Hel"):  # no throttle: each call is one request
        assert await sdk.send_sneak_peek(chat.id, text) == EmptyResult()
    assert [p.text for p in agent.sneak_peeks(chat.id)] == ["H", "He", "Hel"]
    assert sandbox.count("send_sneak_peek") == 3
    with pytest.raises(InvalidArgumentError):
        sdk.send_sneak_peek(chat.id, 5)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        sdk.send_sneak_peek("", "x")
    assert sandbox.count("send_sneak_peek") == 3


async def test_update_thread_properties_is_the_v36_name(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    seen = Recorder(sdk)
    chat, thread_id = await started(sdk)
    props = {"routing": {"transcript_email": "b@example.com"}}
    assert await sdk.update_thread_properties(chat.id, thread_id, props) == (
        EmptyResult()
    )
    updated = await pushed(seen, "thread_properties_updated")
    assert (updated.chat, updated.thread, updated.properties) == (
        chat.id,
        thread_id,
        props,
    )
    with pytest.raises(InvalidArgumentError):
        sdk.update_thread_properties(chat.id, thread_id, {"routing": 1})  # type: ignore[dict-item]
    assert sandbox.count("update_thread_properties") == 1


async def test_upload_file_uploads_without_sending_an_event(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    chat, _ = await started(sdk)
    data = b"%PDF-1.4 upload only"
    reported: list[float] = []
    result = await sdk.upload_file(data, reported.append, name="a.pdf")
    assert reported[-1] == 1.0
    async with (
        aiohttp.ClientSession() as http,
        http.get(result.url) as response,
    ):
        assert await response.read() == data
    assert sandbox.count("upload_file") == 1
    assert sandbox.count("send_event") == 0
    thread = (await sdk.get_chat(chat.id)).thread
    assert thread is not None
    assert not thread.events  # uploaded, not sent
    with pytest.raises(InvalidArgumentError):
        sdk.upload_file(42)  # type: ignore[arg-type]
    assert sandbox.count("upload_file") == 1
