r"""Bytes ⇄ typed frames: the only place where wire input becomes Python objects.

Rules:

1. Every function that reads wire bytes returns a typed frame or raises
   :class:`~rxlivechat.exceptions.ProtocolError`, and nothing else.
2. Decoding is in two steps: the envelope (action, type, request_id, success)
   with the payload kept as ``msgspec.Raw``, then the payload with the decoder of
   its action. Unknown pushes keep a plain ``dict`` payload. The hot push,
   ``incoming_event``, is the exception: the envelope is read as a union tagged
   by ``action``, which decodes its payload in the same pass (a quarter less
   decoding a push: the payload is scanned once); anything that union refuses
   (an unknown action, a payload that does not fit) takes the two steps.
3. Forward compatibility: a payload that fails only because the server sent an
   event ``type`` we do not know is decoded again with that event turned into an
   :class:`~rxlivechat.protocol.models.UnknownEvent`. That slow path runs only
   after the fast one failed.
4. Lone surrogates: msgspec refuses a ``\ud83d`` escape with no partner (valid
   JSON, not valid Unicode), so a frame holding one fails the fast decode. Only
   then, and only if such an escape is present, the frame is decoded again with
   each lone surrogate escape replaced by ``\ufffd`` (U+FFFD): the event is
   delivered with one replacement character instead of the frame being dropped.
5. Encoders and decoders are built once and reused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar, Union, cast

import msgspec

from ..exceptions import ProtocolError
from .base import METHODS, PUSHES, Method, Ticket
from .frames import (
    API_VERSION,
    ErrorBody,
    ErrorResponse,
    Frame,
    Push,
    Request,
    Response,
)
from .models import EVENT_TYPES

__all__ = [
    "decode",
    "decode_frame",
    "decode_request",
    "encode",
    "encode_frame",
    "encode_request",
]

T = TypeVar("T")

_EMPTY = msgspec.Raw(b"{}")


class _Envelope(msgspec.Struct):
    """What every frame has, whichever way it goes; the payload stays raw."""

    action: str
    type: str | None = None
    request_id: str | None = None
    success: bool | None = None
    version: str | None = None
    payload: msgspec.Raw = _EMPTY


class _Tagged(msgspec.Struct, kw_only=True):
    """An envelope read by its action (the tag, not a field): see ``_frame_decoder``."""

    action: ClassVar[str]
    type: str | None = None
    request_id: str | None = None
    success: bool | None = None
    version: str | None = None
    payload: Any  # each action's own: msgspec.Raw, or the hot push's Struct


def _tagged(action: str, payload: Any = msgspec.Raw) -> type[_Tagged]:
    name = "".join(word.title() for word in action.split("_")) + "Envelope"
    field = (
        ("payload", payload, _EMPTY) if payload is msgspec.Raw else ("payload", payload)
    )
    shape = msgspec.defstruct(
        name,
        [field],
        bases=(_Tagged,),
        namespace={"action": action},
        tag_field="action",
        tag=action,
        kw_only=True,
    )
    return cast(type[_Tagged], shape)


class _ErrorPayload(msgspec.Struct):
    error: ErrorBody


# Wire shapes for encoding. UNSET fields are left out; everything else is sent.
class _WireRequest(msgspec.Struct):
    request_id: str | msgspec.UnsetType = msgspec.UNSET
    action: str = ""
    version: str | msgspec.UnsetType = msgspec.UNSET
    payload: Any = None


class _WireResponse(msgspec.Struct):
    request_id: str | msgspec.UnsetType = msgspec.UNSET
    action: str = ""
    type: str = "response"
    success: bool = True
    payload: Any = None


class _WirePush(msgspec.Struct):
    request_id: str | msgspec.UnsetType = msgspec.UNSET
    action: str = ""
    type: str = "push"
    version: str = API_VERSION
    payload: Any = None


_encoder = msgspec.json.Encoder()
_envelope_decoder = msgspec.json.Decoder(_Envelope)
# Every known action's envelope, tagged by action, with the hot push's payload
# typed: ``incoming_event`` decodes in one pass.
_HOT_PUSH = "incoming_event"
_frame_decoder: msgspec.json.Decoder[_Tagged] = msgspec.json.Decoder(
    Union[  # noqa: UP007 (a tuple of classes made at import)
        tuple(
            _tagged(action, PUSHES[action] if action == _HOT_PUSH else msgspec.Raw)
            for action in (*PUSHES, *METHODS)
        )
    ]
)
_error_decoder = msgspec.json.Decoder(_ErrorPayload)
_any_decoder = msgspec.json.Decoder()


_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}


def _decoder(tp: Any) -> msgspec.json.Decoder[Any]:
    decoder = _decoders.get(tp)
    if decoder is None:
        decoder = _decoders[tp] = msgspec.json.Decoder(tp)
    return decoder


# Encoding ------------------------------------------------------------------------


def encode(obj: Any) -> bytes:
    """Encode any wire object (a Struct, a dict...) as compact JSON."""
    return _encoder.encode(obj)


def encode_request(
    method: Method[Any], request_id: str | None = None, *, version: str | None = None
) -> bytes:
    """Encode a request frame: ``{"request_id", "action", "payload"}``.

    Args:
        method: the action's payload; its class names the action.
        request_id: echoed back by the server on the reply.
        version: the per-request API version, left out when ``None``.

    Returns:
        The frame as UTF-8 JSON bytes, to be sent as a TEXT WebSocket message.
    """
    return _encoder.encode(
        _WireRequest(
            request_id=msgspec.UNSET if request_id is None else request_id,
            action=method.action,
            version=msgspec.UNSET if version is None else version,
            payload=method,
        )
    )


def encode_frame(frame: Frame) -> bytes:
    """Encode a server → client frame (the sandbox's side of :func:`decode_frame`)."""
    request_id = msgspec.UNSET if frame.request_id is None else frame.request_id
    wire: msgspec.Struct
    if isinstance(frame, Push):
        wire = _WirePush(
            request_id=request_id,
            action=frame.action,
            version=frame.version or API_VERSION,
            payload=frame.payload,
        )
    elif isinstance(frame, ErrorResponse):
        wire = _WireResponse(
            request_id=request_id,
            action=frame.action,
            success=False,
            payload=_ErrorPayload(frame.error),
        )
    else:
        wire = _WireResponse(
            request_id=request_id, action=frame.action, payload=frame.payload
        )
    return _encoder.encode(wire)


# Decoding ------------------------------------------------------------------------


def _envelope(data: bytes | str) -> _Envelope:
    try:
        return _envelope_decoder.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ProtocolError(f"not a Customer Chat API frame: {exc}") from None
    except RecursionError:  # msgspec's answer to JSON nested ~1,000 deep
        raise ProtocolError("not a Customer Chat API frame: nested too deep") from None


def decode(data: bytes | str | msgspec.Raw, tp: type[T]) -> T:
    """Decode a payload into ``tp``, tolerating event types newer than this code.

    Args:
        data: the JSON document.
        tp: the Struct (or any msgspec-supported type) to decode into.

    Returns:
        The typed value.

    Raises:
        ProtocolError: the document does not fit ``tp``, even after unknown event
            types were set aside as ``UnknownEvent``.
    """
    try:
        return cast(T, _decoder(tp).decode(data))
    except msgspec.ValidationError as exc:
        first_error = exc
    except msgspec.DecodeError as exc:
        clean = _without_lone_surrogates(data)  # rule 4
        if clean is None:
            raise ProtocolError(f"malformed JSON: {exc}") from None
        return decode(clean, tp)
    except RecursionError:
        raise ProtocolError("malformed JSON: nested too deep") from None
    # Slow path: maybe only an unknown event type broke the tagged union.
    try:
        tree = _any_decoder.decode(data)
        if _set_aside_unknown_events(tree):
            return msgspec.convert(tree, tp)
    except (msgspec.ValidationError, RecursionError):
        pass
    raise ProtocolError(f"payload does not fit {_name(tp)}: {first_error}") from None


def decode_frame(
    data: bytes | str,
    pending: Mapping[str, Ticket] | None = None,
) -> Frame:
    """Decode one frame the server sent.

    Args:
        data: the bytes (or text) of one WebSocket message.
        pending: request id → what it was sent as (a method class, or any
            :class:`~rxlivechat.protocol.base.Ticket`). A reply to one of these
            decodes into its result type; any other reply decodes by its
            action name.

    Returns:
        A :class:`Response`, :class:`ErrorResponse` or :class:`Push`.

    Raises:
        ProtocolError: the bytes are not a frame, or the payload does not fit.
    """
    env: _Envelope | _Tagged
    try:  # the hot path, inline: the envelope tagged by action (rule 2)
        env = _frame_decoder.decode(data)
    except (msgspec.ValidationError, RecursionError):
        # An unknown action, or a payload that did not fit.
        env = _envelope(data)  # raises the ProtocolError that says why
    except msgspec.DecodeError:
        # Not JSON at all, or JSON with a lone surrogate escape (rule 4).
        data = _without_lone_surrogates(data) or data
        env = _envelope(data)
    payload = env.payload
    if env.type == "push":
        if payload.__class__ is msgspec.Raw:  # else decoded with its envelope
            push_type = PUSHES.get(env.action, dict)  # an unknown push: a dict
            decoder = _decoders.get(push_type) or _decoder(push_type)
            try:  # the hot path: one cached decoder, no other call
                payload = decoder.decode(payload)
            except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
                payload = decode(payload, push_type)  # the tolerant path, or why
        return Push(
            action=env.action,
            payload=payload,
            request_id=env.request_id,
            version=env.version,
        )
    if payload.__class__ is not msgspec.Raw:  # an incoming_event that is no push
        env = _envelope(data)
    if env.type != "response":
        raise ProtocolError(
            f"frame type {env.type!r} is neither 'response' nor 'push'",
            action=env.action,
            request_id=env.request_id,
        )
    if env.success is False:
        try:
            error = _error_decoder.decode(env.payload).error
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise ProtocolError(
                f"error response without an error object: {exc}",
                action=env.action,
                request_id=env.request_id,
            ) from None
        return ErrorResponse(action=env.action, error=error, request_id=env.request_id)
    ticket = None if pending is None else pending.get(env.request_id or "")
    result_type = _result_type(env.action) if ticket is None else ticket.result_type
    decoder = _decoders.get(result_type) or _decoder(result_type)
    try:  # the hot path, as for pushes
        payload = decoder.decode(env.payload)
    except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
        try:
            payload = decode(env.payload, result_type)  # the tolerant path, or why
        except ProtocolError as exc:  # name the request, so it fails at once
            raise ProtocolError(
                str(exc), action=env.action, request_id=env.request_id
            ) from None
    return Response(action=env.action, payload=payload, request_id=env.request_id)


def decode_request(
    data: bytes | str, *, methods: Mapping[str, type[Method[Any]]] = METHODS
) -> Request[Method[Any]]:
    """Decode one request frame a client sent (the sandbox's side of the socket).

    Raises:
        ProtocolError: not a frame, an unknown action, or a payload that does not
            fit the action; ``action`` and ``request_id`` are set when known, so
            the server can still answer.
    """
    env = _envelope(data)
    method = methods.get(env.action)
    if method is None:
        raise ProtocolError(
            f"unknown action {env.action!r}",
            action=env.action,
            request_id=env.request_id,
        )
    try:
        payload = _decoder(method).decode(env.payload)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ProtocolError(
            str(exc), action=env.action, request_id=env.request_id
        ) from None
    return Request(
        action=env.action,
        payload=payload,
        request_id=env.request_id,
        version=env.version,
    )


# Helpers --------------------------------------------------------------------------


# Left to right: an escaped backslash (so the ``u`` after it starts no escape), a
# valid surrogate pair (kept), or a lone surrogate escape (replaced).
_SURROGATE_ESCAPES = re.compile(
    rb"\\\\"
    rb"|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"
    rb"|\\u[dD][89a-fA-F][0-9a-fA-F]{2}"
)
_LONE = 6  # len(b"\\ud83d"): the one alternative that is replaced


def _replacement(match: re.Match[bytes]) -> bytes:
    escape = match.group()
    return b"\\ufffd" if len(escape) == _LONE else escape


def _without_lone_surrogates(data: bytes | str | msgspec.Raw) -> bytes | None:
    r"""``data`` with each lone surrogate escape as ``\ufffd``; ``None`` if none."""
    raw = data.encode() if isinstance(data, str) else bytes(data)
    if b"\\u" not in raw:
        return None
    clean = _SURROGATE_ESCAPES.sub(_replacement, raw)
    return None if clean == raw else clean


def _result_type(action: str) -> type[Any]:
    """The result type of a reply that answers none of our tickets."""
    method = METHODS.get(action)
    return dict if method is None else method.result_type


def _set_aside_unknown_events(tree: Any) -> bool:
    """Rewrite events of unknown ``type`` in place as ``UnknownEvent`` documents.

    Events sit under ``event`` (one) or ``events`` (a list) keys. Returns whether
    anything was rewritten.
    """
    changed = False
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            for key, value in node.items():
                if key == "event" and _is_unknown_event(value):
                    node[key] = _as_unknown_event(value)
                    changed = True
                elif key == "events" and isinstance(value, list):
                    for i, event in enumerate(value):
                        if _is_unknown_event(event):
                            value[i] = _as_unknown_event(event)
                            changed = True
                stack.append(node[key])
    return changed


_COMMON_EVENT_FIELDS = frozenset(
    {
        "id",
        "custom_id",
        "created_at",
        "author_id",
        "properties",
        "recipients",
        "deleted",
    }
)


def _is_unknown_event(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("type"), str)
        and value["type"] not in EVENT_TYPES
        and value["type"] != "unknown"
    )


def _as_unknown_event(event: dict[str, Any]) -> dict[str, Any]:
    unknown = {k: v for k, v in event.items() if k in _COMMON_EVENT_FIELDS}
    unknown["type"] = "unknown"
    unknown["original_type"] = event["type"]
    unknown["fields"] = {
        k: v for k, v in event.items() if k not in _COMMON_EVENT_FIELDS | {"type"}
    }
    return unknown


def _name(tp: Any) -> str:
    return getattr(tp, "__name__", repr(tp))
