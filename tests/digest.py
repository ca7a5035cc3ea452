"""The protocol's tables (docs/protocol.md §2.0 and §3), hard-coded.

Hard-coded on purpose: ``../shared`` may be absent (a user's clone), and a test
that compares the catalogue with these lists fails when either drifts.
"""

from __future__ import annotations

# docs/protocol.md §2.0: action -> (on RTM, Web verb or None). The last two are
# not in the API docs: lc-sdk-python's v3.6 RTM client sends them with `{}` payloads.
METHOD_TABLE: dict[str, tuple[bool, str | None]] = {
    "login": (True, None),
    "ping": (True, None),
    "list_chats": (True, "POST"),
    "list_threads": (True, "POST"),
    "get_chat": (True, "POST"),
    "start_chat": (True, "POST"),
    "resume_chat": (True, "POST"),
    "deactivate_chat": (True, "POST"),
    "send_event": (True, "POST"),
    "delete_event": (True, "POST"),
    "upload_file": (False, "POST"),
    "send_rich_message_postback": (True, "POST"),
    "send_sneak_peek": (True, "POST"),
    "update_chat_properties": (True, "POST"),
    "delete_chat_properties": (True, "POST"),
    "update_thread_properties": (True, "POST"),
    "delete_thread_properties": (True, "POST"),
    "update_event_properties": (True, "POST"),
    "delete_event_properties": (True, "POST"),
    "list_license_properties": (False, "GET"),
    "list_group_properties": (False, "GET"),
    "update_customer": (True, "POST"),
    "update_customer_page": (True, None),
    "set_customer_session_fields": (True, "POST"),
    "get_customer": (True, "POST"),
    "list_group_statuses": (True, "POST"),
    "get_form": (True, "POST"),
    "get_predicted_agent": (True, "POST"),
    "get_url_info": (True, "POST"),
    "mark_events_as_seen": (True, "POST"),
    "accept_greeting": (True, "POST"),
    "cancel_greeting": (True, "POST"),
    "send_greeting_button_clicked": (True, "POST"),
    "request_welcome_message": (True, "POST"),
    "request_email_verification": (False, "POST"),
    "check_goals": (False, "POST"),
    "get_dynamic_configuration": (False, "GET"),
    "get_configuration": (False, "GET"),
    "get_localization": (False, "GET"),
    # lc-sdk-python only (python-building-blocks.md A.3)
    "activate_customer_page": (True, None),
    "deactivate_customer_page": (True, None),
}
LC_SDK_ONLY = ["activate_customer_page", "deactivate_customer_page"]
"""Actions the official Python SDK (lc-sdk-python, v3.6) sends that the reference
does not list; the catalogue and the SDK have them too."""

ACTIONS = [action for action in METHOD_TABLE if action not in LC_SDK_ONLY]
"""The actions of docs/protocol.md §2.0, in order: 38 documented, and ping."""

# docs/protocol.md §3, in its order: the 29 pushes.
PUSH_NAMES = [
    "incoming_chat",
    "chat_deactivated",
    "chat_transferred",
    "user_added_to_chat",
    "user_removed_from_chat",
    "incoming_event_preview",
    "incoming_event",
    "event_deleted",
    "event_updated",
    "incoming_rich_message_postback",
    "chat_properties_updated",
    "chat_properties_deleted",
    "thread_properties_updated",
    "thread_properties_deleted",
    "event_properties_updated",
    "event_properties_deleted",
    "customer_updated",
    "customer_side_storage_updated",
    "customer_disconnected",
    "groups_status_updated",
    "incoming_thinking_indicator",
    "incoming_typing_indicator",
    "incoming_multicast",
    "events_marked_as_seen",
    "incoming_greeting",
    "greeting_accepted",
    "greeting_canceled",
    "incoming_welcome_message",
    "queue_position_updated",
]
