"""The typed catalogue: every JSON example of the docs converts and re-encodes.

Each vector is converted with ``msgspec.convert`` into its model, method or push
type and turned back with ``msgspec.to_builtins``; the two must be equal once
empty values are dropped and timestamps parsed (``tests/vectors.normalize``).

Where the docs are wrong, or print a placeholder instead of content, the test
asserts the deviation is still there and tests what the docs should have said
(:data:`DOC_BUGS`); nothing is skipped.
"""

from __future__ import annotations

import copy
import json
import re
import typing
from collections.abc import Callable
from typing import Any, NamedTuple

import msgspec
import pytest

from rxlivechat.protocol import methods, pushes
from rxlivechat.protocol.base import METHODS, PUSHES, VERSIONED, EmptyResult, Method
from rxlivechat.protocol.models import (
    EVENT_TYPES,
    Access,
    Agent,
    Chat,
    ChatSummary,
    Custom,
    Customer,
    Event,
    File,
    FilledForm,
    FilledFormField,
    Form,
    FormDefinition,
    FormField,
    FormOption,
    Message,
    Properties,
    RichMessage,
    SystemEvent,
    SystemMessage,
    Thread,
    UnknownEvent,
    User,
)

from ..digest import LC_SDK_ONLY, METHOD_TABLE, PUSH_NAMES
from ..vectors import VECTORS_DIR, load, normalize, params

# ---------------------------------------------------------------------------
# ---------------------------------------------------------------------------
# Known deviations of the docs' samples (docs/protocol.md §9, vectors/INDEX.md)

KeyPath = tuple[str | int, ...]
Fix = Callable[[str, Any], None]
"""Asserts one deviation in a vector's payload (a deep copy) and corrects it."""


class DocBug(NamedTuple):
    """Why a vector deviates, and the fixes that turn it into what it means."""

    reason: str
    fixes: tuple[Fix, ...]


def _parent(doc: Any, path: KeyPath) -> Any:
    for key in path[:-1]:
        doc = doc[key]
    return doc


def _comments(stem: str) -> list[str]:
    comments: dict[str, list[str]] = json.loads(
        (VECTORS_DIR / "meta" / "comments.json").read_text()
    )
    return comments.get(stem, [])


def placeholder(path: KeyPath, hint: str, source: str, key: str | None = None) -> Fix:
    """The docs print ``// "<hint>" object`` where content belongs: fill it in.

    The filling comes from another vector (``source``, optionally its ``key``).
    """

    def fix(name: str, payload: Any) -> None:
        parent = _parent(payload, path)
        assert parent[path[-1]] in ({}, []), f"{path} is no longer a placeholder"
        assert any(hint in line for line in _comments(name.removesuffix(".json")))
        filling = load(source)
        parent[path[-1]] = filling[key] if key else filling

    return fix


def rename(path: KeyPath, old: str, new: str) -> Fix:
    """The docs misspell a key."""

    def fix(name: str, payload: Any) -> None:
        obj = _parent(payload, (*path, old))
        assert old in obj, f"{name}: {old!r} is gone from {path}"
        assert new not in obj
        obj[new] = obj.pop(old)

    return fix


def drop(path: KeyPath, key: str) -> Fix:
    """The docs show a key that is not part of the object."""

    def fix(name: str, payload: Any) -> None:
        obj = _parent(payload, (*path, key))
        assert key in obj, f"{name}: {key!r} is gone from {path}"
        del obj[key]

    return fix


def add(path: KeyPath, key: str, value: Any) -> Fix:
    """The docs leave out a key that our encoding always writes."""

    def fix(name: str, payload: Any) -> None:
        obj = _parent(payload, (*path, key))
        assert key not in obj, f"{name}: {key!r} is now in {path}"
        obj[key] = value

    return fix


def single_thread(name: str, payload: Any) -> None:
    """The Chat sample holds ``threads: [Thread]``; a Chat has one ``thread``."""
    assert "thread" not in payload
    (thread,) = payload.pop("threads")
    payload["thread"] = thread


_EVENT_HINT = '"Event > Message" object'

DOC_BUGS: dict[str, DocBug] = {
    # Data structures
    "struct.chat.json": DocBug(
        "docs/protocol.md §9.3: `threads` list, not `thread`; `properites` (sic)",
        (
            single_thread,
            rename(("thread",), "properites", "properties"),
            rename((), "properites", "properties"),
        ),
    ),
    "struct.chat_summary.json": DocBug(
        "docs/protocol.md §9.3: `properites` (sic)",
        (rename((), "properites", "properties"),),
    ),
    # Requests
    "get_customer.request.json": DocBug(
        "docs/protocol.md §9.2: get_customer takes no fields; session_fields is noise",
        (drop((), "session_fields"),),
    ),
    # Responses
    "login.response.json": DocBug(
        "greeting.event is a placeholder; the customer sample omits `type`, "
        "which a Customer always writes",
        (
            placeholder(
                ("greeting", "event"), _EVENT_HINT, "struct.event.message.json"
            ),
            add(("customer",), "type", "customer"),
        ),
    ),
    "get_form.response.json": DocBug(
        "`form` is a placeholder",
        (placeholder(("form",), '"Form" object', "struct.form.json"),),
    ),
    "web.get_form.response.json": DocBug(
        "`form` is a placeholder",
        (placeholder(("form",), '"Form" object', "struct.form.json"),),
    ),
    "web.get_configuration.response.json": DocBug(
        "`ticket_form` and `prechat_form` are placeholders",
        (
            placeholder(("ticket_form",), '"Form" object', "struct.form.json"),
            placeholder(("prechat_form",), '"Form" object', "struct.form.json"),
        ),
    ),
    # Pushes
    "incoming_chat.push.json": DocBug(
        "users, properties, access and thread are placeholders",
        (
            placeholder(
                ("chat", "users"), '"User" objects', "struct.chat.json", "users"
            ),
            placeholder(
                ("chat", "properties"),
                '"Properties" object',
                "struct.properties.json",
                "properties",
            ),
            placeholder(
                ("chat", "access"), '"Access" object', "struct.access.json", "access"
            ),
            placeholder(("chat", "thread"), '"Thread" object', "struct.thread.json"),
        ),
    ),
    "event_updated.push.json": DocBug(
        "`event` is a placeholder",
        (placeholder(("event",), '"Event" object', "struct.event.rich_message.json"),),
    ),
    "user_added_to_chat.push.json": DocBug(
        "`user` is a placeholder",
        (placeholder(("user",), '"User > Agent" object', "struct.user.agent.json"),),
    ),
    "incoming_greeting.push.json": DocBug(
        "`event` is a placeholder",
        (placeholder(("event",), _EVENT_HINT, "struct.event.message.json"),),
    ),
}

# Frame-level deviations: vector -> (what the frame says, reason).
FRAME_ACTION_BUGS: dict[str, tuple[str, str]] = {
    "list_threads.response.json": (
        "get_chat",
        "docs/protocol.md §9.2: the sample frame says action `get_chat`",
    ),
}
REQUEST_ID_PLACEHOLDER = "<request_id>"  # docs samples keep it literally
# Vectors the docs print as the payload only, although their neighbours are frames.
PAYLOAD_ONLY_RESPONSES = {"get_form.response.json"}
# Push samples the docs print as whole frames (docs/protocol.md §3, "Docs quirk").
FRAME_SHAPED_PUSHES = {
    "incoming_greeting.push.json",
    "greeting_accepted.push.json",
    "greeting_canceled.push.json",
    "incoming_welcome_message.push.json",
    "queue_position_updated.push.json",
}
# Vectors this file does not test, and why.
NOT_HERE = {
    "_general.request.json": "frame template (tests/protocol/test_codec.py)",
    "_general.response.json": "frame template",
    "_general.push.json": "frame template",
    "_general.push.pushes_doc.json": "frame template",
    "_error.json": "error object (frames.ErrorBody)",
    "web._error.json": "error object (frames.ErrorBody)",
}

# ---------------------------------------------------------------------------
# Helpers


def _fixed(name: str, payload: Any) -> Any:
    payload = copy.deepcopy(payload)
    bug = DOC_BUGS.get(name)
    for fix in bug.fixes if bug else ():
        try:
            fix(name, payload)
        except AssertionError as exc:
            raise AssertionError(f"{name}: doc bug changed ({bug}): {exc}") from exc
    return payload


def _round_trip(payload: Any, tp: Any) -> Any:
    """Convert ``payload`` into ``tp``, re-encode it, and compare."""
    value = msgspec.convert(payload, tp)
    assert normalize(msgspec.to_builtins(value)) == normalize(payload)
    return value


def _camel(action: str) -> str:
    return "".join(part.capitalize() for part in action.split("_"))


def _frame_payload(name: str, doc: Any, action: str) -> Any:
    """The payload of an RTM frame vector, checking the frame around it."""
    if name.startswith("web."):
        return doc  # a Web API body is the payload itself
    if name in PAYLOAD_ONLY_RESPONSES:
        assert "action" not in doc
        return doc
    expected, _ = FRAME_ACTION_BUGS.get(name, (action, ""))
    assert doc["action"] == expected
    assert doc.get("request_id", REQUEST_ID_PLACEHOLDER) in {
        REQUEST_ID_PLACEHOLDER,
        "125",  # send_rich_message_postback.request.full
    }
    return doc["payload"]


_REQUEST = re.compile(r"^(?:web\.)?(?P<action>[a-z][a-z_]*)\.request(?:\.\w+)?\.json$")
_RESPONSE = re.compile(r"^(?:web\.)?(?P<action>[a-z][a-z_]*)\.response\.json$")
_PUSH = re.compile(r"^(?P<action>[a-z][a-z_]*)\.push\.json$")
_STRUCT = re.compile(r"^struct\..*\.json$")


def _need_vectors() -> None:
    if not VECTORS_DIR.is_dir():
        pytest.skip(f"no protocol vectors at {VECTORS_DIR} (not a team checkout)")


def _matching(pattern: re.Pattern[str], suffix: str) -> list[Any]:
    return [p for p in params(suffix) if not isinstance(p, str) or pattern.match(p)]


# ---------------------------------------------------------------------------
# (a) Data structures

# vector -> (key the sample wraps the object in, or None; type; expected class)
STRUCTS: dict[str, tuple[str | None, Any, type | None]] = {
    "struct.access.json": ("access", Access, None),
    "struct.chat.json": (None, Chat, None),
    "struct.chat_summary.json": (None, ChatSummary, None),
    "struct.event.custom.json": (None, Event, Custom),
    "struct.event.file.json": (None, Event, File),
    "struct.event.filled_form.json": (None, Event, FilledForm),
    "struct.event.form.json": (None, Event, Form),
    "struct.event.message.json": (None, Event, Message),
    "struct.event.rich_message.json": (None, Event, RichMessage),
    "struct.event.system.json": (None, Event, SystemEvent),
    "struct.event.system_message.json": (None, Event, SystemMessage),
    "struct.filled_form_fields.json": ("fields", list[FilledFormField], None),
    "struct.form.json": (None, FormDefinition, None),
    "struct.form_fields.json": ("fields", list[FormField], None),
    "struct.properties.json": ("properties", Properties, None),
    "struct.thread.json": (None, Thread, None),
    "struct.user.agent.json": (None, User, Agent),
    "struct.user.customer.json": (None, User, Customer),
}


def test_every_vector_has_a_home() -> None:
    _need_vectors()
    for path in sorted(VECTORS_DIR.glob("*.json")):
        homed = path.name in NOT_HERE or any(
            p.match(path.name) for p in (_STRUCT, _REQUEST, _RESPONSE, _PUSH)
        )
        assert homed, f"{path.name}: new vector, map it in this file"
    assert set(STRUCTS) == {
        p.name for p in VECTORS_DIR.glob("*.json") if _STRUCT.match(p.name)
    }
    assert set(DOC_BUGS) <= {p.name for p in VECTORS_DIR.glob("*.json")}


@pytest.mark.parametrize("name", _matching(_STRUCT, ".json"))
def test_struct_vector_round_trips(name: str) -> None:
    key, tp, cls = STRUCTS[name]
    doc = load(name)
    if key is not None:
        assert list(doc) == [key], "the sample wraps the object in its field name"
        doc = doc[key]
    value = _round_trip(_fixed(name, doc), tp)
    if cls is not None:
        assert type(value) is cls


def test_filled_form_answers_keep_their_shape() -> None:
    _need_vectors()
    fields = msgspec.convert(
        load("struct.filled_form_fields.json")["fields"], list[FilledFormField]
    )
    by_type = {field.type: field for field in fields}
    assert by_type["name"].answer == "Thomas Anderson"
    assert by_type["radio"].answer == FormOption(id="0", label="Support")
    assert by_type["group_chooser"].answer == FormOption(
        id="2", label="Marketing", group_id=1
    )
    assert by_type["checkbox"].answers is not None
    assert [a.label for a in by_type["checkbox"].answers] == ["automotive", "it"]


# ---------------------------------------------------------------------------
# (b) Pushes


@pytest.mark.parametrize("name", _matching(_PUSH, ".push.json"))
def test_push_vector_round_trips(name: str) -> None:
    match = _PUSH.match(name)
    assert match is not None
    push = match["action"]
    doc = load(name)
    is_frame = "action" in doc and doc.get("type") == "push"
    assert is_frame == (name in FRAME_SHAPED_PUSHES)
    if is_frame:
        assert doc["action"] == push
        doc = doc["payload"]
    value = _round_trip(_fixed(name, doc), PUSHES[push])
    assert type(value).action == push


def test_customer_updated_holds_a_whole_customer() -> None:
    _need_vectors()
    assert load("customer_updated.push.json") == {}  # the docs show a comment only
    assert any('"User > Customer"' in c for c in _comments("customer_updated.push"))
    _round_trip(load("struct.user.customer.json"), pushes.CustomerUpdated)


# ---------------------------------------------------------------------------
# (c) Requests and responses


@pytest.mark.parametrize("name", _matching(_REQUEST, ".json"))
def test_request_vector_round_trips(name: str) -> None:
    match = _REQUEST.match(name)
    assert match is not None
    action = match["action"]
    payload = _frame_payload(name, load(name), action)
    value = _round_trip(_fixed(name, payload), METHODS[action])
    assert type(value).action == action


@pytest.mark.parametrize("name", _matching(_RESPONSE, ".response.json"))
def test_response_vector_round_trips(name: str) -> None:
    match = _RESPONSE.match(name)
    assert match is not None
    action = match["action"]
    doc = load(name)
    if not name.startswith("web.") and name not in PAYLOAD_ONLY_RESPONSES:
        assert doc["type"] == "response"
        assert doc["success"] is True
    payload = _frame_payload(name, doc, action)
    _round_trip(_fixed(name, payload), METHODS[action].result_type)


# ---------------------------------------------------------------------------
# (d) Coverage of the digest's tables, and the catalogue's conventions


def test_methods_cover_the_digest_table() -> None:
    assert set(METHODS) == set(METHOD_TABLE)
    documented = set(METHOD_TABLE) - set(LC_SDK_ONLY)
    assert len(documented) == 39  # 38 documented actions + ping
    assert sum(METHOD_TABLE[a][0] for a in documented) == 31  # 30 RTM + ping
    assert sum(METHOD_TABLE[a][1] is not None for a in documented) == 36  # Web
    for action, (rtm, web) in METHOD_TABLE.items():
        cls = METHODS[action]
        assert (cls.rtm, cls.web) == (rtm, web), action
        assert cls.action == action
        assert cls.__name__ == _camel(action)
        assert getattr(methods, cls.__name__) is cls


def test_result_types() -> None:
    for action, cls in METHODS.items():
        name = cls.__name__ + "Result"
        if hasattr(methods, name):
            assert cls.result_type == getattr(methods, name), action
        else:
            assert cls.result_type is EmptyResult, action
    assert METHODS["get_chat"].result_type is Chat
    assert METHODS["get_customer"].result_type is Customer
    assert METHODS["get_localization"].result_type == dict[str, str]
    assert METHODS["list_license_properties"].result_type == Properties


def test_pushes_cover_the_digest_table() -> None:
    assert set(PUSHES) == set(PUSH_NAMES)
    assert len(PUSHES) == 29
    for push, cls in PUSHES.items():
        assert cls.__name__ == _camel(push)
        assert getattr(pushes, cls.__name__) is cls


def test_event_types_match_the_union() -> None:
    tags = {cls.__struct_config__.tag for cls in typing.get_args(Event)}
    assert tags - {"unknown"} == EVENT_TYPES
    assert "unknown" not in EVENT_TYPES


def test_an_event_to_send_carries_only_what_was_set() -> None:
    request = methods.SendEvent(chat_id="PJ0MRSHTDG", event=Message(text="hi"))
    assert msgspec.to_builtins(request) == {
        "chat_id": "PJ0MRSHTDG",
        "event": {"type": "message", "text": "hi"},
    }


def test_unknown_event_is_a_member_of_the_union() -> None:
    event = UnknownEvent(original_type="poll", fields={"question": "?"}, id="X_1")
    doc = msgspec.to_builtins(event)
    assert doc["type"] == "unknown"
    assert msgspec.convert(doc, Event) == event
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"type": "poll", "question": "?"}, Event)


def test_login_private_config_keeps_its_wire_name() -> None:
    result = methods.LoginResult(
        customer=Customer(id="c"), priv_dynamic_config={"online_groups_ids": [1]}
    )
    doc = msgspec.to_builtins(result)
    assert doc["__priv_dynamic_config"] == {"online_groups_ids": [1]}


def test_typing_indicator_timestamp_is_unix_seconds() -> None:
    indicator = {"author_id": "a", "timestamp": 1574245378, "is_typing": True}
    push = msgspec.convert(
        {"chat_id": "C", "thread_id": "T", "typing_indicator": indicator},
        pushes.IncomingTypingIndicator,
    )
    assert push.typing_indicator.timestamp == 1574245378


def test_every_method_class_is_registered() -> None:
    for name in methods.__all__:
        value = getattr(methods, name)
        if isinstance(value, type) and issubclass(value, Method):
            if value.in_version is None:
                assert METHODS[value.action] is value
            else:  # another version's shape of a registered action
                assert VERSIONED[value.in_version, value.action] is value
                assert value.action in METHODS
