"""The data structures of the Customer Chat API v3.6 (docs/protocol.md §4).

One Struct serves both directions: a customer builds ``Message(text="hi")`` to
send it, and the server's copy decodes into the same class with its server-set
fields (``id``, ``created_at``, ``author_id``...) filled in. Fields the server
did not send stay ``None`` and are left out when encoding.

Events and users are tagged unions on the wire field ``type``:

.. code-block:: text

    Event = Message | File | FilledForm | Form | RichMessage | Custom
            | SystemMessage | SystemEvent | UnknownEvent
    User  = Customer | Agent

:class:`UnknownEvent` (tag ``"unknown"``) never appears on the wire: the codec
builds it for an event ``type`` this package does not know, so a new event type
does not break decoding a whole thread.

Rules: field names are wire names; values the server chooses (statuses, form
field types, button types...) are plain ``str``; maps whose keys are data
(properties, session fields, CamelCase ``omnichannel`` records) stay ``dict``.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import msgspec

from .base import Model, Timestamp

__all__ = [
    "Access",
    "Address",
    "Agent",
    "Chat",
    "ChatInfo",
    "ChatSummary",
    "Custom",
    "Customer",
    "CustomerStatistics",
    "EVENT_TYPES",
    "EcommerceAddon",
    "EcommerceOption",
    "Event",
    "EventBase",
    "File",
    "FilledForm",
    "FilledFormField",
    "Form",
    "FormDefinition",
    "FormField",
    "FormOption",
    "Greeting",
    "GreetingAgent",
    "GroupStatus",
    "LastEventInThread",
    "LastEventOfType",
    "LastThreadInfo",
    "Message",
    "MessagePostback",
    "Postback",
    "PostbackEcommerce",
    "Properties",
    "PropertyNames",
    "Queue",
    "RichMessage",
    "RichMessageButton",
    "RichMessageEcommerce",
    "RichMessageElement",
    "RichMessageImage",
    "SessionFields",
    "SystemEvent",
    "SystemMessage",
    "Thread",
    "TransferTarget",
    "UnknownEvent",
    "User",
    "UserBase",
    "capped_repr",
]


# ---------------------------------------------------------------------------
# Aliases (§2.4, §4.4, §4.5)

Properties: TypeAlias = dict[str, dict[str, Any]]
"""Properties: ``{"<namespace>": {"<name>": value}}``."""

PropertyNames: TypeAlias = dict[str, list[str]]
"""Properties to delete: ``{"<namespace>": ["<name>", ...]}``."""

SessionFields: TypeAlias = list[dict[str, str]]
"""Customer session fields: an ordered list of single-key maps ``[{"k": "v"}]``."""


# ---------------------------------------------------------------------------
# Reprs of containers

REPR_HEAD = 2
"""How many first items a long list shows in :func:`capped_repr`."""

REPR_TAIL = 1
"""How many last items a long list shows in :func:`capped_repr`."""


def capped_repr(value: msgspec.Struct) -> str:
    """The Struct's repr, with each long list cut to its first and last items.

    What a thread, a chat or a history page shows as ``repr()`` (and so as
    Jupyter's ``text/plain``): the fields not at their defaults, as msgspec
    writes them, but a list of more than ``REPR_HEAD + REPR_TAIL + 1`` items
    shows its first :data:`REPR_HEAD` items, how many were left out, and its
    last :data:`REPR_TAIL`. A 50,000-event thread is a few hundred characters,
    not ten megabytes.

    Example:
        >>> thread  # doctest: +SKIP
        Thread(id='T1', ..., events=[Message(...), Message(...), <49997 more>,
        Message(...)])
    """
    parts = []
    for field in msgspec.structs.fields(value):
        item = getattr(value, field.name)
        if field.default is not msgspec.NODEFAULT and item == field.default:
            continue
        if field.default_factory is not msgspec.NODEFAULT and (
            item == field.default_factory()
        ):
            continue
        parts.append(f"{field.name}={_capped(item)}")
    return f"{type(value).__name__}({', '.join(parts)})"


def _capped(item: Any) -> str:
    if not isinstance(item, list) or len(item) <= REPR_HEAD + REPR_TAIL + 1:
        return repr(item)
    left_out = len(item) - REPR_HEAD - REPR_TAIL
    shown = [repr(i) for i in item[:REPR_HEAD]]
    shown += [f"<{left_out} more>"] + [repr(i) for i in item[-REPR_TAIL:]]
    return f"[{', '.join(shown)}]"


# ---------------------------------------------------------------------------
# Small shared objects


class Access(Model):
    """Who may see a chat or thread: ``{"group_ids": [0]}`` (0 = every agent)."""

    group_ids: list[int]


class Queue(Model):
    """A queued thread's position; ``wait_time`` is an estimate in seconds."""

    position: int
    wait_time: int
    queued_at: Timestamp | None = None


class TransferTarget(Model):
    """The groups and agents a chat was transferred to or from."""

    group_ids: list[int] | None = None
    agent_ids: list[str] | None = None


class GroupStatus(Model):
    """A group's availability: ``online``, ``online_for_queue`` or ``offline``."""

    id: int
    status: str


# ---------------------------------------------------------------------------
# Event sub-objects (§4.3)


class PostbackEcommerce(Model):
    """The product chosen through an e-commerce rich message button."""

    product_id: str
    option_id: str | None = None
    quantity: int | None = None


class MessagePostback(Model):
    """A message event's link to the rich message button that produced it."""

    id: str
    thread_id: str
    event_id: str
    type: str | None = None
    value: str | None = None
    ecommerce: PostbackEcommerce | None = None


class Postback(Model):
    """A rich message button click (``send_rich_message_postback``, its push)."""

    id: str
    toggled: bool
    button_type: str | None = None
    button_value: str | None = None
    ecommerce: PostbackEcommerce | None = None


class FormOption(Model):
    """A choice of a form field, and a filled form field's chosen answer."""

    id: str
    label: str | None = None
    group_id: int | None = None


class FormField(Model):
    """A form field: ``type`` is ``header``, ``name``, ``email``, ``radio``..."""

    type: str
    id: str
    label: str | None = None
    required: bool | None = None
    options: list[FormOption] | None = None


class FilledFormField(FormField, kw_only=True):
    """A filled form field: ``answer`` (text or a choice), ``answers`` (checkbox)."""

    answer: str | FormOption | None = None
    answers: list[FormOption] | None = None


class FormDefinition(Model):
    """A form as ``get_form`` returns it (not the ``form`` event)."""

    id: str
    fields: list[FormField]


class RichMessageImage(Model):
    """The image of a rich message element."""

    url: str
    name: str | None = None
    content_type: str | None = None
    size: int | None = None
    width: int | None = None
    height: int | None = None
    alternative_text: str | None = None


class RichMessageButton(Model):
    """A rich message button; ``type`` is ``webview``, ``message``, ``url``..."""

    text: str | None = None
    type: str | None = None
    value: str | None = None
    webview_height: str | None = None
    postback_id: str | None = None
    user_ids: list[str] | None = None
    target: str | None = None


class EcommerceOption(Model):
    """A product variant offered by an e-commerce rich message element."""

    option_id: str
    label: str | None = None
    price: int | float | str | None = None
    regular_price: int | float | str | None = None
    currency: str | None = None
    color: str | None = None
    image_url: str | None = None
    image_thumbnail_url: str | None = None
    available: bool | None = None
    selected: bool | None = None


class EcommerceAddon(Model):
    """An add-on of an e-commerce rich message element (a price range...)."""

    addon_type: str
    range_from: int | float | str | None = None
    range_to: int | float | str | None = None
    currency: str | None = None


class RichMessageEcommerce(Model):
    """The product shown by an e-commerce rich message element."""

    view_type: str | None = None
    product_id: str | None = None
    label: str | None = None
    options: list[EcommerceOption] | None = None
    addons: list[EcommerceAddon] | None = None


class RichMessageElement(Model):
    """One card of a rich message."""

    title: str | None = None
    subtitle: str | None = None
    image: RichMessageImage | None = None
    buttons: list[RichMessageButton] | None = None
    ecommerce: RichMessageEcommerce | None = None


# ---------------------------------------------------------------------------
# Events (§4.2, §4.3), tagged on "type". Subclasses repeat ``kw_only=True`` for
# mypy, which does not inherit it and would refuse required fields after
# EventBase's optional ones.


class EventBase(Model, tag_field="type"):
    """The fields every event has; the server sets those marked (server)."""

    id: str | None = None  # (server)
    custom_id: str | None = None
    created_at: Timestamp | None = None  # (server)
    author_id: str | None = None  # (server; absent for system events)
    properties: Properties | None = None
    recipients: str | None = None  # "all" (default) or "agents"
    deleted: bool | None = None  # (server; admins only)
    thread_id: str | None = None
    """The event's thread. Not a wire field of the event: the SDK fills it in from
    the push or the thread the event came with (v1 events had ``thread``)."""

    @property
    def type(self) -> str:
        """The wire ``type`` of the event (``"message"``, ``"file"``...)."""
        return str(self.__struct_config__.tag)


class Message(EventBase, tag="message", kw_only=True):
    """A text message (at most 16 KB of UTF-8)."""

    text: str
    postback: MessagePostback | None = None


class File(EventBase, tag="file", kw_only=True):
    """A file; send the ``url`` that ``upload_file`` returned."""

    url: str
    name: str | None = None
    content_type: str | None = None
    size: int | None = None
    width: int | None = None
    height: int | None = None
    thumbnail_url: str | None = None
    thumbnail2x_url: str | None = None
    alternative_text: str | None = None


class FilledForm(EventBase, tag="filled_form", kw_only=True):
    """A form the customer filled in (pre-chat, post-chat...)."""

    form_id: str
    fields: list[FilledFormField]
    form_type: str | None = None


class Form(EventBase, tag="form", kw_only=True):
    """A form to fill in, sent in a chat."""

    form_id: str
    fields: list[FormField]
    form_type: str | None = None


class RichMessage(EventBase, tag="rich_message", kw_only=True):
    """A rich message: cards, sticker, quick replies, e-commerce."""

    template_id: str
    elements: list[RichMessageElement] | None = None


class Custom(EventBase, tag="custom", kw_only=True):
    """An event with free-form ``content``."""

    content: Any = None


class SystemMessage(EventBase, tag="system_message", kw_only=True):
    """A system message (``routing.assigned``, ``rating.chat_rated``...)."""

    system_message_type: str
    text: str | None = None
    text_vars: dict[str, Any] | None = None


class SystemEvent(EventBase, tag="system", kw_only=True):
    """A system event; ``details`` is a JSON document serialised in a string."""

    source: str | None = None
    subtype: str | None = None
    version: int | None = None
    details: str | None = None


class UnknownEvent(EventBase, tag="unknown", kw_only=True):
    """An event of a type this package does not know (built by the codec)."""

    original_type: str
    fields: dict[str, Any]

    @property
    def type(self) -> str:
        """The wire ``type`` the server sent."""
        return self.original_type


Event: TypeAlias = (
    Message
    | File
    | FilledForm
    | Form
    | RichMessage
    | Custom
    | SystemMessage
    | SystemEvent
    | UnknownEvent
)
"""Any event; decode with this union (the wire field ``type`` picks the class)."""

EVENT_TYPES: frozenset[str] = frozenset(
    {
        "custom",
        "file",
        "filled_form",
        "form",
        "message",
        "rich_message",
        "system",
        "system_message",
    }
)
"""The event ``type`` values this package knows (``"unknown"`` excluded)."""


# ---------------------------------------------------------------------------
# Users (§4.4), tagged on "type"


class Address(Model):
    """A customer's postal address."""

    address: str | None = None
    city: str | None = None
    country: str | None = None
    state: str | None = None
    postal_code: str | None = None


class CustomerStatistics(Model):
    """A customer's counters (``login`` and ``get_customer`` replies)."""

    chats_count: int | None = None
    threads_count: int | None = None
    visits_count: int | None = None
    page_views_count: int | None = None
    greetings_shown_count: int | None = None
    greetings_accepted_count: int | None = None


class UserBase(Model, tag_field="type"):
    """The field every user has."""

    id: str


class Customer(UserBase, tag="customer", kw_only=True):
    """A customer; ``omnichannel`` keeps its CamelCase wire keys."""

    name: str | None = None
    email: str | None = None
    email_verified: bool | None = None
    avatar: str | None = None
    phone_number: str | None = None
    session_fields: SessionFields | None = None
    present: bool | None = None
    events_seen_up_to: Timestamp | None = None
    omnichannel: dict[str, Any] | None = None
    address: Address | None = None
    statistics: CustomerStatistics | None = None


class Agent(UserBase, tag="agent", kw_only=True):
    """An agent (or a bot: ``is_bot``, ``bot_type``)."""

    name: str | None = None
    avatar: str | None = None
    job_title: str | None = None
    present: bool | None = None
    events_seen_up_to: Timestamp | None = None
    is_bot: bool | None = None
    bot_type: str | None = None


User: TypeAlias = Customer | Agent
"""Any chat user; the wire field ``type`` picks the class."""


class GreetingAgent(Model):
    """The agent of a greeting (the ``incoming_greeting`` sample has no ``type``)."""

    id: str
    name: str | None = None
    avatar: str | None = None
    job_title: str | None = None
    is_bot: bool | None = None
    type: str | None = None


# ---------------------------------------------------------------------------
# Threads and chats (§4.5, §4.6)


class Thread(Model):
    """A thread of a chat, with its events when the reply carries them."""

    id: str
    created_at: Timestamp
    active: bool
    user_ids: list[str]
    events: list[Event] | None = None
    properties: Properties | None = None
    access: Access | None = None
    queue: Queue | None = None
    previous_thread_id: str | None = None
    next_thread_id: str | None = None

    __repr__ = capped_repr  # a thread may hold thousands of events


class Chat(Model):
    """A chat with one thread (``get_chat``, the ``incoming_chat`` push)."""

    id: str
    users: list[User]
    thread: Thread | None = None
    access: Access | None = None
    properties: Properties | None = None
    transferred_from: TransferTarget | None = None


class LastEventOfType(Model):
    """The newest event of one type in a chat, with its thread."""

    thread_id: str
    thread_created_at: Timestamp
    event: Event
    thread_order: int | None = None


class ChatSummary(Model):
    """A chat as ``list_chats`` summarises it."""

    id: str
    users: list[User]
    active: bool
    last_thread_id: str | None = None
    last_thread_created_at: Timestamp | None = None
    last_event_per_type: dict[str, LastEventOfType] | None = None
    access: Access | None = None
    properties: Properties | None = None


class LastEventInThread(Model):
    """v3.7: the newest event of one type, in the chat's last thread."""

    event: Event


class LastThreadInfo(Model):
    """v3.7: a chat's last thread, and its newest event of each type."""

    id: str
    created_at: Timestamp
    last_event_per_type: dict[str, LastEventInThread] | None = None


class ChatInfo(Model):
    """A chat as v3.7's ``list_chats`` describes it (v3.6: :class:`ChatSummary`)."""

    id: str
    users: list[User]
    active: bool
    last_thread_info: LastThreadInfo | None = None
    access: Access | None = None
    properties: Properties | None = None

    def as_summary(self) -> ChatSummary:
        """The same chat in the v3.6 shape (each event's thread is the last one)."""
        last = self.last_thread_info
        summary = ChatSummary(
            id=self.id,
            users=self.users,
            active=self.active,
            access=self.access,
            properties=self.properties,
        )
        if last is None:
            return summary
        per_type = last.last_event_per_type
        return msgspec.structs.replace(
            summary,
            last_thread_id=last.id,
            last_thread_created_at=last.created_at,
            last_event_per_type=None
            if per_type is None
            else {
                kind: LastEventOfType(
                    thread_id=last.id,
                    thread_created_at=last.created_at,
                    event=newest.event,
                )
                for kind, newest in per_type.items()
            },
        )


class Greeting(Model):
    """A greeting (chat invitation); ``id`` is the template, ``unique_id`` the show."""

    id: int
    unique_id: str
    event: Event
    agent: GreetingAgent
    accepted: bool | None = None
    displayed_first_time: bool | None = None
    addon: str | None = None
    subtype: str | None = None
    is_exit_intent: bool | None = None
