"""The SDK's events: their payload types, and how v3.6 pushes become them.

The event stream speaks the seed (JS Customer SDK v1) vocabulary, built from the
v3.6 pushes as docs/protocol.md §6.2 maps them:

| event name | built from |
|---|---|
| ``new_event`` | ``incoming_event`` |
| ``chat_properties_updated`` | ``chat_properties_updated`` |
| ``chat_thread_properties_updated`` | ``thread_properties_updated`` |
| ``last_seen_timestamp_updated`` | ``events_marked_as_seen`` |
| ``user_joined_chat`` | ``user_added_to_chat`` (+ ``user_data``) |
| ``user_left_chat`` | ``user_removed_from_chat`` |
| ``user_is_typing``, ``user_stopped_typing`` | ``incoming_typing_indicator`` |
| ``thread_closed`` | ``chat_deactivated`` |
| ``thread_summary`` | ``incoming_chat`` (+ ``user_data`` per user) |
| ``user_data`` | ``customer_updated`` and the users above |

Every other push keeps its own name and its typed payload (``incoming_greeting``,
``chat_transferred``, ``incoming_thinking_indicator``, ...); a push this version
does not know (v3.5's ``customer_page_updated``, which JS SDK v5 dropped) passes
under its own name with a plain ``dict``. Connection events (``connected``,
``connection_lost``, ``connection_restored``, ``customer_id``,
``identity_changed``, ``disconnected``, ``error``) come from the SDK itself.
"""

from __future__ import annotations

import datetime
import difflib
from typing import Any, Literal, TypeAlias, get_args

import msgspec

from .exceptions import InvalidArgumentError
from .protocol import pushes as p
from .protocol.base import Model
from .protocol.frames import Push
from .protocol.models import Event, Properties
from .results import ChatsSummaryItem, thread_order

__all__ = [
    "EVENT_NAMES",
    "ChatPropertiesUpdated",
    "ChatThreadPropertiesUpdated",
    "Connected",
    "Disconnected",
    "EventName",
    "IdentityChanged",
    "LastSeenTimestampUpdated",
    "NewEvent",
    "OtherEventName",
    "ThreadClosed",
    "ThreadSummary",
    "UserInChat",
    "UserTyping",
    "check_event_name",
    "events_of_push",
    "new_event",
]

OtherEventName: TypeAlias = Literal[
    "user_data",
    "chat_transferred",
    "incoming_event_preview",
    "event_deleted",
    "event_updated",
    "incoming_rich_message_postback",
    "chat_properties_deleted",
    "thread_properties_deleted",
    "event_properties_updated",
    "event_properties_deleted",
    "customer_side_storage_updated",
    "customer_disconnected",
    "groups_status_updated",
    "incoming_thinking_indicator",
    "incoming_multicast",
    "incoming_greeting",
    "greeting_accepted",
    "greeting_canceled",
    "incoming_welcome_message",
    "queue_position_updated",
]
"""The events whose payload ``on``/``once`` type as ``Any``: ``user_data`` and
the pushes kept under their own name. Every other :data:`EventName` has its own
typed overload (``on("new_event", fn)``: ``fn`` takes a :class:`NewEvent`)."""

EventName: TypeAlias = Literal[
    # The connection's life (emitted by the SDK itself)
    "connected",
    "connection_lost",
    "connection_restored",
    "disconnected",
    "customer_id",
    "identity_changed",
    "error",
    # Pushes in their v1 form (events_of_push)
    "new_event",
    "user_is_typing",
    "user_stopped_typing",
    "chat_properties_updated",
    "chat_thread_properties_updated",
    "last_seen_timestamp_updated",
    "user_joined_chat",
    "user_left_chat",
    "thread_closed",
    "thread_summary",
    "incoming_chat",
    OtherEventName,  # user_data and every other push, under its own name
]
"""Every name ``on``/``once``/``off`` accept: what the event stream can carry."""

EVENT_NAMES: frozenset[str] = frozenset(get_args(EventName))


def check_event_name(name: object) -> None:
    """Refuse a name no event has, suggesting the closest one.

    Raises:
        InvalidArgumentError: ``name`` is not an :data:`EventName`.
    """
    if name in EVENT_NAMES:
        return
    if not isinstance(name, str):
        raise InvalidArgumentError(f"an event name is a str, not {type(name).__name__}")
    close = difflib.get_close_matches(name, sorted(EVENT_NAMES), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise InvalidArgumentError(
        f"no event is named {name!r}{hint} (rxlivechat.events.EventName lists them)"
    )


class Connected(Model):
    """``connected`` / ``connection_restored``: logged in, with the chats summary.

    Attributes:
        chats_summary: the customer's chats (as ``get_chats_summary`` items).
        total_chats: how many chats the customer has.
        customer_id: the logged-in customer.
    """

    chats_summary: list[ChatsSummaryItem]
    total_chats: int
    customer_id: str


class Disconnected(Model):
    """``disconnected``: the SDK stopped for good, and why.

    Attributes:
        reason: why (``"manual"`` after ``disconnect()``/``destroy()``, or the
            server's reason, e.g. ``"too_many_connections"``).
        data: what the server sent with it, if anything.
    """

    reason: str
    data: dict[str, Any] | None = None


class IdentityChanged(Model):
    """``identity_changed``: the SDK logged in as another customer.

    A refreshed token named someone else (the identity cookies were lost, or
    a token provider changed customer). What the SDK knew of the previous
    customer's chats is dropped (JS Customer SDK v5's event, snake_case).

    Attributes:
        previous_id: the customer before.
        new_id: the customer now.
    """

    previous_id: str
    new_id: str


class NewEvent(Model):
    """``new_event``: an event arrived in a chat (``event.thread_id`` is set).

    Attributes:
        chat: the chat.
        thread: the event's thread.
        event: the event.
    """

    chat: str
    thread: str
    event: Event


class ChatPropertiesUpdated(Model):
    """``chat_properties_updated``: only the changed properties.

    Attributes:
        chat: the chat.
        properties: ``{"namespace": {"name": value}}``.
    """

    chat: str
    properties: Properties


class ChatThreadPropertiesUpdated(Model):
    """``chat_thread_properties_updated``: only the changed properties.

    Attributes:
        chat: the chat.
        thread: the thread.
        properties: ``{"namespace": {"name": value}}``.
    """

    chat: str
    thread: str
    properties: Properties


class LastSeenTimestampUpdated(Model):
    """``last_seen_timestamp_updated``: ``user`` has seen ``chat`` up to then.

    Attributes:
        chat: the chat.
        user: who saw it.
        timestamp: up to when.
    """

    chat: str
    user: str
    timestamp: datetime.datetime


class UserInChat(Model):
    """``user_joined_chat`` / ``user_left_chat``.

    Attributes:
        chat: the chat.
        user: the user who joined or left.
        reason: the server's reason, when it gives one.
    """

    chat: str
    user: str
    reason: str | None = None


class UserTyping(Model):
    """``user_is_typing`` / ``user_stopped_typing``.

    Attributes:
        chat: the chat.
        user: who is typing.
        thread: the thread, when known.
    """

    chat: str
    user: str
    thread: str | None = None


class ThreadClosed(Model):
    """``thread_closed``: the chat's thread was closed (``chat_deactivated``).

    Attributes:
        chat: the chat.
        thread: the closed thread, when known.
        user: who closed it, when known.
    """

    chat: str
    thread: str | None = None
    user: str | None = None


class ThreadSummary(Model):
    """``thread_summary``: a new thread started (from ``incoming_chat``).

    Attributes:
        id: the thread.
        chat: its chat.
        order: v1's order (:func:`~rxlivechat.results.thread_order`).
        total_events: how many events it holds.
    """

    id: str
    chat: str
    order: int
    total_events: int


def with_thread(event: Event, thread_id: str) -> Event:
    """``event`` carrying the id of its thread (the wire event has none)."""
    if event.thread_id == thread_id:
        return event
    return msgspec.structs.replace(event, thread_id=thread_id)


def new_event(chat_id: str, thread_id: str, event: Event) -> NewEvent:
    """The ``new_event`` of ``event`` (pushed live, or recovered): the one builder."""
    if event.thread_id != thread_id:  # with_thread, inlined: once per push
        event = msgspec.structs.replace(event, thread_id=thread_id)
    return NewEvent(chat=chat_id, thread=thread_id, event=event)


def events_of_push(frame: Push[Any]) -> list[tuple[str, Any]]:
    """The SDK events one push becomes (most become one)."""
    payload = frame.payload
    match payload:
        case p.IncomingEvent():
            new = new_event(payload.chat_id, payload.thread_id, payload.event)
            return [("new_event", new)]
        case p.IncomingTypingIndicator():
            indicator = payload.typing_indicator
            name = "user_is_typing" if indicator.is_typing else "user_stopped_typing"
            typing = UserTyping(
                chat=payload.chat_id,
                user=indicator.author_id,
                thread=payload.thread_id,
            )
            return [(name, typing)]
        case p.ChatPropertiesUpdated():
            return [
                (
                    "chat_properties_updated",
                    ChatPropertiesUpdated(
                        chat=payload.chat_id, properties=payload.properties
                    ),
                )
            ]
        case p.ThreadPropertiesUpdated():
            update = ChatThreadPropertiesUpdated(
                chat=payload.chat_id,
                thread=payload.thread_id,
                properties=payload.properties,
            )
            return [("chat_thread_properties_updated", update)]
        case p.EventsMarkedAsSeen():
            seen = LastSeenTimestampUpdated(
                chat=payload.chat_id, user=payload.user_id, timestamp=payload.seen_up_to
            )
            return [("last_seen_timestamp_updated", seen)]
        case p.UserAddedToChat():
            joined = UserInChat(
                chat=payload.chat_id, user=payload.user.id, reason=payload.reason
            )
            return [("user_data", payload.user), ("user_joined_chat", joined)]
        case p.UserRemovedFromChat():
            left = UserInChat(
                chat=payload.chat_id, user=payload.user_id, reason=payload.reason
            )
            return [("user_left_chat", left)]
        case p.ChatDeactivated():
            closed = ThreadClosed(
                chat=payload.chat_id, thread=payload.thread_id, user=payload.user_id
            )
            return [("thread_closed", closed)]
        case p.IncomingChat():
            return _incoming_chat(payload)
        case p.CustomerUpdated():
            return [("user_data", payload)]
    return [(frame.action, payload)]


def _incoming_chat(payload: p.IncomingChat) -> list[tuple[str, Any]]:
    chat = payload.chat
    out: list[tuple[str, Any]] = [("user_data", user) for user in chat.users]
    if chat.thread is not None:
        thread = chat.thread
        order = thread_order(thread.created_at)
        summary = ThreadSummary(
            id=thread.id,
            chat=chat.id,
            order=order,
            total_events=len(thread.events or ()),
        )
        out.append(("thread_summary", summary))
    out.append(("incoming_chat", payload))
    return out
