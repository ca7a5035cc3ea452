"""Input checks shared by the SDK's methods: refuse bad input before sending.

Every check raises :class:`~rxlivechat.exceptions.InvalidArgumentError` (a
``ValueError`` and a ``TypeError``) with a message that names the argument.
Nothing here sends anything or touches a loop.
"""

from __future__ import annotations

import datetime
import difflib
import functools
import re
import typing
from collections.abc import Collection, Iterable, Mapping
from typing import Any, TypeVar

import msgspec
import msgspec.inspect as mi

from ..exceptions import InvalidArgumentError
from ..protocol.base import Method
from ..protocol.limits import LIMITS
from ..protocol.methods.fields import HTTP_URL as _HTTP_URL
from ..protocol.models import (
    EVENT_TYPES,
    Event,
    EventBase,
    Message,
    Postback,
)

__all__ = [
    "check_postback",
    "to_postback",
    "MAX_SESSION_FIELDS",
    "MAX_TEXT_BYTES",
    "convert",
    "require_choice",
    "require_event",
    "require_events",
    "plain",
    "require_options",
    "require_range",
    "require_str",
    "require_text",
    "require_type",
    "session_fields_of",
    "to_datetime",
    "to_event",
    "to_model",
    "validate",
]

T = TypeVar("T")

MAX_TEXT_BYTES = LIMITS.text_bytes
"""A message text's limit in bytes of UTF-8 (docs/protocol.md §4.3)."""

MAX_SESSION_FIELDS = LIMITS.session_fields
"""The most session fields a customer may have (docs/protocol.md §2.5)."""


def require_type(name: str, value: Any, kind: type | tuple[type, ...]) -> None:
    """Refuse ``value`` unless it is an instance of ``kind``."""
    if not isinstance(value, kind):
        expected = (
            " or ".join(k.__name__ for k in kind)
            if isinstance(kind, tuple)
            else kind.__name__
        )
        raise InvalidArgumentError(
            f"{name} must be {expected}, not {type(value).__name__}"
        )


def require_str(name: str, value: Any) -> None:
    """Refuse anything but a non-empty ``str`` that can be sent (see require_text)."""
    if not isinstance(value, str):
        require_type(name, value, str)
    if not value:
        raise InvalidArgumentError(f"{name} must not be empty")
    if not value.isascii():  # ids are ASCII: the check costs nothing for them
        _require_encodable(name, value)


def require_text(name: str, value: Any) -> None:
    r"""Refuse anything but a ``str`` that is valid Unicode text.

    A lone surrogate (``"\ud83d"``, half of an emoji cut in two) cannot be
    encoded as UTF-8, so it cannot be sent: refused naming where it is.
    """
    if not isinstance(value, str):
        require_type(name, value, str)
    if not value.isascii():
        _require_encodable(name, value)


def _require_encodable(name: str, value: str) -> None:
    try:
        value.encode()
    except UnicodeEncodeError as exc:
        raise InvalidArgumentError(_surrogate_error(name, value, exc.start)) from None


def _surrogate_error(name: str, value: str, position: int) -> str:
    return (
        f"{name} has a lone surrogate {value[position]!r} at position {position}, "
        "which UTF-8 cannot encode: not valid text (half of a character cut in two?)"
    )


def require_range(name: str, value: Any, low: int, high: int | None) -> None:
    """Refuse anything but an ``int`` (not a ``bool``) in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(f"{name} must be int, not {type(value).__name__}")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise InvalidArgumentError(f"{name} must be {bound}, not {value}")


def require_choice(name: str, value: Any, choices: Collection[str]) -> None:
    """Refuse anything but one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(c) for c in sorted(choices))
        raise InvalidArgumentError(f"{name} must be one of {listed}, not {value!r}")


def require_event(event: Any) -> None:
    """Refuse anything but an event Struct (``Message``, ``File``...).

    A message's text is limited to 16 KB of UTF-8.
    """
    if not isinstance(event, EventBase):
        raise InvalidArgumentError(
            f"event must be an event Struct (Message, File, ...), not "
            f"{type(event).__name__}"
        )
    if isinstance(event, Message) and _too_long(str(event.text)):
        raise InvalidArgumentError("a message text is limited to 16 KB")


def _too_long(text: str) -> bool:
    """Whether ``text`` is over a message's limit in bytes of UTF-8."""
    # At most 4 bytes a character: most texts are measured without encoding.
    return len(text) > MAX_TEXT_BYTES // 4 and len(text.encode()) > MAX_TEXT_BYTES


_EVENT_CLASSES: dict[str, type[EventBase]] = {
    tag: cls
    for cls in typing.get_args(Event)
    if isinstance(tag := cls.__struct_config__.tag, str) and tag in EVENT_TYPES
}
"""Each known event ``type`` → its Struct: a plain event dict is converted to its
own class, never to the whole ``Event`` union (which msgspec re-inspects on every
call)."""


def to_event(value: Any, name: str = "event") -> Event:
    """An event Struct, or the plain dict of its wire form converted to one.

    ``{"type": "message", "text": "hi"}`` becomes ``Message(text="hi")``; a bad
    dict is refused naming the field (``event.text: expected str, got int``).
    """
    if isinstance(value, EventBase):  # first: a Struct check is cheaper than an ABC's
        require_event(value)
        return value  # type: ignore[return-value]
    if value.__class__ is dict or isinstance(value, Mapping):  # dict: no ABC check
        kind = value.get("type")
        cls = _EVENT_CLASSES.get(kind) if isinstance(kind, str) else None
        if cls is None:
            listed = ", ".join(repr(t) for t in sorted(EVENT_TYPES))
            raise InvalidArgumentError(
                f"{name}.type must be one of {listed}, not {kind!r}"
            )
        event: Event = _from_plain(value, cls, name)
    else:
        event = value
    require_event(event)
    return event


def require_events(value: Any, name: str = "events") -> list[Event]:
    """A list of events (Structs or plain dicts), each checked; or refuse it."""
    if isinstance(value, EventBase | str | bytes | Mapping) or not isinstance(
        value, Iterable
    ):
        one = " (put one event in a list)" if isinstance(value, EventBase) else ""
        raise InvalidArgumentError(
            f"{name} must be a list of events, not {type(value).__name__}{one}"
        )
    return [to_event(item, f"{name}[{n}]") for n, item in enumerate(value)]


def to_model(value: Any, kind: type[T], name: str) -> T:
    """``value`` if it is a ``kind``, else its plain dict (wire form) converted.

    Keys must be the wire's snake_case names: an unknown key (a camelCase one
    from the JS docs, a typo) is refused naming the field to use, and so is a
    value of the wrong type (``page.url: expected str, got int``).
    """
    if isinstance(value, kind):
        return value
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(
            f"{name} must be a {kind.__name__} or a dict, not {type(value).__name__}"
        )
    converted: T = _from_plain(value, kind, name)
    return converted


def require_options(
    name: str, value: Mapping[str, Any], known: Collection[str]
) -> Mapping[str, Any]:
    """v1's options object (``{"offset": 0, "limit": 10}``), keys checked.

    Keys are snake_case: an unknown one (the JS docs' camelCase, a typo) is
    refused naming the one to use. The values are the caller's to check.
    """
    for key in value:
        if key not in known:
            raise InvalidArgumentError(
                f"{name}: unknown option {key!r}"
                f"{_did_you_mean(str(key), known, 'options')}"
            )
    return value


def _from_plain(value: Mapping[str, Any], kind: Any, name: str) -> Any:
    _refuse_unknown_fields(value, _type_info(kind), name)
    try:
        return msgspec.convert(value if value.__class__ is dict else dict(value), kind)
    except msgspec.ValidationError as exc:
        raise InvalidArgumentError(_field_error(name, str(exc))) from None


@functools.cache
def _type_info(kind: Any) -> mi.Type:
    """``kind``'s msgspec description, built once per type.

    Building it costs milliseconds for a big union: never per call.
    """
    return mi.type_info(kind)


def _field_error(name: str, message: str) -> str:
    """Turn ``Expected `str`, got `int` - at `$.text``` into ``event.text: ...``."""
    message, _, at = message.partition(" - at `$")
    path = at.rstrip("`")
    # "Expected `str`, got `int`" reads best bare; a quoted field name keeps quotes.
    message = message.replace("`", "" if message.startswith("Expected") else "'")
    return f"{name}{path}: {message[:1].lower()}{message[1:]}"


_struct_fields: dict[type, dict[str, mi.Type]] = {}
"""A Struct's wire field names → their types, built once per class."""


def _fields_of(info: mi.StructType) -> dict[str, mi.Type]:
    fields = _struct_fields.get(info.cls)
    if fields is None:
        fields = _struct_fields[info.cls] = {f.encode_name: f.type for f in info.fields}
    return fields


def _refuse_unknown_fields(value: Any, info: mi.Type, path: str) -> None:
    """Refuse keys a Struct does not have, at any depth.

    The models ignore unknown keys when decoding the server's frames (the live
    API adds fields); input from users must be exact.
    """
    if isinstance(info, mi.StructType) and _is_mapping(value):
        fields = _fields_of(info)
        for key, item in value.items():
            field = fields.get(key)
            if field is None:
                if key == info.tag_field:
                    continue
                raise InvalidArgumentError(
                    f"{path}: unknown field {key!r}{_did_you_mean(str(key), fields)}"
                )
            if item.__class__ not in _SCALARS:  # nothing to walk in a scalar
                _refuse_unknown_fields(item, field, f"{path}.{key}")
    elif isinstance(info, mi.UnionType):
        for option in info.types:
            if isinstance(option, mi.StructType) and _is_mapping(value):
                tag_field = option.tag_field
                if tag_field is None or value.get(tag_field) == option.tag:
                    _refuse_unknown_fields(value, option, path)
                    return
            elif isinstance(option, mi.ListType) and isinstance(value, list | tuple):
                _refuse_unknown_fields(value, option, path)
                return
    elif isinstance(info, mi.ListType) and isinstance(value, list | tuple):
        for n, item in enumerate(value):
            _refuse_unknown_fields(item, info.item_type, f"{path}[{n}]")


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _is_mapping(value: Any) -> bool:
    # A dict first: an ABC's isinstance costs more than the rest of the walk.
    return value.__class__ is dict or isinstance(value, Mapping)


def _did_you_mean(key: str, known: Collection[str], what: str = "fields") -> str:
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).lower()
    if snake in known:
        return f"; did you mean {snake!r}?"
    close = difflib.get_close_matches(key, known, n=1)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f" ({what}: {', '.join(sorted(known))})"


def validate(method: Method[Any], arguments: Mapping[str, str] | None = None) -> None:
    """Check every field of ``method`` against its annotation, before sending.

    The check is the codec's own round trip (encode, then decode with the
    constraints), so what passes here encodes; a ``str`` that cannot be sent (a
    lone surrogate) is refused naming its field and position. ``arguments``
    maps wire fields to the names a method's caller gave them (``id`` is
    ``chat_id``), for the message.
    """
    if not isinstance(method, Method):
        raise InvalidArgumentError(
            "call() takes a request payload such as ListThreads(chat_id=...) "
            f"(from rxlivechat.protocol.methods), not {type(method).__name__} "
            f"{method!r:.40}"
        )
    kind = type(method)
    try:
        decoder = _checkers.get(kind) or _checker(kind)
        decoder.decode(_encoder.encode(method))
    except UnicodeEncodeError:
        raise InvalidArgumentError(_unencodable(method, arguments)) from None
    except (msgspec.ValidationError, TypeError) as exc:
        # "session_fields[0]: expected str, got int", not msgspec's "... - at `$...`"
        detail = _field_error("", str(exc)).lstrip(".").removeprefix(": ")
        detail = _renamed(detail, arguments)
        for terse, clear in _CLEARER:
            detail = detail.replace(terse, clear)
        detail = detail.replace(": must", " must")
        raise InvalidArgumentError(
            f"invalid {method.action} request: {detail}"
        ) from None
    event = getattr(method, "event", None)
    if isinstance(event, Message) and _too_long(event.text):
        raise InvalidArgumentError("a message text is limited to 16 KB")


_CLEARER = (
    ("expected str of length >= 1", "must not be empty"),
    ("expected array of length >= 1", "must not be empty"),
    ("expected object of length >= 1", "must not be empty"),
    ("expected object of length <= 1", "must be a single-key map"),
    ("expected datetime with a timezone component", "must be timezone-aware"),
    ("expected str matching regex '^(asc|desc)$'", "must be 'asc' or 'desc'"),
    (
        "expected str matching regex '^(prechat|postchat|ticket)$'",
        "must be 'prechat', 'postchat' or 'ticket'",
    ),
    (
        f"expected str matching regex {_HTTP_URL!r}",
        "must be an http(s) URL",
    ),
)
"""msgspec's wording of the Structs' constraints, said as the user would."""

_encoder = msgspec.json.Encoder()
_checkers: dict[type, msgspec.json.Decoder[Any]] = {}
"""A decoder per request type, built on first use (the constraints are checked
when decoding)."""


def _checker(kind: type) -> msgspec.json.Decoder[Any]:
    decoder = _checkers[kind] = msgspec.json.Decoder(kind)
    return decoder


def _renamed(path: str, arguments: Mapping[str, str] | None) -> str:
    """``path`` (``id[0]: ...``) starting with its argument's name, if renamed."""
    for wire, name in (arguments or {}).items():
        if path.startswith(wire) and path[len(wire) : len(wire) + 1] in ":[. ":
            return name + path[len(wire) :]
    return path


def _unencodable(method: Method[Any], arguments: Mapping[str, str] | None) -> str:
    """Where the first ``str`` that cannot be encoded is, for the error message."""
    found = _find_unencodable(msgspec.to_builtins(method), "")
    if found is None:  # not a str we can point at: say what the encoder said
        return f"invalid {method.action} request: text that is not valid Unicode"
    path, text, position = found
    return _surrogate_error(
        f"{method.action}.{_renamed(path[1:], arguments)}", text, position
    )


def _find_unencodable(value: Any, path: str) -> tuple[str, str, int] | None:
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError as exc:
            return path, value, exc.start
    elif isinstance(value, dict):
        for key, item in value.items():
            found = _find_unencodable(key, f"{path} key {key!r}") or _find_unencodable(
                item, f"{path}.{key}" if isinstance(key, str) else f"{path}[{key!r}]"
            )
            if found:
                return found
    elif isinstance(value, list):
        for n, item in enumerate(value):
            found = _find_unencodable(item, f"{path}[{n}]")
            if found:
                return found
    return None


def plain(value: Any) -> Any:
    """``value`` as the encoder takes it (one level: a ``dict`` or a ``list``).

    Anything else is left as it is, for :func:`validate` to refuse.
    """
    if value.__class__ in (dict, list) or isinstance(value, str | bytes):
        return value
    if isinstance(value, Mapping):
        return dict(value)
    return list(value) if isinstance(value, Iterable) else value


def session_fields_of(value: Any) -> Any:
    """:func:`plain` session fields, at most 100 (the server's own error, else)."""
    fields = plain(value)
    if isinstance(fields, list) and len(fields) > MAX_SESSION_FIELDS:
        raise InvalidArgumentError(f"at most {MAX_SESSION_FIELDS} session fields")
    return fields


def convert(value: Any, kind: type[T], name: str) -> T | None:
    """``value`` as a ``kind`` Struct (see :func:`to_model`), ``None`` kept."""
    return None if value is None else to_model(value, kind, name)


def to_datetime(value: datetime.datetime | float | None) -> datetime.datetime:
    """An aware ``datetime`` from one, or from epoch milliseconds; ``None`` is now."""
    if value is None:
        return datetime.datetime.now(datetime.UTC)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise InvalidArgumentError("timestamp must be timezone-aware")
        return value
    if not isinstance(value, bool) and isinstance(value, int | float):
        return datetime.datetime.fromtimestamp(value / 1000, datetime.UTC)
    raise InvalidArgumentError(
        "timestamp must be a datetime or epoch milliseconds, "
        f"not {type(value).__name__}"
    )


def check_postback(
    postback: Postback,
    id_name: str = "postback.id",
    toggled_name: str = "postback.toggled",
) -> Postback:
    """``postback`` checked, naming its fields as the caller wrote them.

    Checked by hand: the model also decodes the server's pushes, so its fields
    carry no constraints.
    """
    require_str(id_name, postback.id)
    require_type(toggled_name, postback.toggled, bool)
    return postback


def to_postback(value: Any) -> Postback:
    """A ``Postback``, or the plain dict of its wire form converted, checked."""
    return check_postback(to_model(value, Postback, "postback"))
