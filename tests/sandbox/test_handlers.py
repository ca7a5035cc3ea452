"""The pure request handlers, without sockets: results, pushes, limits, errors."""

from __future__ import annotations

import datetime
import re
import typing
from typing import Any

import pytest

from rxlivechat.exceptions import (
    AuthorizationError,
    ChatInactiveError,
    ChatLimitReachedError,
    CustomerSessionFieldsLimitReachedError,
    GreetingNotFoundError,
    GroupNotFoundError,
    GroupOfflineError,
    GroupsOfflineError,
    GroupUnavailableError,
    NotFoundError,
    ServerError,
    ValidationError,
)
from rxlivechat.protocol import methods as m
from rxlivechat.protocol.base import EmptyResult, Method
from rxlivechat.protocol.codec import encode
from rxlivechat.protocol.limits import LIMITS
from rxlivechat.protocol.models import (
    Access,
    Agent,
    File,
    GroupStatus,
    Message,
    Postback,
    RichMessage,
    RichMessageButton,
    RichMessageElement,
    SystemEvent,
    SystemMessage,
)
from rxlivechat.protocol.pushes import (
    ChatDeactivated,
    ChatPropertiesDeleted,
    ChatPropertiesUpdated,
    CustomerUpdated,
    EventDeleted,
    EventPropertiesUpdated,
    EventsMarkedAsSeen,
    GreetingAccepted,
    GreetingCanceled,
    GroupsStatusUpdated,
    IncomingChat,
    IncomingEvent,
    IncomingGreeting,
    IncomingRichMessagePostback,
    IncomingWelcomeMessage,
    ThreadPropertiesDeleted,
    ThreadPropertiesUpdated,
    UserAddedToChat,
    UserRemovedFromChat,
)
from rxlivechat.sandbox.actions import (
    HANDLERS,
    Handlers,
    IncomingSneakPeek,
    Outcome,
    handles,
)
from rxlivechat.sandbox.ids import Clock, IdFactory
from rxlivechat.sandbox.properties import PropertyRegistry
from rxlivechat.sandbox.store import CustomerRecord, SandboxState, StoredFile


class World:
    """A store, its handlers and one customer, with shortcuts."""

    def __init__(self, chats_per_customer: int = 1) -> None:
        self.store = SandboxState(IdFactory(7), Clock())
        # a.b as an app registers it (Configuration API): LiveChat refuses
        # properties no one registered (default-properties doc).
        self.handlers = Handlers(
            self.store,
            chats_per_customer=chats_per_customer,
            properties=PropertyRegistry({"a": {"b": "int"}}),
        )
        self.customer: CustomerRecord = self.store.new_customer()

    @property
    def cid(self) -> str:
        return self.customer.id

    def __call__(self, method: Method[Any], customer_id: str | None = None) -> Any:
        return self.handlers.handle(customer_id or self.cid, method).result

    def outcome(self, method: Method[Any]) -> Outcome[Any]:
        return self.handlers.handle(self.cid, method)

    def start(self, *events: Any, **options: Any) -> m.StartChatResult:
        spec = m.StartChatSpec(thread=m.ThreadSpec(events=list(events) or None))
        result: m.StartChatResult = self(m.StartChat(chat=spec, **options))
        return result

    def error(self, method: Method[Any]) -> ServerError:
        with pytest.raises(ServerError) as info:
            self.handlers.handle(self.cid, method)
        return info.value


@pytest.fixture
def world() -> World:
    return World()


def pushes(outcome: Outcome[Any]) -> list[Any]:
    return [out.push for out in outcome.pushes]


# Identifiers and times ------------------------------------------------------------


def test_ids_and_timestamps_have_livechat_shapes(world: World) -> None:
    agent = world.store.new_agent("Jane")
    started = world.start(Message(text="hi"), Message(text="there"))
    assert re.fullmatch(r"[A-Z0-9]{10}", started.chat_id)
    assert re.fullmatch(r"[A-Z0-9]{10}", started.thread_id)
    assert started.event_ids == [f"{started.thread_id}_1", f"{started.thread_id}_2"]
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
        world.cid,
    )
    assert re.fullmatch(r"[0-9a-f]{32}", agent.id)
    threads = world(m.ListThreads(chat_id=started.chat_id)).threads
    stamps = [threads[0].created_at] + [e.created_at for e in threads[0].events]
    assert all(s.microsecond != 0 for s in stamps)
    assert all(s.tzinfo is not None for s in stamps)
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == len(stamps)
    assert re.search(rb'"created_at":"[^"]+\.\d{6}Z"', encode(threads[0]))


def test_clock_never_lands_on_zero_microseconds() -> None:
    fixed = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    clock = Clock(lambda: fixed)
    stamps = [clock.now() for _ in range(3)]
    assert [s.microsecond for s in stamps] == [1, 2, 3]


def test_seeded_ids_repeat() -> None:
    assert (
        SandboxState(IdFactory(1), Clock()).organization_id
        == SandboxState(IdFactory(1), Clock()).organization_id
    )


# Chats ----------------------------------------------------------------------------


def test_start_chat_pushes_incoming_chat(world: World) -> None:
    outcome = world.outcome(
        m.StartChat(chat=m.StartChatSpec(properties={"a": {"b": 1}}))
    )
    (push,) = pushes(outcome)
    assert isinstance(push, IncomingChat)
    assert push.requester_id == world.cid
    assert push.chat.id == outcome.result.chat_id
    assert push.chat.thread is not None
    assert push.chat.thread.active
    assert push.chat.properties == {"a": {"b": 1}}
    assert outcome.result.event_ids is None
    assert outcome.pushes[0].to == frozenset({world.cid})


def test_one_chat_per_customer(world: World) -> None:
    world.start()
    assert isinstance(world.error(m.StartChat()), ChatLimitReachedError)
    more = World(chats_per_customer=2)
    more.start()
    more.start()


def test_start_chat_needs_an_online_group_unless_continuous(world: World) -> None:
    world.handlers.set_group_status(0, "offline")
    assert isinstance(world.error(m.StartChat()), GroupsOfflineError)
    world.start(continuous=True)


def test_start_chat_with_an_unknown_group(world: World) -> None:
    error = world.error(m.StartChat(chat=m.StartChatSpec(access=Access(group_ids=[9]))))
    assert isinstance(error, GroupNotFoundError)


def test_start_inactive_chat(world: World) -> None:
    started = world.start(active=False)
    chat = world(m.GetChat(chat_id=started.chat_id))
    assert chat.thread.active is False


def test_deactivate_chat_sends_system_message_then_chat_deactivated(
    world: World,
) -> None:
    world.customer.name = "Ann"
    started = world.start()
    outcome = world.outcome(m.DeactivateChat(id=started.chat_id))
    assert outcome.result == EmptyResult()
    event, closed = pushes(outcome)
    assert isinstance(event, IncomingEvent)
    assert isinstance(event.event, SystemMessage)
    assert event.event.system_message_type == "manual_archived_customer"
    assert event.event.text == "Ann archived the chat"
    assert event.event.author_id is None
    assert closed == ChatDeactivated(
        chat_id=started.chat_id, thread_id=started.thread_id, user_id=world.cid
    )
    assert isinstance(
        world.error(m.DeactivateChat(id=started.chat_id)), ChatInactiveError
    )


def test_resume_chat(world: World) -> None:
    started = world.start()
    assert isinstance(
        world.error(m.ResumeChat(chat=m.ResumeChatSpec(id=started.chat_id))),
        ValidationError,
    )
    world(m.DeactivateChat(id=started.chat_id))
    outcome = world.outcome(
        m.ResumeChat(
            chat=m.ResumeChatSpec(
                id=started.chat_id, thread=m.ThreadSpec(events=[Message(text="again")])
            )
        )
    )
    assert outcome.result.thread_id != started.thread_id
    assert outcome.result.event_ids == [f"{outcome.result.thread_id}_1"]
    (push,) = pushes(outcome)
    assert isinstance(push, IncomingChat)
    assert push.chat.thread is not None
    assert push.chat.thread.previous_thread_id == started.thread_id
    assert isinstance(
        world.error(m.ResumeChat(chat=m.ResumeChatSpec(id="NOSUCHCHAT"))), NotFoundError
    )


def test_get_chat_defaults_to_the_latest_thread(world: World) -> None:
    chat_id = world.store.seed_chat(world.cid, threads=3, events_per_thread=2).id
    chat = world(m.GetChat(chat_id=chat_id))
    first = world.store.chats[chat_id].threads[0]
    assert chat.thread.id == world.store.chats[chat_id].threads[-1].id
    assert chat.thread.next_thread_id is None
    assert world(m.GetChat(chat_id=chat_id, thread_id=first.id)).thread.id == first.id
    assert isinstance(
        world.error(m.GetChat(chat_id=chat_id, thread_id="X")), NotFoundError
    )


def test_list_chats_summaries(world: World) -> None:
    agent = world.store.new_agent("Jane")
    chat_id = world.store.seed_chat(
        world.cid, threads=2, events_per_thread=3, agent=agent
    ).id
    result = world(m.ListChats())
    (summary,) = result.chats_summary
    assert result.total_chats == 1
    assert (summary.id, summary.active) == (chat_id, False)
    assert summary.last_event_per_type is not None
    last = summary.last_event_per_type["message"]
    assert last.thread_id == summary.last_thread_id
    assert isinstance(last.event, Message)
    assert last.event.text == "Message 2.3"
    assert [type(u) for u in summary.users] != []
    assert any(isinstance(u, Agent) for u in summary.users)
    assert [u.name for u in summary.users if isinstance(u, Agent)] == ["Jane"]
    assert result.next_page_id is None
    assert result.previous_page_id is None


# Events ---------------------------------------------------------------------------


def test_send_event_pushes_to_every_member(world: World) -> None:
    agent = world.store.new_agent("Jane")
    started = world.start()
    world.handlers.agent_join(agent.id, started.chat_id)
    outcome = world.outcome(
        m.SendEvent(chat_id=started.chat_id, event=Message(text="hi", custom_id="c1"))
    )
    (out,) = outcome.pushes
    assert out.to == frozenset({world.cid, agent.id})
    assert isinstance(out.push, IncomingEvent)
    assert out.push.event.id == outcome.result.event_id
    assert out.push.event.custom_id == "c1"
    # send_event marks everything as seen for the requester (§2.0).
    chat = world.store.chats[started.chat_id]
    assert chat.seen[world.cid] == out.push.event.created_at


def test_send_event_on_an_inactive_chat(world: World) -> None:
    started = world.start()
    world(m.DeactivateChat(id=started.chat_id))
    send = m.SendEvent(chat_id=started.chat_id, event=Message(text="late"))
    assert isinstance(world.error(send), ChatInactiveError)
    attached = world(
        m.SendEvent(
            chat_id=started.chat_id,
            event=Message(text="late"),
            attach_to_last_thread=True,
        )
    )
    assert attached.event_id.startswith(started.thread_id)


def test_message_text_limit_is_16_kb(world: World) -> None:
    started = world.start()
    world(m.SendEvent(chat_id=started.chat_id, event=Message(text="é" * 8192)))
    too_long = Message(text="é" * 8192 + "x")
    error = world.error(m.SendEvent(chat_id=started.chat_id, event=too_long))
    assert isinstance(error, ValidationError)
    assert LIMITS.text_bytes == 16 * 1024


def test_events_customers_cannot_send(world: World) -> None:
    started = world.start()
    for event in (
        SystemEvent(),
        Message(text=""),
        File(url="https://elsewhere.example/x.png"),
        Message(text="x", recipients="nobody"),
        RichMessage(template_id="cards", elements=[RichMessageElement()] * 11),
        RichMessage(
            template_id="cards",
            elements=[RichMessageElement(buttons=[RichMessageButton(text="b")] * 14)],
        ),
    ):
        error = world.error(m.SendEvent(chat_id=started.chat_id, event=event))
        assert isinstance(error, ValidationError), event


def test_file_events_use_uploaded_files(world: World) -> None:
    started = world.start()
    url = "http://127.0.0.1:1/api/file/lc/att/o/k/cat.png"
    world.store.files[url] = StoredFile("k", "cat.png", "image/png", b"png", world.cid)
    outcome = world.outcome(m.SendEvent(chat_id=started.chat_id, event=File(url=url)))
    (push,) = pushes(outcome)
    assert push.event == File(
        id=outcome.result.event_id,
        created_at=push.event.created_at,
        author_id=world.cid,
        url=url,
        name="cat.png",
        content_type="image/png",
        size=3,
        thumbnail_url=url,
        thumbnail2x_url=url,
    )


def test_agents_only_events_are_hidden_from_customers(world: World) -> None:
    agent = world.store.new_agent("Jane")
    started = world.start()
    stored, outgoing = world.handlers.agent_send_event(
        agent.id, started.chat_id, Message(text="psst", recipients="agents")
    )
    assert all(world.cid not in out.to for out in outgoing)
    events = world(m.ListThreads(chat_id=started.chat_id)).threads[0].events
    assert stored.id not in [e.id for e in events]


def test_delete_event(world: World) -> None:
    agent = world.store.new_agent("Jane")
    started = world.start(Message(text="oops"))
    (event_id,) = started.event_ids or []
    other, _ = world.handlers.agent_send_event(
        agent.id, started.chat_id, Message(text="a")
    )
    assert other.id is not None
    refused = world.error(
        m.DeleteEvent(
            chat_id=started.chat_id, thread_id=started.thread_id, event_id=other.id
        )
    )
    assert isinstance(refused, AuthorizationError)
    outcome = world.outcome(
        m.DeleteEvent(
            chat_id=started.chat_id, thread_id=started.thread_id, event_id=event_id
        )
    )
    assert pushes(outcome) == [
        EventDeleted(
            chat_id=started.chat_id, thread_id=started.thread_id, event_id=event_id
        )
    ]
    events = world(m.ListThreads(chat_id=started.chat_id)).threads[0].events
    assert event_id not in [e.id for e in events]


def test_rich_message_postback(world: World) -> None:
    agent = world.store.new_agent("Jane")
    started = world.start()
    yes = RichMessageButton(text="Yes", type="message", value="y", postback_id="yes")
    card, _ = world.handlers.agent_send_event(
        agent.id,
        started.chat_id,
        RichMessage(
            template_id="quick_replies",
            elements=[RichMessageElement(buttons=[yes])],
        ),
    )
    assert card.id is not None

    def click(postback_id: str, toggled: bool) -> m.SendRichMessagePostback:
        return m.SendRichMessagePostback(
            chat_id=started.chat_id,
            thread_id=started.thread_id,
            event_id=card.id or "",
            postback=Postback(id=postback_id, toggled=toggled),
        )

    def users() -> list[str] | None:
        chat = world(m.GetChat(chat_id=started.chat_id))
        (rich,) = [e for e in chat.thread.events if isinstance(e, RichMessage)]
        (element,) = rich.elements or []
        (button,) = element.buttons or []
        return button.user_ids

    # data-structures, buttons.user_ids: "always" present, "users that sent the
    # postback with toggled: true".
    assert users() == []
    (push,) = pushes(world.outcome(click("yes", True)))
    assert isinstance(push, IncomingRichMessagePostback)
    assert (push.user_id, push.postback.id) == (world.cid, "yes")
    assert users() == [world.cid]
    world(click("yes", False))
    assert users() == []
    # rtm-reference: postback.id is "The postback name of the button".
    assert "postback id no" in world.error(click("no", True)).message
    text = world(m.SendEvent(chat_id=started.chat_id, event=Message(text="hi")))
    not_rich = m.SendRichMessagePostback(
        chat_id=started.chat_id,
        thread_id=started.thread_id,
        event_id=text.event_id,
        postback=Postback(id="yes", toggled=True),
    )
    assert isinstance(world.error(not_rich), ValidationError)
    world(m.DeactivateChat(id=started.chat_id))
    assert pushes(world.outcome(click("yes", True))) == []  # active threads only


def test_rich_message_templates_and_button_types_are_checked(world: World) -> None:
    # data-structures: template_id "Values: cards, sticker, or quick_replies";
    # buttons.type "Possible values: webview, message, url, phone".
    started = world.start()
    agent = world.store.new_agent("Jane")
    with pytest.raises(ValidationError, match="template_id"):
        world.handlers.agent_send_event(
            agent.id, started.chat_id, RichMessage(template_id="nonsense")
        )
    bogus = RichMessageElement(buttons=[RichMessageButton(text="x", type="bogus")])
    with pytest.raises(ValidationError, match="button type"):
        world.handlers.agent_send_event(
            agent.id,
            started.chat_id,
            RichMessage(template_id="cards", elements=[bogus]),
        )


def test_sneak_peeks_reach_agents_only(world: World) -> None:
    agent = world.store.new_agent("Jane")
    started = world.start()
    world.handlers.agent_join(agent.id, started.chat_id)
    outcome = world.outcome(
        m.SendSneakPeek(chat_id=started.chat_id, sneak_peek_text="hel")
    )
    (out,) = outcome.pushes
    assert out.to == frozenset({agent.id})
    assert isinstance(out.push, IncomingSneakPeek)
    (peek,) = world.store.chats[started.chat_id].sneak_peeks
    assert peek.text == "hel"
    world(m.DeactivateChat(id=started.chat_id))
    peek_late = m.SendSneakPeek(chat_id=started.chat_id, sneak_peek_text="x")
    assert isinstance(world.error(peek_late), ChatInactiveError)


def test_mark_events_as_seen(world: World) -> None:
    started = world.start()
    moment = world.store.clock.now() - datetime.timedelta(microseconds=5)
    outcome = world.outcome(
        m.MarkEventsAsSeen(chat_id=started.chat_id, seen_up_to=moment)
    )
    assert pushes(outcome) == [
        EventsMarkedAsSeen(
            user_id=world.cid, chat_id=started.chat_id, seen_up_to=moment
        )
    ]
    chat = world(m.GetChat(chat_id=started.chat_id))
    assert chat.users[0].events_seen_up_to == moment


def test_mark_events_as_seen_in_the_future_is_now(world: World) -> None:
    # The docs set no bound (rtm-reference, mark_events_as_seen: seen_up_to "The
    # RFC 3339 date-time format"): docs/sandbox-choices.md takes a later time as now.
    started = world.start()
    future = datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC)
    (push,) = pushes(
        world.outcome(m.MarkEventsAsSeen(chat_id=started.chat_id, seen_up_to=future))
    )
    assert isinstance(push, EventsMarkedAsSeen)
    assert push.seen_up_to < future


# Properties -----------------------------------------------------------------------


def test_chat_properties(world: World) -> None:
    started = world.start()
    props = {"routing": {"email_follow_up": True}}
    outcome = world.outcome(
        m.UpdateChatProperties(id=started.chat_id, properties=props)
    )
    assert pushes(outcome) == [
        ChatPropertiesUpdated(chat_id=started.chat_id, properties=props)
    ]
    assert world(m.GetChat(chat_id=started.chat_id)).properties == props
    names = {"routing": ["email_follow_up"]}
    outcome = world.outcome(
        m.DeleteChatProperties(id=started.chat_id, properties=names)
    )
    assert pushes(outcome) == [
        ChatPropertiesDeleted(chat_id=started.chat_id, properties=names)
    ]
    assert world(m.GetChat(chat_id=started.chat_id)).properties == {}


def test_read_only_properties_are_refused(world: World) -> None:
    started = world.start()
    for props in ({"source": {"client_id": "x"}}, {"translation": {"a": 1}}):
        error = world.error(
            m.UpdateChatProperties(id=started.chat_id, properties=props)
        )
        assert isinstance(error, ValidationError)


def test_rating_adds_system_messages(world: World) -> None:
    world.customer.name = "Ann"
    started = world.start()
    rating = {"rating": {"score": 1, "comment": "Great"}}
    outcome = world.outcome(
        m.UpdateThreadProperties(
            chat_id=started.chat_id, thread_id=started.thread_id, properties=rating
        )
    )
    updated, rated, commented = pushes(outcome)
    assert updated == ThreadPropertiesUpdated(
        chat_id=started.chat_id, thread_id=started.thread_id, properties=rating
    )
    assert rated.event.system_message_type == "rating.chat_rated"
    assert rated.event.text == "Ann rated the chat as good"
    assert commented.event.system_message_type == "rating.chat_commented"
    assert commented.event.text_vars == {"customer": "Ann", "comment": "Great"}
    bad = {"rating": {"score": 5}}
    error = world.error(
        m.UpdateThreadProperties(
            chat_id=started.chat_id, thread_id=started.thread_id, properties=bad
        )
    )
    assert isinstance(error, ValidationError)
    names = {"rating": ["score", "comment"]}
    deleted, canceled = pushes(
        world.outcome(
            m.DeleteThreadProperties(
                chat_id=started.chat_id, thread_id=started.thread_id, properties=names
            )
        )
    )
    assert isinstance(deleted, ThreadPropertiesDeleted)
    assert canceled.event.system_message_type == "rating.chat_rating_canceled"


def test_event_properties(world: World) -> None:
    started = world.start(Message(text="x"))
    (event_id,) = started.event_ids or []
    props = {"chats": {"formatting": "commonmark"}}
    outcome = world.outcome(
        m.UpdateEventProperties(
            chat_id=started.chat_id,
            thread_id=started.thread_id,
            event_id=event_id,
            properties=props,
        )
    )
    assert isinstance(pushes(outcome)[0], EventPropertiesUpdated)
    thread = world(m.GetChat(chat_id=started.chat_id)).thread
    assert thread.events[0].properties == props
    world(
        m.DeleteEventProperties(
            chat_id=started.chat_id,
            thread_id=started.thread_id,
            event_id=event_id,
            properties={"chats": ["formatting"]},
        )
    )
    assert world(m.GetChat(chat_id=started.chat_id)).thread.events[0].properties is None


def test_license_and_group_properties(world: World) -> None:
    everything = world(m.ListLicenseProperties())
    assert "routing" in everything
    assert world(m.ListLicenseProperties(namespace="chat_page")) == {
        "chat_page": everything["chat_page"]
    }
    assert world(m.ListGroupProperties(id=0)) == {}
    assert isinstance(world.error(m.ListGroupProperties(id=42)), GroupNotFoundError)
    assert world.handlers.handle(None, m.ListLicenseProperties()).result == everything


# Customers ------------------------------------------------------------------------


def test_update_customer_pushes_the_changed_fields(world: World) -> None:
    outcome = world.outcome(m.UpdateCustomer(name="Ann", email="ann@example.com"))
    assert pushes(outcome) == [
        CustomerUpdated(id=world.cid, name="Ann", email="ann@example.com")
    ]
    customer = world(m.GetCustomer())
    assert (customer.name, customer.email) == ("Ann", "ann@example.com")
    assert isinstance(world.error(m.UpdateCustomer()), ValidationError)


def test_update_customer_omnichannel_shape(world: World) -> None:
    world(
        m.UpdateCustomer(
            omnichannel=m.Omnichannel(
                fbmessenger=m.FacebookMessengerProfile(id="1", name="Ann"),
                twilio=m.TwilioProfile(phone_number="+100"),
            )
        )
    )
    assert world(m.GetCustomer()).omnichannel == {
        "fb_messenger": [{"ID": "1", "Name": "Ann"}],
        "twilio": [{"+100": {"phone_number": "+100"}}],
    }


@pytest.mark.parametrize("make", [m.SetCustomerSessionFields, m.UpdateCustomer])
def test_session_fields_limit_is_100(world: World, make: Any) -> None:
    fields = [{f"k{i}": str(i)} for i in range(100)]
    world(make(session_fields=fields))
    assert world(m.GetCustomer()).session_fields == fields
    error = world.error(make(session_fields=[*fields, {"k100": "x"}]))
    assert isinstance(error, CustomerSessionFieldsLimitReachedError)
    bad = world.error(make(session_fields=[{"a": "1", "b": "2"}]))
    assert isinstance(bad, ValidationError)


def test_set_session_fields_sends_no_push(world: World) -> None:
    assert pushes(world.outcome(m.SetCustomerSessionFields(session_fields=[]))) == []


def test_customer_page(world: World) -> None:
    result = world(m.UpdateCustomerPage(url="https://shop.example/a", title="A"))
    assert result == m.UpdateCustomerPageResult()
    assert world.customer.page_views_count == 1
    world(m.DeactivateCustomerPage())
    assert world.customer.page_active is False
    world(m.ActivateCustomerPage())
    assert isinstance(world.error(m.UpdateCustomerPage(url="nope")), ValidationError)


# Groups, agents, greetings --------------------------------------------------------


def test_group_statuses(world: World) -> None:
    world.store.groups[3] = type(world.store.groups[0])(id=3, name="Sales")
    world.handlers.set_group_status(3, "online_for_queue")
    result = world(m.ListGroupStatuses(all=True))
    assert result.groups_status == {"0": "online", "3": "online_for_queue"}
    assert world(m.ListGroupStatuses(group_ids=[3, 99])).groups_status == {
        "3": "online_for_queue"
    }
    assert isinstance(world.error(m.ListGroupStatuses()), ValidationError)
    (out,) = world.handlers.set_group_status(3, "offline")
    assert out.push == GroupsStatusUpdated(groups=[GroupStatus(id=3, status="offline")])


def test_get_form(world: World) -> None:
    prechat = world(m.GetForm(group_id=0, type="prechat"))
    assert prechat.enabled is True
    assert prechat.form is not None
    assert world(m.GetForm(group_id=0, type="postchat")) == m.GetFormResult(
        enabled=False
    )
    assert isinstance(world.error(m.GetForm(group_id=0, type="x")), ValidationError)
    assert isinstance(
        world.error(m.GetForm(group_id=5, type="prechat")), GroupNotFoundError
    )


def test_get_predicted_agent(world: World) -> None:
    assert isinstance(world.error(m.GetPredictedAgent()), GroupUnavailableError)
    agent = world.store.new_agent("Jane")
    result = world(m.GetPredictedAgent())
    assert result.agent.id == agent.id
    assert result.agent.is_bot is False
    assert result.queue is False
    world.handlers.set_group_status(0, "offline")
    assert isinstance(world.error(m.GetPredictedAgent()), GroupOfflineError)


def test_request_welcome_message(world: World) -> None:
    world.store.new_agent("Jane")
    outcome = world.outcome(m.RequestWelcomeMessage())
    (push,) = pushes(outcome)
    assert isinstance(push, IncomingWelcomeMessage)
    assert push.id == outcome.result.id
    assert isinstance(push.event, Message)


def test_greetings(world: World) -> None:
    agent = world.store.new_agent("Jane")
    greeting, outgoing = world.handlers.agent_send_greeting(agent.id, world.cid, "Hi!")
    (shown,) = [o.push for o in outgoing]
    assert isinstance(shown, IncomingGreeting)
    assert (shown.id, shown.unique_id) == (greeting.id, greeting.unique_id)
    assert shown.displayed_first_time
    login = world(m.Login(token="t"))
    assert login.greeting is not None
    assert login.greeting.unique_id == greeting.unique_id
    # customer-sdk/index.mdx, incoming_greeting: displayedFirstTime "Describes if
    # the greeting was generated for the first time": a later display is not.
    assert not login.greeting.displayed_first_time
    wrong = m.AcceptGreeting(greeting_id=greeting.id + 1, unique_id=greeting.unique_id)
    assert isinstance(world.error(wrong), GreetingNotFoundError)
    accept = m.AcceptGreeting(greeting_id=greeting.id, unique_id=greeting.unique_id)
    assert pushes(world.outcome(accept)) == [
        GreetingAccepted(unique_id=greeting.unique_id)
    ]
    # rtm-reference, accept_greeting: "Marks an incoming greeting as seen." It is
    # still shown: login returns it accepted (the docs' sample: "accepted": true,
    # "customer has seen the greeting"), a second accept changes nothing.
    assert pushes(world.outcome(accept)) == []
    login = world(m.Login(token="t"))
    assert login.greeting is not None
    assert login.greeting.accepted
    statistics = world(m.GetCustomer()).statistics
    assert statistics is not None
    assert statistics.greetings_accepted_count == 1
    world(
        m.SendGreetingButtonClicked(
            greeting_unique_id=greeting.unique_id, button_id="b"
        )
    )
    second, outgoing = world.handlers.agent_send_greeting(agent.id, world.cid, "Again")
    # The accepted greeting was still shown: the new one replaces it.
    assert [type(o.push) for o in outgoing] == [GreetingCanceled, IncomingGreeting]
    cancel = m.CancelGreeting(unique_id=second.unique_id)
    assert pushes(world.outcome(cancel)) == [
        GreetingCanceled(unique_id=second.unique_id)
    ]


def test_an_accepted_greeting_can_still_be_canceled(world: World) -> None:
    # rtm-reference, cancel_greeting: "Customers could cancel greetings by
    # minimizing the chat widget with a greeting": the official widget accepts on
    # display and cancels on minimise.
    agent = world.store.new_agent("Jane")
    greeting, _ = world.handlers.agent_send_greeting(agent.id, world.cid, "Hi!")
    world(m.AcceptGreeting(greeting_id=greeting.id, unique_id=greeting.unique_id))
    cancel = m.CancelGreeting(unique_id=greeting.unique_id)
    assert pushes(world.outcome(cancel)) == [
        GreetingCanceled(unique_id=greeting.unique_id)
    ]
    assert world(m.Login(token="t")).greeting is None
    assert isinstance(world.error(cancel), GreetingNotFoundError)


def test_a_new_greeting_cancels_the_shown_one(world: World) -> None:
    agent = world.store.new_agent("Jane")
    first, _ = world.handlers.agent_send_greeting(agent.id, world.cid, "One")
    _, outgoing = world.handlers.agent_send_greeting(agent.id, world.cid, "Two")
    assert outgoing[0].push == GreetingCanceled(unique_id=first.unique_id)


def test_other_actions(world: World) -> None:
    info = world(m.GetUrlInfo(url="https://www.livechat.com/pricing"))
    assert info.title == "www.livechat.com"
    assert isinstance(world.error(m.GetUrlInfo(url="ftp://x")), ValidationError)
    world(m.RequestEmailVerification(callback_uri="https://example.com/cb"))
    assert world.store.email_verifications == [(world.cid, "https://example.com/cb")]
    world(m.CheckGoals(session_fields=[], group_id=0, page_url="https://x.example"))
    config = world(m.GetDynamicConfiguration())
    assert config.organization_id == world.store.organization_id
    assert config.livechat.online_group_ids == [0]
    configuration = world(m.GetConfiguration(group_id=0, version="1"))
    assert configuration.prechat_form is not None
    assert world(m.GetLocalization(group_id=0, language="en", version="1"))
    assert isinstance(world.error(m.UploadFile()), ValidationError)
    # The RTM glue answers ping itself (it re-arms the socket's ping timer).
    assert isinstance(world.error(m.Ping()), ValidationError)


def test_every_customer_action_has_a_handler() -> None:
    from rxlivechat.protocol.base import METHODS

    assert set(HANDLERS) == set(METHODS) - {"ping"}


def test_each_handler_is_registered_on_its_own_struct() -> None:
    from rxlivechat.protocol.base import METHODS

    for action, handler in HANDLERS.items():
        hints = typing.get_type_hints(handler)
        assert hints["req"] is METHODS[action], action
        assert typing.get_args(hints["return"]) == (METHODS[action].result_type,)


def test_an_action_has_one_handler() -> None:
    with pytest.raises(ValueError, match="send_event has a handler already"):
        handles(m.SendEvent)(lambda backend, customer, req: Outcome(None))
    assert HANDLERS["send_event"].__name__ == "send_event"


def test_update_customer_merges_session_fields(world: World) -> None:
    # customer-sdk/index.mdx, updateCustomer: CUSTOMER_SESSION_FIELDS_LIMIT_REACHED
    # "total amount of session fields would have been exceeded after requested
    # update": the update merges into what the customer has.
    world(m.UpdateCustomer(session_fields=[{"a": "1"}, {"b": "2"}]))
    world(m.UpdateCustomer(session_fields=[{"b": "3"}, {"c": "4"}]))
    assert world(m.GetCustomer()).session_fields == [{"a": "1"}, {"b": "3"}, {"c": "4"}]
    full = [{f"k{i}": "v"} for i in range(LIMITS.session_fields - 3)]
    world(m.UpdateCustomer(session_fields=full))
    error = world.error(m.UpdateCustomer(session_fields=[{"one": "more"}]))
    assert isinstance(error, CustomerSessionFieldsLimitReachedError)
    # set_customer_session_fields replaces them (rtm-reference: "Maximum: 100 keys").
    world(m.SetCustomerSessionFields(session_fields=[{"z": "1"}]))
    assert world(m.GetCustomer()).session_fields == [{"z": "1"}]


def test_deactivation_removes_agents_and_resume_brings_them_back(world: World) -> None:
    # customer-sdk/index.mdx, user_removed_from_chat: reason "one of: ...
    # 'chat_deactivated' ..."; pushes doc, user_added_to_chat: "Indicates that a
    # user (customer or agent) was added to a chat."
    agent = world.store.new_agent("Jane")
    started = world.start()
    world.handlers.agent_join(agent.id, started.chat_id)
    closed = pushes(world.outcome(m.DeactivateChat(id=started.chat_id)))
    removed = [p for p in closed if isinstance(p, UserRemovedFromChat)]
    assert [(p.user_id, p.reason) for p in removed] == [(agent.id, "chat_deactivated")]
    chat = world(m.GetChat(chat_id=started.chat_id))
    assert [u.id for u in chat.users if u.present] == [world.cid]
    resumed = world.outcome(m.ResumeChat(chat=m.ResumeChatSpec(id=started.chat_id)))
    added = [p for p in pushes(resumed) if isinstance(p, UserAddedToChat)]
    assert [p.user.id for p in added] == [agent.id]
    assert added[0].thread_id == resumed.result.thread_id
    chat = world(m.GetChat(chat_id=started.chat_id))
    assert {u.id for u in chat.users if u.present} == {world.cid, agent.id}
