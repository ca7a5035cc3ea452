"""The sandbox's in-memory state: one organization's customers, agents and chats.

Rules:

1. Pure: no asyncio, no aiohttp, no socket. Time comes from an injected
   :class:`~rxlivechat.sandbox.ids.Clock`, randomness from an injected
   :class:`~rxlivechat.sandbox.ids.IdFactory`.
2. Records (:mod:`.records`) are mutable dataclasses private to the sandbox; what
   leaves the store is built from the shared wire types of
   :mod:`rxlivechat.protocol.models` by the ``*_model`` methods, for one viewer.
3. A stored event is never mutated in place: a change replaces it with an
   updated copy (``msgspec.structs.replace``), so an event already handed to a
   push or a scripted agent's inbox keeps the value it had then.
4. Lookups on behalf of a customer raise the wire error a customer would get
   (``not_found`` for a chat that is not theirs, and so on).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator

import msgspec

from ..exceptions import LimitReachedError, NotFoundError
from ..protocol.models import (
    Access,
    Chat,
    ChatSummary,
    Customer,
    CustomerStatistics,
    Event,
    FormDefinition,
    FormField,
    FormOption,
    Greeting,
    GreetingAgent,
    LastEventOfType,
    Message,
    Properties,
    Thread,
    User,
)
from .bounds import Bounds
from .ids import Clock, IdFactory
from .records import (
    AgentRecord,
    ChatRecord,
    CustomerRecord,
    GreetingRecord,
    GroupRecord,
    SneakPeek,
    StoredFile,
    ThreadRecord,
    event_type,
    time_key,
)

__all__ = [
    "AgentRecord",
    "ChatRecord",
    "CustomerRecord",
    "GreetingRecord",
    "GroupRecord",
    "SneakPeek",
    "SandboxState",
    "StoredFile",
    "ThreadRecord",
    "event_type",
    "time_key",
]


# The store ----------------------------------------------------------------------------

_json = msgspec.json.Encoder()


_DEFAULT_FORMS: dict[str, FormDefinition | None] = {
    "prechat": FormDefinition(
        id="prechat",
        fields=[
            FormField(type="header", id="0", label="Welcome! Tell us who you are."),
            FormField(type="name", id="1", label="Name:", required=False),
            FormField(type="email", id="2", label="E-mail:", required=False),
        ],
    ),
    "postchat": None,
    "ticket": FormDefinition(
        id="ticket",
        fields=[
            FormField(type="header", id="0", label="We are away. Leave a message."),
            FormField(type="email", id="1", label="E-mail:", required=True),
            FormField(type="textarea", id="2", label="Message:", required=True),
            FormField(
                type="radio",
                id="3",
                label="Topic:",
                required=False,
                options=[
                    FormOption(id="0", label="Sales"),
                    FormOption(id="1", label="Support"),
                ],
            ),
        ],
    ),
}


class SandboxState:
    """Everything the sandbox knows, for one organization.

    Args:
        ids: the source of identifiers (seedable).
        clock: the source of timestamps.
        organization_id: the organization's id; a new UUID when ``None``.
        bounds: how much the state may hold (:class:`~.bounds.Bounds`).
    """

    def __init__(
        self,
        ids: IdFactory,
        clock: Clock,
        *,
        organization_id: str | None = None,
        bounds: Bounds | None = None,
    ) -> None:
        self.ids = ids
        """Identifiers."""
        self.clock = clock
        """Timestamps."""
        self.bounds = bounds or Bounds()
        """How much the state may hold."""
        self.online: Callable[[str], bool] = lambda customer_id: False
        """Whether a customer has an open socket (the sandbox sets it)."""
        self.event_bytes = 0
        """JSON-encoded bytes of every event added (``bounds.event_bytes``)."""
        self._chatless: dict[str, None] = {}
        """Customers with no chat, oldest first: the ones forgotten at the bound."""
        self.organization_id = organization_id or ids.organization_id()
        """The organization every customer and agent belongs to."""
        self.customers: dict[str, CustomerRecord] = {}
        self.agents: dict[str, AgentRecord] = {}
        self.chats: dict[str, ChatRecord] = {}
        self.chats_by_customer: dict[str, list[str]] = {}
        self.groups: dict[int, GroupRecord] = {0: GroupRecord(id=0, name="General")}
        self.license_properties: Properties = {
            "routing": {"continuous_chat_widget_enabled": False},
            "chat_page": {"welcome_message": "Hello, how can we help you?"},
        }
        self.forms: dict[tuple[int, str], FormDefinition | None] = {}
        self.greetings: dict[str, GreetingRecord] = {}
        self.files: dict[str, StoredFile] = {}
        self.welcome_message = "Hi! How can I help you today?"
        """Text of the ``incoming_welcome_message`` event."""
        self.email_verifications: list[tuple[str, str]] = []
        """``(customer_id, callback_uri)`` of the latest email verification requests."""

    # Customers and agents -------------------------------------------------------------

    def new_customer(self, customer_id: str | None = None) -> CustomerRecord:
        """Create a customer (a new UUID unless ``customer_id`` is given).

        At ``bounds.customers`` the oldest customer with no chat and no open
        socket is forgotten first.

        Raises:
            LimitReachedError: at the bound, every customer has a chat or a socket.
        """
        if len(self.customers) >= self.bounds.customers:
            self._forget_a_chatless_customer()
        record = CustomerRecord(id=customer_id or self.ids.customer_id())
        self.customers[record.id] = record
        self.chats_by_customer.setdefault(record.id, [])
        if not self.chats_by_customer[record.id]:
            self._chatless[record.id] = None
        return record

    def _forget_a_chatless_customer(self) -> None:
        # Online customers are skipped; there are at most as many as sockets.
        for customer_id in self._chatless:
            if not self.online(customer_id):
                del self._chatless[customer_id]
                del self.customers[customer_id]
                self.chats_by_customer.pop(customer_id, None)
                return
        raise LimitReachedError(
            f"Customers limit reached ({self.bounds.customers}): every customer "
            "has a chat or an open socket"
        )

    def customer(self, customer_id: str) -> CustomerRecord:
        """The customer with this id.

        Raises:
            NotFoundError: no such customer.
        """
        record = self.customers.get(customer_id)
        if record is None:
            raise NotFoundError("Customer not found")
        return record

    def new_agent(
        self,
        name: str,
        *,
        job_title: str = "Support Agent",
        avatar: str | None = None,
        is_bot: bool = False,
        group_ids: Iterable[int] = (0,),
    ) -> AgentRecord:
        """Create an agent with a new 32-hex id."""
        record = AgentRecord(
            id=self.ids.agent_id(),
            name=name,
            job_title=job_title,
            avatar=avatar,
            is_bot=is_bot,
            bot_type="chatbot" if is_bot else None,
            group_ids=list(group_ids),
        )
        self.agents[record.id] = record
        return record

    def agent_named(self, name: str) -> AgentRecord | None:
        """The first agent with this name, if any."""
        return next((a for a in self.agents.values() if a.name == name), None)

    def customer_model(
        self,
        customer: CustomerRecord,
        *,
        statistics: bool = False,
        chat: ChatRecord | None = None,
    ) -> Customer:
        """The wire ``Customer``; with ``chat``, its presence and seen time there."""
        stats = None
        if statistics:
            chats = [self.chats[c] for c in self.chats_by_customer.get(customer.id, [])]
            stats = CustomerStatistics(
                chats_count=len(chats),
                threads_count=sum(len(c.threads) for c in chats),
                visits_count=customer.visits_count,
                page_views_count=customer.page_views_count,
                greetings_shown_count=customer.greetings_shown_count,
                greetings_accepted_count=customer.greetings_accepted_count,
            )
        return Customer(
            id=customer.id,
            name=customer.name,
            email=customer.email,
            email_verified=customer.email_verified,
            avatar=customer.avatar,
            phone_number=customer.phone_number,
            session_fields=list(customer.session_fields) or None,
            omnichannel=customer.omnichannel,
            address=customer.address,
            present=None if chat is None else customer.id in chat.present,
            events_seen_up_to=None if chat is None else chat.seen.get(customer.id),
            statistics=stats,
        )

    def user_model(self, chat: ChatRecord, user_id: str) -> User:
        """A chat user as the wire shows it, with presence and seen time."""
        agent = self.agents.get(user_id)
        if agent is not None:
            return agent.model(
                present=user_id in chat.present, seen=chat.seen.get(user_id)
            )
        return self.customer_model(self.customer(user_id), chat=chat)

    # Chats and threads ----------------------------------------------------------------

    def chat_of(self, customer_id: str, chat_id: str) -> ChatRecord:
        """A chat of this customer.

        Raises:
            NotFoundError: no such chat, or not this customer's.
        """
        chat = self.chats.get(chat_id)
        if chat is None or chat.customer_id != customer_id:
            raise NotFoundError("Chat not found")
        return chat

    def customer_chats(self, customer_id: str) -> list[ChatRecord]:
        """The customer's chats, oldest last-thread first."""
        chats = [self.chats[c] for c in self.chats_by_customer.get(customer_id, [])]
        return sorted(chats, key=lambda c: c.key)

    def new_chat(
        self,
        customer_id: str,
        *,
        chat_id: str | None = None,
        access: Access | None = None,
        properties: Properties | None = None,
        continuous: bool = False,
    ) -> ChatRecord:
        """Create a chat with no thread yet."""
        chat = ChatRecord(
            id=chat_id or self.ids.chat_id(),
            customer_id=customer_id,
            access=access or Access(group_ids=[0]),
            user_ids=[customer_id],
            present={customer_id},
            properties=_copy_properties(properties),
            continuous=continuous,
        )
        self.chats[chat.id] = chat
        self.chats_by_customer.setdefault(customer_id, []).append(chat.id)
        self._chatless.pop(customer_id, None)
        return chat

    def new_thread(
        self,
        chat: ChatRecord,
        *,
        active: bool = True,
        thread_id: str | None = None,
        properties: Properties | None = None,
        created_at: datetime.datetime | None = None,
    ) -> ThreadRecord:
        """Open a new thread in ``chat`` (the previous one must be closed)."""
        thread = ThreadRecord(
            id=thread_id or self.ids.thread_id(),
            chat_id=chat.id,
            created_at=created_at or self.clock.now(),
            active=active,
            user_ids=sorted(chat.present, key=chat.user_ids.index),
            properties=_copy_properties(properties),
            access=chat.access,
            position=len(chat.threads),
        )
        # Threads only append, newest last: their keys stay sorted, so a page
        # is a bisection of chat.thread_keys (docs/sandbox-choices.md).
        chat.threads.append(thread)
        chat.thread_keys.append(thread.key)
        chat.thread_index[thread.id] = thread
        return thread

    def add_event(
        self,
        thread: ThreadRecord,
        event: Event,
        *,
        author_id: str | None,
        created_at: datetime.datetime | None = None,
    ) -> Event:
        """Append an event, stamping its server fields; returns the stored copy."""
        stored = msgspec.structs.replace(
            event,
            id=thread.next_event_id(),
            created_at=created_at or self.clock.now(),
            author_id=author_id,
            deleted=None,
            thread_id=None,  # an SDK-side convenience field, never stored or sent
            properties=_copy_properties(event.properties) or None,
        )
        thread.index[stored.id] = len(thread.events)  # type: ignore[index]
        thread.events.append(stored)
        self.event_bytes += len(_json.encode(stored))
        chat = self.chats.get(thread.chat_id)
        if chat is not None:
            chat.event_types.add(event_type(stored))
        return stored

    def visible(self, event: Event, viewer: str) -> bool:
        """Whether ``viewer`` (a customer) may see ``event``."""
        return event.recipients != "agents" or event.author_id == viewer

    def visible_events(self, thread: ThreadRecord, viewer: str) -> Iterator[Event]:
        """The thread's events a customer sees: not deleted, not agents-only."""
        for event in thread.events:
            if event.id not in thread.deleted and self.visible(event, viewer):
                yield event

    def thread_model(
        self, chat: ChatRecord, thread: ThreadRecord, viewer: str
    ) -> Thread:
        """The wire ``Thread`` with its events, as ``viewer`` sees it."""
        position = thread.position
        return Thread(
            id=thread.id,
            created_at=thread.created_at,
            active=thread.active,
            user_ids=list(thread.user_ids),
            events=list(self.visible_events(thread, viewer)),
            properties=_copy_properties(thread.properties),
            access=thread.access,
            queue=thread.queue,
            previous_thread_id=chat.threads[position - 1].id if position else None,
            next_thread_id=(
                chat.threads[position + 1].id
                if position + 1 < len(chat.threads)
                else None
            ),
        )

    def chat_model(
        self, chat: ChatRecord, thread: ThreadRecord | None, viewer: str
    ) -> Chat:
        """The wire ``Chat`` with one thread (``get_chat``, ``incoming_chat``)."""
        return Chat(
            id=chat.id,
            users=[self.user_model(chat, u) for u in chat.user_ids],
            thread=None if thread is None else self.thread_model(chat, thread, viewer),
            access=chat.access,
            properties=_copy_properties(chat.properties),
            transferred_from=chat.transferred_from,
        )

    def chat_summary(self, chat: ChatRecord, viewer: str) -> ChatSummary:
        """The wire ``ChatSummary`` (``list_chats``)."""
        last = chat.last_thread
        per_type: dict[str, LastEventOfType] = {}
        # Newest first, until every type the chat ever had is found: the
        # cost follows the chat's recent events, not its length (a type whose
        # events were all deleted or hidden still walks to the start).
        for thread in reversed(chat.threads):
            if len(per_type) == len(chat.event_types):
                break
            for event in reversed(list(self.visible_events(thread, viewer))):
                kind = event_type(event)
                if kind not in per_type:
                    per_type[kind] = LastEventOfType(
                        thread_id=thread.id,
                        thread_created_at=thread.created_at,
                        event=event,
                    )
        return ChatSummary(
            id=chat.id,
            users=[self.user_model(chat, u) for u in chat.user_ids],
            active=chat.active,
            last_thread_id=None if last is None else last.id,
            last_thread_created_at=None if last is None else last.created_at,
            last_event_per_type=per_type,
            access=chat.access,
            properties=_copy_properties(chat.properties),
        )

    def has_unread(self, chat: ChatRecord, user_id: str) -> bool:
        """Whether the chat has events ``user_id`` has not seen (by time)."""
        seen = chat.seen.get(user_id)
        for thread in reversed(chat.threads):
            for event in reversed(thread.events):
                if event.id in thread.deleted or not self.visible(event, user_id):
                    continue
                assert event.created_at is not None
                return seen is None or event.created_at > seen
        return False

    # Groups, forms, greetings ---------------------------------------------------------

    def group(self, group_id: int) -> GroupRecord | None:
        """The group with this id, if any."""
        return self.groups.get(group_id)

    def form(self, group_id: int, form_type: str) -> FormDefinition | None:
        """The form of a group, or ``None`` when disabled."""
        if (group_id, form_type) in self.forms:
            return self.forms[group_id, form_type]
        return _DEFAULT_FORMS.get(form_type)

    def greeting_model(self, greeting: GreetingRecord) -> Greeting:
        """The wire ``Greeting``."""
        agent = self.agents[greeting.agent_id]
        return Greeting(
            id=greeting.id,
            unique_id=greeting.unique_id,
            event=greeting.event,
            agent=GreetingAgent(
                id=agent.id,
                name=agent.name,
                avatar=agent.avatar,
                job_title=agent.job_title,
                is_bot=agent.is_bot,
                type="agent",
            ),
            accepted=greeting.accepted,
            displayed_first_time=greeting.displayed_first_time,
            addon=greeting.addon,
            subtype=greeting.subtype,
            is_exit_intent=greeting.is_exit_intent,
        )

    def shown_greeting(self, customer_id: str) -> GreetingRecord | None:
        """The newest greeting not canceled (accepted ones stay: "seen")."""
        shown = [
            g
            for g in self.greetings.values()
            if g.customer_id == customer_id and not g.canceled
        ]
        return shown[-1] if shown else None

    def show_greeting(self, greeting: GreetingRecord) -> Greeting:
        """The wire ``Greeting`` for one display; only the first says so."""
        model = self.greeting_model(greeting)
        greeting.displayed_first_time = False
        return model

    # Seeding --------------------------------------------------------------------------

    def seed_chat(
        self,
        customer_id: str,
        *,
        threads: int = 1,
        events_per_thread: int = 1,
        chat_id: str | None = None,
        thread_ids: list[str] | None = None,
        agent: AgentRecord | None = None,
        active: bool = False,
        text: str = "Message {thread}.{event}",
    ) -> ChatRecord:
        """Build a chat history directly, without sockets or pushes.

        Messages alternate between the customer and ``agent`` (when given).
        Every thread is closed except, with ``active=True``, the last one.

        Args:
            customer_id: the chat's customer (created if unknown).
            threads: how many threads.
            events_per_thread: how many message events per thread.
            chat_id: the chat id to use (a new one when ``None``).
            thread_ids: ids for the first threads (new ones for the rest).
            agent: an agent who wrote every other message and is in the chat.
            active: leave the last thread open.
            text: the text template; ``{thread}`` and ``{event}`` count from 1.

        Returns:
            The chat.
        """
        if customer_id not in self.customers:
            self.new_customer(customer_id)
        chat = self.new_chat(customer_id, chat_id=chat_id)
        if agent is not None:
            chat.user_ids.append(agent.id)
            chat.present.add(agent.id)
        fixed_ids = list(thread_ids or [])
        for t in range(threads):
            thread = self.new_thread(
                chat,
                active=active and t == threads - 1,
                thread_id=fixed_ids[t] if t < len(fixed_ids) else None,
            )
            for e in range(events_per_thread):
                author = agent.id if agent is not None and e % 2 else customer_id
                self.add_event(
                    thread,
                    Message(text=text.format(thread=t + 1, event=e + 1)),
                    author_id=author,
                )
        last = chat.last_thread
        if last is not None and last.events:
            seen = last.events[-1].created_at
            assert seen is not None
            for user in chat.user_ids:
                chat.seen[user] = seen
        return chat


def _copy_properties(properties: Properties | None) -> Properties:
    """A copy two levels deep (namespace → name → value)."""
    return {ns: dict(values) for ns, values in (properties or {}).items()}
