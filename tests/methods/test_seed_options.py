"""The seed's options objects, and the refusals around them, against the sandbox.

Each refusal is an :class:`InvalidArgumentError` whose message names the cause,
raised before anything is sent (the sandbox's request count does not move).
The accepted forms are in tests/scenarios/test_seed_literal.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import msgspec.inspect
import pytest

from rxlivechat import (
    Access,
    CustomerSDK,
    InvalidArgumentError,
    LimitReachedError,
    Message,
)
from rxlivechat.methods import validate
from rxlivechat.protocol import methods as m
from rxlivechat.sandbox import Sandbox

pytestmark = pytest.mark.timeout(60)

CHAT = "PJ0MRSHTDG"  # refused before any request: no chat needed


def refused(
    sdk: CustomerSDK, sandbox: Sandbox, call: Callable[[CustomerSDK], Any], cause: str
) -> None:
    """``call(sdk)`` raises InvalidArgumentError naming ``cause``; nothing is sent."""
    before = sandbox.count()
    with pytest.raises(InvalidArgumentError, match=re.escape(cause)):
        call(sdk)
    assert sandbox.count() == before


# Options objects: snake_case keys, the camelCase one refused naming the key to use ---

CAMEL_CASE = {
    "send_event meta": (
        lambda sdk: sdk.send_event(CHAT, Message(text="hi"), {"attachToLastThread": 1}),
        "meta: unknown option 'attachToLastThread'; "
        "did you mean 'attach_to_last_thread'?",
    ),
    "send_file data": (
        lambda sdk: sdk.send_file(CHAT, {"file": b"x", "customId": "f1"}),
        "data: unknown option 'customId'; did you mean 'custom_id'?",
    ),
    "send_file spec": (
        lambda sdk: sdk.send_file(CHAT, {"file": b"x"}, {"onProgress": print}),
        "spec: unknown option 'onProgress'; did you mean 'on_progress'?",
    ),
    "get_chats_summary pagination": (
        lambda sdk: sdk.get_chats_summary({"offset": 0, "limt": 5}),
        "pagination: unknown option 'limt'; did you mean 'limit'?",
    ),
    "get_chat_threads_summary pagination": (
        lambda sdk: sdk.get_chat_threads_summary(CHAT, {"pageSize": 5}),
        "pagination: unknown option 'pageSize' (options: limit, offset)",
    ),
    "rate_chat rating": (
        lambda sdk: sdk.rate_chat(CHAT, {"value": "good", "Comment": "ok"}),
        "rating: unknown option 'Comment'; did you mean 'comment'?",
    ),
    "send_postback postback": (
        lambda sdk: sdk.send_postback(CHAT, "T", "E", {"postbackId": "yes"}),
        "postback: unknown option 'postbackId'",
    ),
    "start_chat specification": (
        lambda sdk: sdk.start_chat({"events": [], "groupIds": [0]}),
        "specification: unknown option 'groupIds'",
    ),
}


@pytest.mark.parametrize("key", sorted(CAMEL_CASE))
def test_an_unknown_option_is_refused_naming_the_one_to_use(
    key: str, sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    call, cause = CAMEL_CASE[key]
    refused(sdk, sandbox, call, cause)


BOTH_FORMS = {
    "get_chats_summary": (
        lambda sdk: sdk.get_chats_summary({"offset": 0}, limit=5),
        "pass limit inside the pagination object or as an argument, not both",
    ),
    "get_chat_threads_summary": (
        lambda sdk: sdk.get_chat_threads_summary(CHAT, {"offset": 0}, 5),
        "pass limit inside the pagination object or as an argument, not both",
    ),
    "rate_chat comment": (
        lambda sdk: sdk.rate_chat(CHAT, {"score": 1}, "nice"),
        "pass comment inside the rating object or as an argument, not both",
    ),
    "rate_chat score and value": (
        lambda sdk: sdk.rate_chat(CHAT, 1, value="good"),
        "give the rating once: score or value",
    ),
    "rate_chat score and value in the object": (
        lambda sdk: sdk.rate_chat(CHAT, {"score": 1, "value": "good"}),
        "give the rating once: score or value",
    ),
    "send_file custom_id": (
        lambda sdk: sdk.send_file(
            CHAT, {"file": b"x"}, "f1"
        ),  # the custom_id goes inside data
        "pass custom_id inside the data object or as an argument, not both",
    ),
    "send_file on_progress": (
        lambda sdk: sdk.send_file(CHAT, b"x", {"on_progress": print}, print),
        "pass on_progress inside the spec object or as an argument, not both",
    ),
    "send_postback toggled": (
        lambda sdk: sdk.send_postback(CHAT, "T", "E", {"id": "yes"}, False),
        "pass toggled inside the postback object or as an argument, not both",
    ),
    "start_chat access": (
        lambda sdk: sdk.start_chat({"events": []}, {"group_ids": [0]}),
        "pass access inside the specification object or as an argument, not both",
    ),
    "start_chat scope and access": (
        lambda sdk: sdk.start_chat(
            {"scope": {"group_ids": [0]}, "access": {"group_ids": [0]}}
        ),
        "specification: give scope or access (its v3.6 name), not both",
    ),
}


@pytest.mark.parametrize("key", sorted(BOTH_FORMS))
def test_one_form_or_the_other(key: str, sdk: CustomerSDK, sandbox: Sandbox) -> None:
    call, cause = BOTH_FORMS[key]
    refused(sdk, sandbox, call, cause)


BAD_VALUES = {
    "a dict as the score is read, a bad score named": (
        lambda sdk: sdk.rate_chat(CHAT, {"value": "great"}),
        "score must be 0, 1, 'good' or 'bad', not 'great'",
    ),
    "an unhashable score": (
        lambda sdk: sdk.rate_chat(CHAT, [1]),
        "score must be 0, 1, 'good' or 'bad', not [1]",
    ),
    "no score at all": (
        lambda sdk: sdk.rate_chat(CHAT, comment="no score"),
        "rate_chat needs a score",
    ),
    "a bool is not a score": (
        lambda sdk: sdk.rate_chat(CHAT, value=True),
        "score must be 0, 1, 'good' or 'bad', not True",
    ),
    "a bad offset inside pagination": (
        lambda sdk: sdk.get_chats_summary({"offset": "0"}),
        "offset must be int, not str",
    ),
    "a limit over the seed's max": (
        lambda sdk: sdk.get_chats_summary({"limit": 26}),
        "limit must be between 1 and 25, not 26",
    ),
    "one event where a list is due": (
        lambda sdk: sdk.start_chat({"type": "message", "text": "hi"}),
        "events must be a list of events, not one event",
    ),
    "data without a file": (
        lambda sdk: sdk.send_file(CHAT, {"custom_id": "f1"}),
        "data needs the 'file' to send",
    ),
    "on_progress not callable": (
        lambda sdk: sdk.send_file(CHAT, {"file": b"x"}, {"on_progress": 0.5}),
        "on_progress must be callable, not float",
    ),
    "a custom_id that is not a str": (
        lambda sdk: sdk.send_file(CHAT, {"file": b"x", "custom_id": 7}),
        "custom_id must be str, not int",
    ),
    "postback toggled not a bool": (
        lambda sdk: sdk.send_postback(CHAT, "T", "E", {"id": "yes", "toggled": "y"}),
        "postback.toggled must be bool, not str",
    ),
    "postback without an id": (
        lambda sdk: sdk.send_postback(CHAT, "T", "E", {"toggled": True}),
        "postback.id must be str, not NoneType",
    ),
    "attach_to_last_thread not a bool": (
        lambda sdk: sdk.send_event(
            CHAT, Message(text="hi"), {"attach_to_last_thread": "yes"}
        ),
        "attach_to_last_thread must be bool, not str",
    ),
    "a session field value that is not a str": (
        lambda sdk: sdk.update_customer(fields={"n": 1}),
        "fields['n'] must be str, not int",
    ),
    "a session field key that is not a str": (
        lambda sdk: sdk.update_customer(fields={1: "one"}),
        "fields key must be str, not int",
    ),
    "a name that is not a str (field named, not a wire path)": (
        lambda sdk: sdk.update_customer(name=5),
        "invalid update_customer request: name: expected str | null, got int",
    ),
}


@pytest.mark.parametrize("key", sorted(BAD_VALUES))
def test_a_bad_value_is_refused_naming_it(
    key: str, sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    call, cause = BAD_VALUES[key]
    refused(sdk, sandbox, call, cause)


# Text that cannot be sent ----------------------------------------------------------

LONE = "caf\u00e9 \ud83d!"  # half of an emoji at position 5 (code points)

SURROGATES = {
    "a message Struct": (
        lambda sdk: sdk.send_event(CHAT, Message(text=LONE)),
        "send_event.event.text has a lone surrogate '\\ud83d' at position 5",
    ),
    "a message dict": (
        lambda sdk: sdk.send_event(CHAT, {"type": "message", "text": LONE}),
        "send_event.event.text has a lone surrogate '\\ud83d' at position 5",
    ),
    "start_chat's events": (
        lambda sdk: sdk.start_chat({"events": [{"type": "message", "text": LONE}]}),
        "start_chat.chat.thread.events[0].text has a lone surrogate",
    ),
    "a sneak peek": (
        lambda sdk: sdk.set_sneak_peek(CHAT, LONE),
        "text has a lone surrogate '\\ud83d' at position 5",
    ),
    "a rating comment": (
        lambda sdk: sdk.rate_chat(CHAT, {"value": "good", "comment": LONE}),
        "comment has a lone surrogate '\\ud83d' at position 5",
    ),
    "a chat id": (
        lambda sdk: sdk.close_thread("PJ0\udc00"),
        "chat_id has a lone surrogate '\\udc00' at position 3",
    ),
    "a session field": (
        lambda sdk: sdk.update_customer(fields={"plan": LONE}),
        "fields['plan'] has a lone surrogate '\\ud83d' at position 5",
    ),
    "a customer name": (
        lambda sdk: sdk.update_customer(name=LONE),
        "update_customer.name has a lone surrogate '\\ud83d' at position 5",
    ),
    "a property value, deep down": (
        lambda sdk: sdk.update_chat_properties(CHAT, {"shop": {"note": ["ok", LONE]}}),
        "update_chat_properties.properties.shop.note[1] has a lone surrogate",
    ),
    "a property name": (
        lambda sdk: sdk.update_chat_properties(CHAT, {"shop": {LONE: 1}}),
        "has a lone surrogate '\\ud83d' at position 5",
    ),
    "a raw call()": (
        lambda sdk: sdk.call(m.SendSneakPeek(chat_id=CHAT, sneak_peek_text=LONE)),
        "send_sneak_peek.sneak_peek_text has a lone surrogate",
    ),
}


@pytest.mark.parametrize("key", sorted(SURROGATES))
def test_a_lone_surrogate_is_refused_before_sending(
    key: str, sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    call, cause = SURROGATES[key]
    refused(sdk, sandbox, call, cause)


async def test_a_surrogate_pair_is_text_and_is_sent(sdk: CustomerSDK) -> None:
    chat = await sdk.start_chat()
    joined = "caf\u00e9 \ud83d\ude00!".encode("utf-16", "surrogatepass").decode(
        "utf-16"
    )
    sent = await sdk.send_event(chat.id, {"type": "message", "text": joined})
    assert isinstance(sent, Message)
    assert sent.text == "caf\u00e9 \U0001f600!"


# Hints ------------------------------------------------------------------------------


async def test_a_second_start_chat_points_at_resume_chat(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    await sdk.start_chat()  # the sandbox's default: one chat per customer
    with pytest.raises(LimitReachedError) as reached:
        await sdk.start_chat()
    assert reached.value.hint is not None
    for named in ("resume_chat", "chats_per_customer"):
        assert named in reached.value.hint
        assert named in str(reached.value)
    assert reached.value.message == "Chat limit reached"  # the server's, untouched


async def test_other_limits_carry_no_start_chat_hint(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    chat = await sdk.start_chat()
    sandbox.fail_next("send_event", "limit_reached")
    with pytest.raises(LimitReachedError) as reached:
        await sdk.send_event(chat.id, Message(text="hi"))
    assert reached.value.hint is None
    assert "resume_chat" not in str(reached.value)


# Plain dicts cost no type introspection per call ------------------------------------


def test_plain_dicts_inspect_types_once(monkeypatch: pytest.MonkeyPatch) -> None:
    event = {"type": "rich_message", "template_id": "cards", "elements": [{}]}
    message = {"type": "message", "text": "hi"}
    for _ in range(2):  # the first call describes each type, once
        validate.to_event(event)
        validate.to_event(message)
        validate.to_model({"group_ids": [0]}, Access, "access")
    calls: list[Any] = []
    real = msgspec.inspect.type_info

    def counting(kind: Any) -> Any:
        calls.append(kind)
        return real(kind)

    monkeypatch.setattr(msgspec.inspect, "type_info", counting)
    for _ in range(3):
        validate.to_event(event)
        validate.to_event(message)
        validate.to_model({"group_ids": [0]}, Access, "access")
    assert calls == []


# rate_chat's keyword forms ------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "stored"),
    [
        (lambda sdk, chat: sdk.rate_chat(chat, value="bad"), {"score": 0}),
        (
            lambda sdk, chat: sdk.rate_chat(chat, score=1, comment="ok"),
            {"score": 1, "comment": "ok"},
        ),
        (
            lambda sdk, chat: sdk.rate_chat(chat, "good", "ok"),
            {"score": 1, "comment": "ok"},
        ),
        (lambda sdk, chat: sdk.rate_chat(chat, {"score": 0}), {"score": 0}),
    ],
)
async def test_rate_chat_takes_the_score_under_either_name(
    sdk: CustomerSDK,
    sandbox: Sandbox,
    call: Callable[[CustomerSDK, str], Any],
    stored: dict[str, Any],
) -> None:
    chat = await sdk.start_chat()
    assert chat.thread is not None
    await call(sdk, chat.id)
    thread = sandbox.store.chats[chat.id].thread(chat.thread.id)
    assert thread.properties["rating"] == stored
