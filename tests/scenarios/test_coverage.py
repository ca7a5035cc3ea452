"""Coverage of the protocol: every v3.6 action has an SDK method, every push a
typed event on the stream, each exercised over the sandbox.

The lists are those of ``docs/protocol.md`` §2.0 and §3, held as data in
``tests/digest.py``. The test fails when:

* the catalogue (``METHODS``/``PUSHES``) and the digest's lists drift apart;
* an action has no ``CustomerSDK`` method named after it, or lacks the seed's
  name for it listed in :data:`SEED_NAMES`;
* a push has no :class:`PushPayload` class, no entry in :data:`PUSH_EVENTS`
  (the event it becomes and its payload type), or no test in
  ``tests/methods/test_actions.py`` that makes the sandbox send it and checks the event
  arrives typed (``pushed(seen, "<push>")``);
* a method added for an action is not called by any test.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rxlivechat import CustomerSDK, events as ev
from rxlivechat.engine import Engine, pings
from rxlivechat.protocol import pushes as p
from rxlivechat.protocol.base import METHODS, PUSHES, Model, PushPayload

from ..digest import ACTIONS, LC_SDK_ONLY, PUSH_NAMES

TESTS = Path(__file__).resolve().parents[1]

INTERNAL: dict[str, tuple[object, str]] = {
    "login": (Engine, "_login"),
    "ping": (pings, "ping_loop"),
}
"""Actions the SDK sends by itself (connecting, keeping the socket alive)."""

SEED_NAMES: dict[str, tuple[str, ...]] = {
    "send_sneak_peek": ("set_sneak_peek",),
    "update_thread_properties": ("update_chat_thread_properties",),
    "upload_file": ("send_file",),
    "deactivate_chat": ("close_thread",),
    "list_chats": ("get_chats_summary",),
    "list_threads": ("get_chat_threads_summary",),
    "mark_events_as_seen": ("update_last_seen_timestamp",),
    "send_rich_message_postback": ("send_postback",),
}
"""Actions with a seed (v1) method of another name too: every name listed must
exist, next to the method of the action's own name (which every action has)."""

PUSH_EVENTS: dict[str, dict[str, type[Any]]] = {
    "incoming_chat": {"incoming_chat": p.IncomingChat},
    "chat_deactivated": {"thread_closed": ev.ThreadClosed},
    "chat_transferred": {"chat_transferred": p.ChatTransferred},
    "user_added_to_chat": {"user_joined_chat": ev.UserInChat},
    "user_removed_from_chat": {"user_left_chat": ev.UserInChat},
    "incoming_event_preview": {"incoming_event_preview": p.IncomingEventPreview},
    "incoming_event": {"new_event": ev.NewEvent},
    "event_deleted": {"event_deleted": p.EventDeleted},
    "event_updated": {"event_updated": p.EventUpdated},
    "incoming_rich_message_postback": {
        "incoming_rich_message_postback": p.IncomingRichMessagePostback
    },
    "chat_properties_updated": {"chat_properties_updated": ev.ChatPropertiesUpdated},
    "chat_properties_deleted": {"chat_properties_deleted": p.ChatPropertiesDeleted},
    "thread_properties_updated": {
        "chat_thread_properties_updated": ev.ChatThreadPropertiesUpdated
    },
    "thread_properties_deleted": {
        "thread_properties_deleted": p.ThreadPropertiesDeleted
    },
    "event_properties_updated": {"event_properties_updated": p.EventPropertiesUpdated},
    "event_properties_deleted": {"event_properties_deleted": p.EventPropertiesDeleted},
    "customer_updated": {"user_data": p.CustomerUpdated},
    "customer_side_storage_updated": {
        "customer_side_storage_updated": p.CustomerSideStorageUpdated
    },
    "customer_disconnected": {"customer_disconnected": p.CustomerDisconnected},
    "groups_status_updated": {"groups_status_updated": p.GroupsStatusUpdated},
    "incoming_thinking_indicator": {
        "incoming_thinking_indicator": p.IncomingThinkingIndicator
    },
    "incoming_typing_indicator": {
        "user_is_typing": ev.UserTyping,
        "user_stopped_typing": ev.UserTyping,
    },
    "incoming_multicast": {"incoming_multicast": p.IncomingMulticast},
    "events_marked_as_seen": {
        "last_seen_timestamp_updated": ev.LastSeenTimestampUpdated
    },
    "incoming_greeting": {"incoming_greeting": p.IncomingGreeting},
    "greeting_accepted": {"greeting_accepted": p.GreetingAccepted},
    "greeting_canceled": {"greeting_canceled": p.GreetingCanceled},
    "incoming_welcome_message": {"incoming_welcome_message": p.IncomingWelcomeMessage},
    "queue_position_updated": {"queue_position_updated": p.QueuePositionUpdated},
}
"""Push → the SDK events it becomes, each with its payload type. The v1 names
come from docs/protocol.md §6.2; the other pushes keep their own name."""


def sdk_names(action: str) -> tuple[str, ...]:
    """The ``CustomerSDK`` methods that serve ``action``: its own name first."""
    return (action, *SEED_NAMES.get(action, ()))


# The lists and the catalogue ----------------------------------------------------------


def test_the_digest_lists_are_whole() -> None:
    assert len(ACTIONS) == len(set(ACTIONS)) == 39
    assert len(PUSH_NAMES) == len(set(PUSH_NAMES)) == 29


def test_the_catalogue_has_exactly_the_documented_actions() -> None:
    assert set(METHODS) == set(ACTIONS) | set(LC_SDK_ONLY)


def test_the_catalogue_has_exactly_the_documented_pushes() -> None:
    assert set(PUSHES) == set(PUSH_NAMES)


def test_every_push_has_an_event_mapping() -> None:
    assert set(PUSH_EVENTS) == set(PUSH_NAMES)


# Actions ------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ACTIONS + LC_SDK_ONLY)
def test_every_action_has_an_sdk_method(action: str) -> None:
    if action in INTERNAL:  # sent by the connection itself
        owner, sender = INTERNAL[action]
        assert callable(getattr(owner, sender, None))
        return
    for name in sdk_names(action):
        method = getattr(CustomerSDK, name, None)
        assert callable(method), f"{action}: CustomerSDK has no method {name}()"
        assert method.__doc__, f"{name}() has no docstring"


def test_every_action_method_is_called_by_a_test() -> None:
    called = set(_called_attributes())
    missing = {
        name
        for action in ACTIONS + LC_SDK_ONLY
        if action not in INTERNAL
        for name in sdk_names(action)
        if name not in called
    }
    assert not missing, f"no test calls sdk.{', sdk.'.join(sorted(missing))}()"


# Pushes -------------------------------------------------------------------------------


@pytest.mark.parametrize("push", PUSH_NAMES)
def test_every_push_is_typed(push: str) -> None:
    payload_type = PUSHES[push]
    assert issubclass(payload_type, PushPayload)
    assert payload_type.action == push
    for name, event_type in PUSH_EVENTS[push].items():
        assert issubclass(event_type, Model), f"{push} → {name} is not typed"
        if event_type.__module__ == p.__name__:
            # Passed through as it is: the event is the push's own payload.
            assert event_type is payload_type


def test_every_push_reaches_the_stream_in_a_sandbox_test() -> None:
    verified = set(_pushed_literals(TESTS / "methods" / "test_actions.py"))
    missing = sorted(set(PUSH_NAMES) - verified)
    assert not missing, f"no sandbox test makes these pushes reach the SDK: {missing}"


# Reading the tests --------------------------------------------------------------------


def _called_attributes() -> Iterator[str]:
    """``x.name`` of every call ``x.name(...)`` in the SDK tests."""
    for path in TESTS.rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                yield node.func.attr


def _pushed_literals(path: Path) -> Iterator[str]:
    """The push names given to ``pushed(seen, "<push>", ...)`` in ``path``."""
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "pushed"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            yield node.args[1].value
