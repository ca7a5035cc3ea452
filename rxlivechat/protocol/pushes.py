"""The pushes of the Customer Chat API v3.6 (docs/protocol.md §3), one class each.

A :class:`~rxlivechat.protocol.base.PushPayload` subclass is one push's
payload; defining it registers it in :data:`~rxlivechat.protocol.base.PUSHES`
under its ``action`` (the push name).

Two fields break the RFC 3339 rule: ``typing_indicator.timestamp`` is Unix
seconds and ``queue.wait_time`` is a number of seconds, both ``int``.
"""

from __future__ import annotations

from typing import Any

from .base import Model, PushPayload, Timestamp
from .models import (
    Address,
    Chat,
    CustomerStatistics,
    Event,
    Greeting,
    GroupStatus,
    Postback,
    Properties,
    PropertyNames,
    Queue,
    SessionFields,
    TransferTarget,
    User,
)

__all__ = [
    "ChatDeactivated",
    "ChatPropertiesDeleted",
    "ChatPropertiesUpdated",
    "ChatTransferred",
    "CustomerDisconnected",
    "CustomerSideStorageUpdated",
    "CustomerUpdated",
    "DisconnectionData",
    "EventDeleted",
    "EventPropertiesDeleted",
    "EventPropertiesUpdated",
    "EventUpdated",
    "EventsMarkedAsSeen",
    "GreetingAccepted",
    "GreetingCanceled",
    "GroupsStatusUpdated",
    "IncomingChat",
    "IncomingEvent",
    "IncomingEventPreview",
    "IncomingGreeting",
    "IncomingMulticast",
    "IncomingRichMessagePostback",
    "IncomingThinkingIndicator",
    "IncomingTypingIndicator",
    "IncomingWelcomeMessage",
    "QueuePositionUpdated",
    "ThreadPropertiesDeleted",
    "ThreadPropertiesUpdated",
    "TypingIndicator",
    "UserAddedToChat",
    "UserRemovedFromChat",
]


# ---------------------------------------------------------------------------
# Chats


class IncomingChat(PushPayload):
    """A chat got a new thread (``start_chat``, ``resume_chat``)."""

    action = "incoming_chat"

    chat: Chat
    requester_id: str | None = None


class ChatDeactivated(PushPayload):
    """A thread was closed; no ``user_id`` when the router closed it."""

    action = "chat_deactivated"

    chat_id: str
    thread_id: str
    user_id: str | None = None


class ChatTransferred(PushPayload):
    """A chat moved to another group or agent; ``queue`` if it is queued."""

    action = "chat_transferred"

    chat_id: str
    transferred_to: TransferTarget
    thread_id: str | None = None
    requester_id: str | None = None
    reason: str | None = None
    queue: Queue | None = None


class UserAddedToChat(PushPayload):
    """A user joined a chat."""

    action = "user_added_to_chat"

    chat_id: str
    user: User
    reason: str | None = None
    thread_id: str | None = None
    requester_id: str | None = None


class UserRemovedFromChat(PushPayload):
    """A user left a chat."""

    action = "user_removed_from_chat"

    chat_id: str
    user_id: str
    reason: str | None = None
    thread_id: str | None = None
    requester_id: str | None = None


# ---------------------------------------------------------------------------
# Events


class IncomingEventPreview(PushPayload):
    """A preview of an event still being written (no ``id`` yet)."""

    action = "incoming_event_preview"

    chat_id: str
    thread_id: str
    event: Event


class IncomingEvent(PushPayload):
    """A new event in a chat."""

    action = "incoming_event"

    chat_id: str
    thread_id: str
    event: Event


class EventDeleted(PushPayload):
    """An event was deleted."""

    action = "event_deleted"

    chat_id: str
    thread_id: str
    event_id: str


class EventUpdated(PushPayload):
    """An event changed; ``event`` is the whole new event."""

    action = "event_updated"

    chat_id: str
    thread_id: str
    event: Event


class IncomingRichMessagePostback(PushPayload):
    """A user clicked a rich message button (active threads only)."""

    action = "incoming_rich_message_postback"

    user_id: str
    chat_id: str
    thread_id: str
    event_id: str
    postback: Postback


# ---------------------------------------------------------------------------
# Properties


class ChatPropertiesUpdated(PushPayload):
    """Chat properties changed (only the changed ones)."""

    action = "chat_properties_updated"

    chat_id: str
    properties: Properties


class ChatPropertiesDeleted(PushPayload):
    """Chat properties were deleted."""

    action = "chat_properties_deleted"

    chat_id: str
    properties: PropertyNames


class ThreadPropertiesUpdated(PushPayload):
    """Thread properties changed (only the changed ones)."""

    action = "thread_properties_updated"

    chat_id: str
    thread_id: str
    properties: Properties


class ThreadPropertiesDeleted(PushPayload):
    """Thread properties were deleted."""

    action = "thread_properties_deleted"

    chat_id: str
    thread_id: str
    properties: PropertyNames


class EventPropertiesUpdated(PushPayload):
    """Event properties changed (only the changed ones)."""

    action = "event_properties_updated"

    chat_id: str
    thread_id: str
    event_id: str
    properties: Properties


class EventPropertiesDeleted(PushPayload):
    """Event properties were deleted."""

    action = "event_properties_deleted"

    chat_id: str
    thread_id: str
    event_id: str
    properties: PropertyNames


# ---------------------------------------------------------------------------
# Customers and connection


class CustomerUpdated(PushPayload):
    """The customer's data changed: a partial Customer with the changed fields."""

    action = "customer_updated"

    id: str | None = None
    type: str | None = None
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


class CustomerSideStorageUpdated(PushPayload):
    """A map the client must keep and send back in its next ``login``."""

    action = "customer_side_storage_updated"

    customer_side_storage: dict[str, str]


class DisconnectionData(Model):
    """Details of a disconnection: the right ``region``, or seconds to wait."""

    region: str | None = None
    timeout: int | None = None


class CustomerDisconnected(PushPayload):
    """The server is closing the connection; ``reason`` says why (§3.1)."""

    action = "customer_disconnected"

    reason: str
    data: DisconnectionData | None = None


class GroupsStatusUpdated(PushPayload):
    """Groups the customer can reach changed status (only the changed ones)."""

    action = "groups_status_updated"

    groups: list[GroupStatus]


# ---------------------------------------------------------------------------
# Indicators and multicast


class IncomingThinkingIndicator(PushPayload):
    """An (AI) agent is preparing a reply."""

    action = "incoming_thinking_indicator"

    chat_id: str
    thread_id: str
    author_id: str | None = None
    sent_at: Timestamp | None = None
    title: str | None = None
    description: str | None = None
    custom_id: str | None = None


class TypingIndicator(Model):
    """Who is typing; ``timestamp`` is Unix seconds."""

    author_id: str
    is_typing: bool
    timestamp: int
    recipients: str | None = None


class IncomingTypingIndicator(PushPayload):
    """A chat user started or stopped typing."""

    action = "incoming_typing_indicator"

    chat_id: str
    thread_id: str
    typing_indicator: TypingIndicator


class IncomingMulticast(PushPayload):
    """A message from an integration (``author_id``) or the system (none)."""

    action = "incoming_multicast"

    content: Any
    author_id: str | None = None


class EventsMarkedAsSeen(PushPayload):
    """A user saw a chat's events up to ``seen_up_to``."""

    action = "events_marked_as_seen"

    user_id: str
    chat_id: str
    seen_up_to: Timestamp


# ---------------------------------------------------------------------------
# Greetings, welcome messages, queue


class IncomingGreeting(PushPayload, Greeting):
    """A greeting (chat invitation) is shown; accept with its ``id``."""

    action = "incoming_greeting"


class GreetingAccepted(PushPayload):
    """The customer accepted a greeting."""

    action = "greeting_accepted"

    unique_id: str


class GreetingCanceled(PushPayload):
    """A greeting was rejected, or replaced by a new one."""

    action = "greeting_canceled"

    unique_id: str


class IncomingWelcomeMessage(PushPayload):
    """The welcome message asked for with ``request_welcome_message``."""

    action = "incoming_welcome_message"

    id: str
    event: Event


class QueuePositionUpdated(PushPayload):
    """A queued thread's position or estimated wait (seconds) changed."""

    action = "queue_position_updated"

    chat_id: str
    thread_id: str
    queue: Queue
