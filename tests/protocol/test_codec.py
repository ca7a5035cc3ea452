"""The codec: frames both ways, forward compatibility, and fuzzing.

The docs' vectors are replayed payload by payload in ``test_catalogue.py``.
"""

from __future__ import annotations

import json

import msgspec
import pytest
from hypothesis import given, settings, strategies as st

from rxlivechat import CustomerSDK
from rxlivechat.exceptions import ProtocolError
from rxlivechat.protocol import codec
from rxlivechat.protocol.frames import ErrorBody, ErrorResponse, Push, Response
from rxlivechat.protocol.methods import ListThreads, Ping, SendEvent
from rxlivechat.protocol.models import Message, UnknownEvent
from rxlivechat.protocol.pushes import IncomingEvent, IncomingTypingIndicator
from rxlivechat.sandbox import Sandbox

from ..helpers import Recorder


def test_error_response_keeps_the_server_error() -> None:
    data = (
        b'{"request_id":"7","action":"login","type":"response","success":false,'
        b'"payload":{"error":{"type":"authentication",'
        b'"message":"Invalid access token"}}}'
    )
    frame = codec.decode_frame(data)
    assert frame == ErrorResponse(
        action="login",
        request_id="7",
        error=ErrorBody(type="authentication", message="Invalid access token"),
    )
    assert json.loads(codec.encode_frame(frame)) == json.loads(data)


def test_request_is_compact_and_omits_unset_fields() -> None:
    data = codec.encode_request(SendEvent(chat_id="C", event=Message(text="hi")), "9")
    assert data == (
        b'{"request_id":"9","action":"send_event",'
        b'"payload":{"chat_id":"C","event":{"type":"message","text":"hi"}}}'
    )


def test_reply_decodes_by_pending_request_not_by_action() -> None:
    # The docs' list_threads sample answers with action "get_chat": the pending
    # map, not the action name, decides the result type.
    data = (
        b'{"request_id":"1","action":"whatever","type":"response",'
        b'"success":true,"payload":{}}'
    )
    frame = codec.decode_frame(data, {"1": Ping})
    assert isinstance(frame, Response)
    assert isinstance(frame.payload, Ping.result_type)


def test_unknown_push_keeps_a_dict_payload() -> None:
    frame = codec.decode_frame(
        b'{"action":"brand_new_push","type":"push","payload":{"a":[1,2]}}'
    )
    assert frame == Push(action="brand_new_push", payload={"a": [1, 2]})


def test_unknown_event_type_falls_back_to_unknown_event() -> None:
    data = (
        b'{"action":"incoming_event","type":"push","payload":{"chat_id":"C",'
        b'"thread_id":"T","event":{"id":"T_1","type":"hologram","created_at":'
        b'"2026-01-02T03:04:05.000006Z","author_id":"a","depth":3}}}'
    )
    frame = codec.decode_frame(data)
    assert isinstance(frame, Push)
    assert isinstance(frame.payload, IncomingEvent)
    event = frame.payload.event
    assert isinstance(event, UnknownEvent)
    assert (event.id, event.original_type, event.fields) == (
        "T_1",
        "hologram",
        {"depth": 3},
    )


_EVENT = (
    b'{"chat_id":"C","thread_id":"T","event":{"id":"T_1","type":"message",'
    b'"text":"hi","created_at":"2026-01-02T03:04:05.000006Z","author_id":"a"}}'
)


@pytest.mark.parametrize(
    "data",
    [  # incoming_event's envelope is read by its action, wherever that stands
        b'{"action":"incoming_event","type":"push","payload":' + _EVENT + b"}",
        b'{"version":"3.6","request_id":"r1","action":"incoming_event",'
        b'"type":"push","payload":' + _EVENT + b"}",  # the docs' order
        b'{"payload":' + _EVENT + b',"type":"push","action":"incoming_event"}',
    ],
)
def test_incoming_event_decodes_whatever_the_field_order(data: bytes) -> None:
    frame = codec.decode_frame(data)
    assert isinstance(frame, Push)
    assert frame.action == "incoming_event"
    assert frame.payload == codec.decode(_EVENT, IncomingEvent)
    assert isinstance(frame.payload.event, Message)
    assert frame.payload.event.text == "hi"


def test_an_incoming_event_sent_as_a_response_is_a_response() -> None:
    data = (
        b'{"action":"incoming_event","type":"response","request_id":"1",'
        b'"success":true,"payload":' + _EVENT + b"}"
    )
    frame = codec.decode_frame(data)
    assert isinstance(frame, Response)
    assert frame.payload["event"]["text"] == "hi"  # by its action: no result type


def test_every_other_push_still_decodes_its_payload_by_action() -> None:
    frame = codec.decode_frame(
        b'{"version":"3.6","action":"incoming_typing_indicator","type":"push",'
        b'"payload":{"chat_id":"C","thread_id":"T","typing_indicator":'
        b'{"author_id":"a","is_typing":true,"timestamp":1700000000}}}'
    )
    assert isinstance(frame, Push)
    assert isinstance(frame.payload, IncomingTypingIndicator)
    assert frame.payload.typing_indicator.is_typing is True


def test_extra_fields_are_ignored() -> None:
    data = (
        b'{"action":"ping","type":"response","success":true,"future":1,'
        b'"payload":{"new_server_field":true}}'
    )
    assert isinstance(codec.decode_frame(data), Response)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not json",
        b"[]",
        b'{"type":"push"}',
        b'{"action":"x","type":"bogus","payload":{}}',
        b'{"action":"incoming_event","type":"push","payload":{"chat_id":1}}',
        b'{"action":"ping","type":"response","success":false,"payload":{}}',
        b'{"action":"x","type":"push","payload":[1]}',
    ],
)
def test_garbage_raises_protocol_error(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        codec.decode_frame(data)


def test_decode_request_refuses_unknown_action_and_bad_payload() -> None:
    with pytest.raises(ProtocolError) as info:
        codec.decode_request(b'{"request_id":"5","action":"fly","payload":{}}')
    assert (info.value.action, info.value.request_id) == ("fly", "5")
    with pytest.raises(ProtocolError) as info:
        codec.decode_request(b'{"request_id":"6","action":"send_event","payload":{}}')
    assert (info.value.action, info.value.request_id) == ("send_event", "6")


# Fuzzing --------------------------------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_frame_like = st.fixed_dictionaries(
    {
        "action": st.sampled_from(["incoming_event", "incoming_chat", "ping", "x"])
        | st.text(max_size=5),
        "type": st.sampled_from(["push", "response", "request"]),
    },
    optional={
        "request_id": st.text(max_size=4) | st.integers(),
        "success": st.booleans(),
        "payload": _json,
    },
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=256) | _frame_like.map(lambda d: json.dumps(d).encode()))
def test_any_bytes_are_a_frame_or_a_protocol_error(data: bytes) -> None:
    try:
        frame = codec.decode_frame(data)
    except ProtocolError:
        return
    assert isinstance(frame, Response | ErrorResponse | Push)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=256) | _frame_like.map(lambda d: json.dumps(d).encode()))
def test_any_bytes_are_a_request_or_a_protocol_error(data: bytes) -> None:
    try:
        codec.decode_request(data)
    except ProtocolError:
        return


def test_encode_decode_is_identity_for_a_nested_event() -> None:
    event = Message(
        text="x" * 10, custom_id="c1", properties={"ns": {"k": [1, {"a": None}]}}
    )
    assert msgspec.json.decode(codec.encode(event), type=Message) == event


# Lone surrogates ----------------------------------------------------------------------


def push_of(text: str) -> bytes:
    """An ``incoming_event`` frame of a message, as Python's json writes it.

    ``json.dumps`` escapes every surrogate (``ensure_ascii``), so a lone one in
    ``text`` arrives as a lone ``\\udXXX`` escape: valid JSON, not valid Unicode.
    """
    event = {"id": "T_1", "type": "message", "text": text}
    frame = {
        "action": "incoming_event",
        "type": "push",
        "payload": {"chat_id": "C", "thread_id": "T", "event": event},
    }
    return json.dumps(frame).encode()


def as_utf16_would(text: str) -> str:
    """``text`` read as UTF-16 reads it: pairs joined, each lone half U+FFFD."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("broken \ud83d emoji", "broken \ufffd emoji"),
        ("low first \ude00", "low first \ufffd"),
        ("at the end \ud83d", "at the end \ufffd"),
        ("\ud83d\ud83d\ude00", "\ufffd\U0001f600"),  # a lone high, then a pair
        ("pair \ud83d\ude00 kept", "pair \U0001f600 kept"),
    ],
)
def test_a_lone_surrogate_becomes_a_replacement_character(
    text: str, expected: str
) -> None:
    frame = codec.decode_frame(push_of(text))
    assert isinstance(frame, Push)
    assert isinstance(frame.payload, IncomingEvent)
    assert frame.payload.event == Message(id="T_1", text=expected)
    assert codec.decode_frame(push_of(text).decode()) == frame  # str input too


def test_escaped_backslashes_and_upper_case_escapes_are_read_right() -> None:
    # ``\\ud83d`` is a backslash and the letters "ud83d": no escape at all.
    escaped = codec.decode_frame(push_of("\\ud83d and \\\ud83d"))
    assert isinstance(escaped, Push)
    assert escaped.payload.event.text == "\\ud83d and \\\ufffd"
    upper = codec.decode_frame(push_of("x\ud83d").replace(b"\\ud83d", b"\\uD83D"))
    assert isinstance(upper, Push)
    assert upper.payload.event.text == "x\ufffd"


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(codec=None, categories=["Cs", "Ll", "So", "Zs"])))
def test_any_text_with_surrogates_decodes_as_utf16_would(text: str) -> None:
    frame = codec.decode_frame(push_of(text))
    assert isinstance(frame, Push)
    assert frame.payload.event.text == as_utf16_would(text)


def test_a_reply_with_a_lone_surrogate_decodes_too() -> None:
    data = json.dumps(
        {
            "request_id": "1",
            "action": "list_threads",
            "type": "response",
            "success": True,
            "payload": {
                "threads": [
                    {
                        "id": "T",
                        "created_at": "2026-01-01T00:00:00.000000Z",
                        "active": True,
                        "user_ids": [],
                        "events": [{"type": "message", "text": "a\udc00"}],
                    }
                ],
                "found_threads": 1,
            },
        }
    ).encode()
    frame = codec.decode_frame(data, {"1": ListThreads})
    assert isinstance(frame, Response)
    (thread,) = frame.payload.threads
    assert thread.events == [Message(text="a\ufffd")]
    assert codec.decode(b'{"text": "b\\ud83d"}', Message) == Message(text="b\ufffd")


def test_only_a_frame_that_fails_the_fast_decode_takes_the_slow_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[bytes | str] = []
    real = codec._without_lone_surrogates

    def counted(data: bytes | str) -> bytes | None:
        calls.append(data)
        return real(data)

    monkeypatch.setattr(codec, "_without_lone_surrogates", counted)
    for i in range(100):
        codec.decode_frame(push_of(f"fine \U0001f600 {i}"))
    codec.decode_frame(b'{"action":"ping","type":"response","payload":{}}')
    assert calls == []
    codec.decode_frame(push_of("bad \ud83d"))
    assert len(calls) == 1
    with pytest.raises(ProtocolError, match="not a Customer Chat API frame"):
        codec.decode_frame(b'{"action": "x", "payload": "\\ud83d')


async def test_a_push_with_a_lone_surrogate_reaches_the_sdk_over_a_socket(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    seen = Recorder(sdk)
    chat = await sdk.start_chat()
    # Real bytes on the real socket, as a server that cut an emoji in half sends.
    frame = json.loads(push_of("half an emoji: \ud83d, a whole one: \U0001f600"))
    frame["payload"]["chat_id"] = chat.id
    frame["payload"]["event"]["author_id"] = "some-agent"
    await sandbox.send_raw(json.dumps(frame))

    (new,) = await seen.wait_for("new_event")
    assert new.chat == chat.id
    assert new.event.text == "half an emoji: \ufffd, a whole one: \U0001f600"
    assert seen.of("error") == []  # delivered, not dropped as a ProtocolError
    assert (await sdk.get_chats_summary()).total_chats == 1  # the socket goes on
