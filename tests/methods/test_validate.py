"""Plain dicts wherever a model is taken, against the sandbox over sockets.

For every method parameter that takes a model (found by reading the
``CustomerSDK`` signatures, so a new one without a case fails here):

* the plain dict of the wire form sends the very request the typed Struct sends
  (the sandbox's recorded payloads are equal) and gives a result of the same type;
* a bad dict is refused before anything is sent (the sandbox records nothing),
  and the error names the field;
* a camelCase key, as in the JS SDK's docs, is refused naming the snake_case one.
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec
import pytest

from rxlivechat import (
    Access,
    CustomerSDK,
    InvalidArgumentError,
    Message,
    Postback,
    RichMessage,
)
from rxlivechat.methods.v1 import CustomerUpdate
from rxlivechat.protocol import methods as m
from rxlivechat.protocol.codec import decode
from rxlivechat.protocol.models import (
    Event,
    RichMessageButton,
    RichMessageElement,
)
from rxlivechat.sandbox import Sandbox

from ..helpers import connect

Run = Callable[[CustomerSDK, Sandbox, dict[str, str], Any], Awaitable[Any]]
Prepare = Callable[[CustomerSDK, Sandbox], Awaitable[dict[str, str]]]


@dataclass(frozen=True)
class Case:
    """One model parameter: how to call it, and the values to call it with."""

    action: str  # the request the sandbox records
    run: Run  # performs the call with the value (awaits it)
    typed: Any
    plain: dict[str, Any] | list[dict[str, Any]]
    bad: Any
    bad_error: str  # the message names the field
    camel: Any
    camel_error: str
    prepare: Prepare | None = None  # makes the chat/thread/event ids the call needs
    field: str | None = None  # compare this field of the payloads (default: all)


async def _chat(sdk: CustomerSDK, sandbox: Sandbox) -> dict[str, str]:
    chat = await sdk.start_chat()
    return {"chat": chat.id}


async def _inactive_chat(sdk: CustomerSDK, sandbox: Sandbox) -> dict[str, str]:
    chat = await sdk.start_chat()
    await sdk.deactivate_chat(chat.id)
    return {"chat": chat.id}


async def _rich_message(sdk: CustomerSDK, sandbox: Sandbox) -> dict[str, str]:
    chat = await sdk.start_chat()
    assert chat.thread is not None
    agent = sandbox.agent("Jane")
    await agent.join(chat.id)
    button = RichMessageButton(text="Yes", type="message", postback_id="yes")
    rich: RichMessage = await agent.send_rich_message(
        chat.id, [RichMessageElement(title="Ready?", buttons=[button])]
    )
    assert rich.id is not None
    return {"chat": chat.id, "thread": chat.thread.id, "event": rich.id}


async def _resume(sdk: CustomerSDK, ids: dict[str, str], **options: Any) -> Any:
    result = await sdk.resume_chat(ids["chat"], **options)
    await sdk.deactivate_chat(ids["chat"])  # inactive again for the next call
    return result


async def _login(sandbox: Sandbox, **options: Any) -> Any:
    sdk = connect(sandbox, **options)
    try:
        await sdk.wait_connected(timeout=10)
        return sdk.customer_id
    finally:
        await sdk.destroy()


CASES: dict[str, Case] = {
    "send_event.event": Case(
        action="send_event",
        prepare=_chat,
        run=lambda sdk, _, ids, v: sdk.send_event(ids["chat"], v),
        typed=Message(text="hi", custom_id="c1"),
        plain={"type": "message", "text": "hi", "custom_id": "c1"},
        bad={"type": "message", "text": 1},
        bad_error="event.text: expected str, got int",
        camel={"type": "message", "text": "hi", "customId": "c1"},
        camel_error="event: unknown field 'customId'; did you mean 'custom_id'?",
    ),
    "start_chat.events": Case(
        action="start_chat",
        run=lambda sdk, _, __, v: sdk.start_chat(v),
        typed=[Message(text="Hello"), Message(text="Anyone?", custom_id="c2")],
        plain=[
            {"type": "message", "text": "Hello"},
            {"type": "message", "text": "Anyone?", "custom_id": "c2"},
        ],
        bad=[{"type": "message", "text": "ok"}, {"type": "message"}],
        bad_error="events[1]: object missing required field 'text'",
        camel=[{"type": "file", "url": "https://x/a.png", "alternativeText": "a"}],
        camel_error="events[0]: unknown field 'alternativeText'; "
        "did you mean 'alternative_text'?",
    ),
    "start_chat.access": Case(
        action="start_chat",
        run=lambda sdk, _, __, v: sdk.start_chat(access=v),
        typed=Access(group_ids=[0]),
        plain={"group_ids": [0]},
        bad={"group_ids": ["zero"]},
        bad_error="access.group_ids[0]: expected int, got str",
        camel={"groupIds": [0]},
        camel_error="access: unknown field 'groupIds'; did you mean 'group_ids'?",
    ),
    "resume_chat.events": Case(
        action="resume_chat",
        prepare=_inactive_chat,
        run=lambda sdk, _, ids, v: _resume(sdk, ids, events=v),
        typed=[Message(text="Back again")],
        plain=[{"type": "message", "text": "Back again"}],
        bad=[{"type": "message", "text": ["Back"]}],
        bad_error="events[0].text: expected str, got array",
        camel=[{"type": "message", "text": "Back", "customID": "x"}],
        camel_error="events[0]: unknown field 'customID'",
    ),
    "resume_chat.access": Case(
        action="resume_chat",
        prepare=_inactive_chat,
        run=lambda sdk, _, ids, v: _resume(sdk, ids, access=v),
        typed=Access(group_ids=[0]),
        plain={"group_ids": [0]},
        bad={"group_ids": 0},
        bad_error="access.group_ids: expected array, got int",
        camel={"groupIDs": [0]},
        camel_error="access: unknown field 'groupIDs'",
    ),
    "send_rich_message_postback.postback": Case(
        action="send_rich_message_postback",
        prepare=_rich_message,
        run=lambda sdk, _, ids, v: sdk.send_rich_message_postback(
            ids["chat"], ids["thread"], ids["event"], v
        ),
        typed=Postback(id="yes", toggled=True, button_type="message"),
        plain={"id": "yes", "toggled": True, "button_type": "message"},
        bad={"id": "yes", "toggled": "yes"},
        bad_error="postback.toggled: expected bool, got str",
        camel={"id": "yes", "toggled": True, "buttonType": "message"},
        camel_error="postback: unknown field 'buttonType'; did you mean 'button_type'?",
    ),
    "update_customer.customer": Case(
        action="update_customer",
        run=lambda sdk, _, __, v: sdk.update_customer(v),
        typed=CustomerUpdate(name="Jane", fields={"plan": "pro"}),
        plain={"name": "Jane", "fields": {"plan": "pro"}},
        bad={"name": "Jane", "fields": {"plan": 3}},
        bad_error="customer.fields[...]: expected str, got int",
        camel={"name": "Jane", "sessionFields": [{"plan": "pro"}]},
        camel_error="customer: unknown field 'sessionFields'",
    ),
    "update_customer_page.url": Case(
        action="update_customer_page",
        run=lambda sdk, _, __, v: sdk.update_customer_page(v),
        typed=m.CustomerPage(url="https://example.com/pricing", title="Pricing"),
        plain={"url": "https://example.com/pricing", "title": "Pricing"},
        bad={"title": "Pricing"},
        bad_error="page: object missing required field 'url'",
        camel={"url": "https://example.com/", "pageTitle": "Home"},
        camel_error="page: unknown field 'pageTitle'",
    ),
    "__init__.customer": Case(
        action="login",
        field="customer",
        run=lambda _, sandbox, __, v: _login(sandbox, customer=v),
        typed=m.LoginCustomer(name="Jane", session_fields=[{"plan": "pro"}]),
        plain={"name": "Jane", "session_fields": [{"plan": "pro"}]},
        bad={"name": "Jane", "session_fields": {"plan": "pro"}},
        bad_error="customer.session_fields: expected array | null, got object",
        camel={"name": "Jane", "sessionFields": [{"plan": "pro"}]},
        camel_error="customer: unknown field 'sessionFields'; "
        "did you mean 'session_fields'?",
    ),
    "__init__.page": Case(
        action="login",
        field="customer_page",
        run=lambda _, sandbox, __, v: _login(sandbox, page=v),
        typed=m.CustomerPage(url="https://example.com/", title="Home"),
        plain={"url": "https://example.com/", "title": "Home"},
        bad={"url": None},
        bad_error="page.url: expected str, got null",
        camel={"URL": "https://example.com/"},
        camel_error="page: unknown field 'URL'",
    ),
    "__init__.application": Case(
        action="login",
        field="application",
        run=lambda _, sandbox, __, v: _login(sandbox, application=v),
        typed=m.Application(name="shop-bot", version="1.2", channel_type="code"),
        plain={"name": "shop-bot", "version": "1.2", "channel_type": "code"},
        bad={"name": "shop-bot", "version": 1.2},
        bad_error="application.version: expected str | null, got float",
        camel={"name": "shop-bot", "channelType": "code"},
        camel_error="application: unknown field 'channelType'; "
        "did you mean 'channel_type'?",
    ),
}


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """A sandbox where a customer may have several chats (one per case call)."""
    async with Sandbox(chats_per_customer=10) as server:
        yield server


# Every model parameter has a case ---------------------------------------------------


def _takes_a_model(annotation: str, namespace: dict[str, Any]) -> bool:
    """Whether a (string) annotation names a Struct, or the ``Event`` union."""
    for name in re.findall(r"[A-Za-z_][\w.]*", annotation):
        try:
            kind = eval(name, namespace)  # names the SDK's own modules import
        except Exception:
            continue
        if kind is Event:
            return True
        if isinstance(kind, type) and issubclass(kind, msgspec.Struct):
            return True
    return False


def _is_a_model(hint: Any) -> bool:
    """Whether a resolved annotation is, or holds, a Struct or the ``Event`` union."""
    if hint is Event or (isinstance(hint, type) and issubclass(hint, msgspec.Struct)):
        return True
    return any(_is_a_model(arg) for arg in typing.get_args(hint))


def model_parameters() -> set[str]:
    """``method.param`` of every public ``CustomerSDK`` parameter taking a model."""
    found = set()
    for name in dir(CustomerSDK):
        if name.startswith("_") and name != "__init__":
            continue
        function = inspect.getattr_static(CustomerSDK, name)
        if not isinstance(function, types.FunctionType):
            continue
        if not function.__module__.startswith("rxlivechat"):
            continue
        namespace = vars(inspect.getmodule(function))
        for param in list(inspect.signature(function).parameters.values())[1:]:
            hint = param.annotation  # a string, or an object (a declared action's)
            if (
                _takes_a_model(hint, namespace)
                if isinstance(hint, str)
                else _is_a_model(hint)
            ):
                found.add(f"{name}.{param.name}")
    return found


GENERIC = {"call.method", "web_call.method"}
"""Take a typed request (``Method``), whose dict form is the action's own method."""
HANDED_OUT = {"commit.event"}
"""Take an event the SDK handed out (nothing is sent): no dict form."""
RETURNED = {"__init__.token_provider"}
"""Take a callable that returns a model (the SDK reads it, sends nothing of it)."""


def test_every_model_parameter_has_a_case() -> None:
    found = model_parameters()
    assert GENERIC | {"send_event.event"} <= found  # the search finds what it should
    assert found - GENERIC - HANDED_OUT - RETURNED == set(CASES)


# The cases --------------------------------------------------------------------------


def _recorded(case: Case, sandbox: Sandbox) -> Any:
    payload = sandbox.requests.of(case.action)[-1].payload
    return _without_given_ids(getattr(payload, case.field) if case.field else payload)


def _without_given_ids(value: Any) -> Any:
    """``value`` as builtins, less the ids the SDK gave its events.

    Those are ``custom_id`` values ``rx-...``, new for each call (docs/concepts.md).
    """

    def strip(item: Any) -> Any:
        if isinstance(item, dict):
            return {
                k: strip(v)
                for k, v in item.items()
                if not (k == "custom_id" and str(v).startswith("rx-"))
            }
        if isinstance(item, list):
            return [strip(v) for v in item]
        return item

    return strip(msgspec.to_builtins(value))


@pytest.mark.parametrize("key", sorted(CASES))
async def test_a_plain_dict_sends_what_the_struct_sends(
    key: str, sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    case = CASES[key]
    ids = await case.prepare(sdk, sandbox) if case.prepare else {}
    typed_result = await case.run(sdk, sandbox, ids, case.typed)
    typed_request = _recorded(case, sandbox)
    plain_result = await case.run(sdk, sandbox, ids, case.plain)
    plain_request = _recorded(case, sandbox)
    assert plain_request == typed_request
    assert type(plain_result) is type(typed_result)
    if case.field:  # the login carried the model
        assert plain_request is not None


@pytest.mark.parametrize("key", sorted(CASES))
async def test_a_bad_dict_is_refused_before_sending_naming_the_field(
    key: str, sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    case = CASES[key]
    ids = await case.prepare(sdk, sandbox) if case.prepare else {}
    before = sandbox.count(case.action)
    with pytest.raises(InvalidArgumentError) as refused:
        await case.run(sdk, sandbox, ids, case.bad)
    assert case.bad_error in str(refused.value)
    with pytest.raises(InvalidArgumentError) as refused:
        await case.run(sdk, sandbox, ids, case.camel)
    assert case.camel_error in str(refused.value)
    assert sandbox.count(case.action) == before


async def test_an_unknown_event_type_is_refused_listing_the_known_ones(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    chat = await sdk.start_chat()
    for bad in ({"text": "no type"}, {"type": "unknown", "text": "x"}):
        with pytest.raises(InvalidArgumentError, match=r"event\.type must be one of"):
            sdk.send_event(chat.id, bad)
    with pytest.raises(InvalidArgumentError, match=r"event must be an event Struct"):
        sdk.send_event(chat.id, "hi")  # type: ignore[call-overload]
    assert sandbox.count("send_event") == 0


async def test_nested_models_are_checked_at_any_depth(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    chat = await sdk.start_chat()
    rich = {
        "type": "rich_message",
        "template_id": "cards",
        "elements": [{"title": "A", "buttons": [{"text": "Go", "postbackId": "go"}]}],
    }
    with pytest.raises(InvalidArgumentError) as refused:
        sdk.send_event(chat.id, rich)
    assert str(refused.value) == (
        "event.elements[0].buttons[0]: unknown field 'postbackId'; "
        "did you mean 'postback_id'?"
    )
    assert sandbox.count("send_event") == 0


def test_server_frames_still_decode_unknown_fields() -> None:
    # Only input is strict: the codec keeps ignoring fields the server adds.
    data = b'{"type": "message", "text": "hi", "newField": 1, "customId": "x"}'
    assert decode(data, Event) == Message(text="hi")  # type: ignore[arg-type]


async def test_a_model_in_both_forms_is_refused(sdk: CustomerSDK) -> None:
    with pytest.raises(InvalidArgumentError, match="not both"):
        sdk.update_customer({"name": "Jane"}, email="jane@example.com")
    with pytest.raises(InvalidArgumentError, match="not both"):
        sdk.update_customer_page({"url": "https://example.com/"}, "Home")
