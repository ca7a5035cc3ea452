"""Events, files, postbacks, sneak peeks (docs/protocol.md §2.3)."""

from __future__ import annotations

from ..base import EmptyResult, Method, Model, Timestamp
from ..models import (
    Event,
    Postback,
)
from .fields import (
    Id,
)


class SendEventResult(Model):
    """The reply of ``send_event``: the new event's id."""

    event_id: str


class SendEvent(Method[SendEventResult]):
    """Send an event to a chat."""

    action = "send_event"

    chat_id: Id
    event: Event
    attach_to_last_thread: bool | None = None


class DeleteEvent(Method[EmptyResult]):
    """Delete one of the customer's events (members get ``event_deleted``).

    Args:
        chat_id: the chat.
        thread_id: the event's thread.
        event_id: the event.

    Returns:
        An observable of the empty reply.

    Raises:
        InvalidArgumentError: a bad id.

    Example:
        >>> await sdk.delete_event(chat.id, sent.thread_id, sent.id)
        EmptyResult()
    """

    action = "delete_event"

    chat_id: Id
    thread_id: Id
    event_id: Id


class UploadFileResult(Model):
    """The reply of ``upload_file``: a CDN URL valid 24 h unless sent."""

    url: str


class UploadFile(Method[UploadFileResult]):
    """Upload a file (Web only, multipart part ``file``, built elsewhere)."""

    action = "upload_file"
    rtm = False


class SendRichMessagePostback(Method[EmptyResult]):
    """Report a click on a rich message button, with every v3.6 field.

    v1's ``send_postback`` sends only ``id`` and ``toggled``.

    Args:
        chat_id: the chat.
        thread_id: the rich message's thread.
        event_id: the rich message.
        postback: ``Postback(id=..., toggled=..., button_type=...,
            button_value=..., ecommerce=...)`` or the same as a mapping.

    Returns:
        An observable of the empty reply (members of an active thread get
        ``incoming_rich_message_postback``).

    Raises:
        InvalidArgumentError: a bad id or postback.

    Example:
        >>> await sdk.send_rich_message_postback(
        ...     chat.id, thread_id, event.id, {"id": "yes", "toggled": True}
        ... )
        EmptyResult()
    """

    action = "send_rich_message_postback"

    chat_id: Id
    thread_id: Id
    event_id: Id
    postback: Postback


class SendSneakPeek(Method[EmptyResult]):
    """Show the agents what the customer is typing, now (``send_sneak_peek``).

    The direct v3.6 action: one request per call, not throttled, sent whether
    or not the chat is active. v1's ``set_sneak_peek`` is the throttled
    form for keystrokes (at most one per 2 s per chat, active chats only).

    Args:
        chat_id: the chat.
        text: what the customer has typed so far (sent as ``sneak_peek_text``).

    Returns:
        An observable of the empty reply.

    Raises:
        InvalidArgumentError: a bad id or text.

    Example:
        >>> await sdk.send_sneak_peek(chat.id, "Where is my ord")
        EmptyResult()
    """

    action = "send_sneak_peek"

    chat_id: Id
    sneak_peek_text: str


class MarkEventsAsSeen(Method[EmptyResult]):
    """Mark the chat's events seen up to a time (``events_marked_as_seen``).

    The v3.6 form of v1's ``update_last_seen_timestamp``, which also
    takes epoch milliseconds and defaults to now.

    Args:
        chat_id: the chat.
        seen_up_to: a timezone-aware time (sent as RFC 3339, microseconds).

    Returns:
        An observable of the empty reply.

    Raises:
        InvalidArgumentError: a bad id, or a naive or non-``datetime`` time.

    Example:
        >>> now = datetime.datetime.now(datetime.UTC)
        >>> await sdk.mark_events_as_seen(chat.id, now)
        EmptyResult()
    """

    action = "mark_events_as_seen"

    chat_id: Id
    seen_up_to: Timestamp
