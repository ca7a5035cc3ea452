"""The sandbox's records: one organization's customers, agents, chats and files.

Records (``*Record``) are mutable dataclasses private to the sandbox; what
leaves the sandbox is built from the shared wire types of
:mod:`rxlivechat.protocol.models` by the :class:`~.store.SandboxState`'s ``*_model``
methods, for one viewer.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import NotFoundError
from ..protocol.models import (
    Access,
    Address,
    Agent,
    Event,
    Properties,
    Queue,
    SessionFields,
    TransferTarget,
)

__all__ = [
    "AgentRecord",
    "ChatRecord",
    "CustomerRecord",
    "GreetingRecord",
    "GroupRecord",
    "SneakPeek",
    "StoredFile",
    "ThreadRecord",
    "event_type",
    "time_key",
]


def event_type(event: Event) -> str:
    """The wire ``type`` of an event (the tag of its Struct class)."""
    tag = type(event).__struct_config__.tag
    return tag if isinstance(tag, str) else ""


def time_key(moment: datetime.datetime, tie: str = "") -> str:
    """A string that sorts like ``(moment, tie)``: microseconds since the epoch."""
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
    micros = (moment - epoch) // datetime.timedelta(microseconds=1)
    return f"{micros:020d}:{tie}"


# Records ------------------------------------------------------------------------------


@dataclass
class CustomerRecord:
    """A customer of the organization."""

    id: str
    name: str | None = None
    email: str | None = None
    email_verified: bool | None = None
    avatar: str | None = None
    phone_number: str | None = None
    session_fields: SessionFields = field(default_factory=list)
    address: Address | None = None
    omnichannel: dict[str, Any] | None = None
    group_id: int = 0
    page_url: str | None = None
    page_title: str | None = None
    page_active: bool = True
    customer_side_storage: dict[str, str] = field(default_factory=dict)
    visits_count: int = 0
    page_views_count: int = 0
    greetings_shown_count: int = 0
    greetings_accepted_count: int = 0
    banned: bool = False


@dataclass
class AgentRecord:
    """An agent (or bot) of the organization."""

    id: str
    name: str
    avatar: str | None = None
    job_title: str = "Support Agent"
    is_bot: bool = False
    bot_type: str | None = None
    group_ids: list[int] = field(default_factory=lambda: [0])
    available: bool = True
    """Whether routing may predict this agent (``get_predicted_agent``)."""

    def model(
        self,
        *,
        present: bool | None = None,
        seen: datetime.datetime | None = None,
        with_bot: bool = False,
    ) -> Agent:
        """The wire ``Agent``; ``with_bot`` adds ``is_bot`` (greeting contexts)."""
        return Agent(
            id=self.id,
            name=self.name,
            avatar=self.avatar,
            job_title=self.job_title,
            present=present,
            events_seen_up_to=seen,
            is_bot=self.is_bot if with_bot else None,
            bot_type=self.bot_type if with_bot else None,
        )


@dataclass
class GroupRecord:
    """A group of agents; ``status``: ``online``, ``online_for_queue``, ``offline``."""

    id: int
    name: str
    status: str = "online"
    language: str = "en"
    properties: Properties = field(default_factory=dict)
    pages: tuple[str, ...] = ()
    """URL prefixes of pages that assign a customer to this group."""


@dataclass
class SneakPeek:
    """What a customer was typing, as agents see it."""

    chat_id: str
    thread_id: str
    text: str
    sent_at: datetime.datetime


@dataclass
class StoredFile:
    """A file uploaded with ``upload_file``, served back at its URL."""

    key: str
    name: str
    content_type: str
    data: bytes
    customer_id: str


@dataclass
class ThreadRecord:
    """A thread: an ordered list of events between an activation and its close."""

    id: str
    chat_id: str
    created_at: datetime.datetime
    active: bool
    user_ids: list[str]
    events: list[Event] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    """Event id → position in :attr:`events`."""
    deleted: set[str] = field(default_factory=set)
    """Ids of deleted events (hidden from customers)."""
    properties: Properties = field(default_factory=dict)
    access: Access | None = None
    queue: Queue | None = None
    counter: int = 0
    position: int = 0
    """Where the thread is in its chat's :attr:`ChatRecord.threads`."""
    key: str = field(init=False)
    """The thread's sort key (creation time, then id), made once."""

    def __post_init__(self) -> None:
        self.key = time_key(self.created_at, self.id)

    def next_event_id(self) -> str:
        """A new event id: ``<thread_id>_<n>``."""
        self.counter += 1
        return f"{self.id}_{self.counter}"

    def event(self, event_id: str) -> Event | None:
        """The event with this id, unless it is unknown or deleted."""
        position = self.index.get(event_id)
        if position is None or event_id in self.deleted:
            return None
        return self.events[position]

    def replace_event(self, event: Event) -> None:
        """Store a new version of an event (same id)."""
        assert event.id is not None
        self.events[self.index[event.id]] = event


@dataclass
class ChatRecord:
    """A chat: its users and threads. One customer per chat."""

    id: str
    customer_id: str
    access: Access
    user_ids: list[str]
    """Everyone who was ever in the chat, the customer first."""
    present: set[str] = field(default_factory=set)
    """Who is in the chat now."""
    routed_to: list[str] = field(default_factory=list)
    """The agents removed when the chat was deactivated: a resume brings them back."""
    seen: dict[str, datetime.datetime] = field(default_factory=dict)
    """``events_seen_up_to`` per user."""
    threads: list[ThreadRecord] = field(default_factory=list)
    thread_keys: list[str] = field(default_factory=list)
    """Each thread's :attr:`ThreadRecord.key`, oldest first (the page index)."""
    thread_index: dict[str, ThreadRecord] = field(default_factory=dict)
    properties: Properties = field(default_factory=dict)
    continuous: bool = False
    sneak_peeks: list[SneakPeek] = field(default_factory=list)
    transferred_from: TransferTarget | None = None
    event_types: set[str] = field(default_factory=set)
    """Every event type ever added (``list_chats`` stops once it found each)."""

    @property
    def last_thread(self) -> ThreadRecord | None:
        """The newest thread, if any."""
        return self.threads[-1] if self.threads else None

    @property
    def active(self) -> bool:
        """Whether the newest thread is open."""
        last = self.last_thread
        return last is not None and last.active

    @property
    def key(self) -> str:
        """The chat's sort key: its last thread's creation time (``list_chats``)."""
        last = self.last_thread
        moment = (
            last.created_at
            if last is not None
            else datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
        )
        return time_key(moment, self.id)

    def thread(self, thread_id: str) -> ThreadRecord:
        """The thread with this id.

        Raises:
            NotFoundError: the chat has no such thread.
        """
        thread = self.thread_index.get(thread_id)
        if thread is None:
            raise NotFoundError("Thread not found")
        return thread


@dataclass
class GreetingRecord:
    """A greeting shown to a customer."""

    id: int
    unique_id: str
    customer_id: str
    agent_id: str
    event: Event
    addon: str | None = None
    subtype: str = "announcement"
    is_exit_intent: bool = False
    displayed_first_time: bool = True
    accepted: bool = False
    canceled: bool = False
