"""Which push carries the ``request_id`` of the request that caused it.

The docs say a push caused by a client's request carries that request's
``request_id`` on the requester's copy (docs/protocol.md §1.4), but not which of the
pushes a request causes. The official clients settle it:

* the JS Customer SDK 4.0.2 takes an ``incoming_event`` or ``incoming_chat``
  carrying the ``request_id`` of a pending request as *the reply* to it, and
  throws (``TypeError`` in its socket handler) when that request has already
  been settled by its response;
* our SDK waits for the ``incoming_event`` of ``send_event`` and the
  ``incoming_chat`` of ``start_chat``/``resume_chat`` by ``request_id``.

So only the push the docs list for an action (the action's own push) carries
its ``request_id``; side effects, such as the system messages of
``deactivate_chat`` or of a rating (``update_thread_properties``), and the
``customer_side_storage_updated`` of ``login``, come without it.
"""

from __future__ import annotations

__all__ = ["ANSWERING_PUSH", "carries_request_id"]

ANSWERING_PUSH: dict[str, str] = {
    "start_chat": "incoming_chat",
    "resume_chat": "incoming_chat",
    "deactivate_chat": "chat_deactivated",
    "send_event": "incoming_event",
    "delete_event": "event_deleted",
    "send_rich_message_postback": "incoming_rich_message_postback",
    "update_chat_properties": "chat_properties_updated",
    "delete_chat_properties": "chat_properties_deleted",
    "update_thread_properties": "thread_properties_updated",
    "delete_thread_properties": "thread_properties_deleted",
    "update_event_properties": "event_properties_updated",
    "delete_event_properties": "event_properties_deleted",
    "update_customer": "customer_updated",
    "mark_events_as_seen": "events_marked_as_seen",
    "accept_greeting": "greeting_accepted",
    "cancel_greeting": "greeting_canceled",
    "request_welcome_message": "incoming_welcome_message",
}
"""Action → the push that answers it (docs/protocol.md §2.0's "pushes" column)."""


def carries_request_id(action: str | None, push: str) -> bool:
    """Whether the requester's copy of ``push``, caused by ``action``, has its id."""
    return action is not None and ANSWERING_PUSH.get(action) == push
