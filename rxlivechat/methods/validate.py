"""Input checks shared by the SDK's methods: refuse bad input before sending.

Every check raises :class:`~rxlivechat.exceptions.InvalidArgumentError` (a
``ValueError`` and a ``TypeError``) with a message that names the argument.
Nothing here sends anything or touches a loop.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Iterable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

import msgspec

from ..exceptions import InvalidArgumentError
from ..protocol.base import Method
from ..protocol.models import EventBase, Message, Properties, PropertyNames

__all__ = [
    "MAX_SESSION_FIELDS",
    "MAX_TEXT_BYTES",
    "convert",
    "require_aware",
    "require_choice",
    "require_event",
    "require_http_url",
    "require_property_names",
    "require_properties",
    "require_range",
    "require_session_fields",
    "require_str",
    "require_type",
    "to_datetime",
    "validate",
]

T = TypeVar("T")

MAX_TEXT_BYTES = 16 * 1024
"""A message text's limit in bytes of UTF-8 (digest §4.3)."""

MAX_SESSION_FIELDS = 100
"""The most session fields a customer may have (digest §2.5)."""


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
    """Refuse anything but a non-empty ``str``."""
    require_type(name, value, str)
    if not value:
        raise InvalidArgumentError(f"{name} must not be empty")


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
    if isinstance(event, Message) and len(str(event.text).encode()) > MAX_TEXT_BYTES:
        raise InvalidArgumentError("a message text is limited to 16 KB")


def require_aware(name: str, value: Any) -> None:
    """Refuse anything but a timezone-aware ``datetime``."""
    require_type(name, value, datetime.datetime)
    if value.tzinfo is None:
        raise InvalidArgumentError(f"{name} must be timezone-aware")


def require_http_url(name: str, value: Any) -> None:
    """Refuse anything but an absolute ``http``/``https`` URL."""
    require_str(name, value)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidArgumentError(f"{name} must be an http(s) URL, not {value!r}")


def require_properties(name: str, value: Any) -> Properties:
    """``{"namespace": {"name": value}}`` as plain dicts, or refuse it."""
    if not isinstance(value, Mapping) or not value:
        raise InvalidArgumentError(
            f'{name} must be a non-empty {{"namespace": {{"name": value}}}} mapping'
        )
    properties: Properties = {}
    for namespace, values in value.items():
        require_str(f"{name} namespace", namespace)
        if not isinstance(values, Mapping) or not values:
            raise InvalidArgumentError(
                f"{name}[{namespace!r}] must be a non-empty mapping of names to values"
            )
        for key in values:
            require_str(f"{name}[{namespace!r}] key", key)
        properties[namespace] = dict(values)
    return properties


def require_property_names(name: str, value: Any) -> PropertyNames:
    """``{"namespace": ["name", ...]}`` as plain dicts and lists, or refuse it."""
    if not isinstance(value, Mapping) or not value:
        raise InvalidArgumentError(
            f'{name} must be a non-empty {{"namespace": ["name", ...]}} mapping'
        )
    names: PropertyNames = {}
    for namespace, keys in value.items():
        require_str(f"{name} namespace", namespace)
        if isinstance(keys, str | bytes) or not isinstance(keys, Iterable):
            raise InvalidArgumentError(
                f"{name}[{namespace!r}] must be a list of names, not "
                f"{type(keys).__name__}"
            )
        listed = list(keys)
        if not listed:
            raise InvalidArgumentError(f"{name}[{namespace!r}] must not be empty")
        for key in listed:
            require_str(f"{name}[{namespace!r}][]", key)
        names[namespace] = listed
    return names


def require_session_fields(name: str, value: Any) -> list[dict[str, str]]:
    """An ordered list of single-key ``{"key": "value"}`` maps, or refuse it."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise InvalidArgumentError(
            f'{name} must be a list of single-key maps [{{"key": "value"}}, ...], '
            f"not {type(value).__name__}"
        )
    fields: list[dict[str, str]] = []
    for item in value:
        if not isinstance(item, Mapping) or len(item) != 1:
            raise InvalidArgumentError(
                f'each of {name} must be a single-key map {{"key": "value"}}, '
                f"not {item!r}"
            )
        ((key, text),) = item.items()
        require_str(f"{name} key", key)
        require_type(f"{name}[{key!r}]", text, str)
        fields.append({key: text})
    if len(fields) > MAX_SESSION_FIELDS:
        raise InvalidArgumentError(f"at most {MAX_SESSION_FIELDS} session fields")
    return fields


def validate(method: Method[Any]) -> None:
    """Check every field of ``method`` against its annotation, before sending."""
    try:
        msgspec.convert(msgspec.to_builtins(method), type(method))
    except (msgspec.ValidationError, TypeError) as exc:
        raise InvalidArgumentError(f"invalid {method.action} request: {exc}") from None
    event = getattr(method, "event", None)
    if isinstance(event, Message) and len(event.text.encode()) > MAX_TEXT_BYTES:
        raise InvalidArgumentError("a message text is limited to 16 KB")


def convert(value: Any, kind: type[T], name: str) -> T | None:
    """``value`` as a ``kind`` Struct (from a mapping), ``None`` kept; or refuse it."""
    if value is None or isinstance(value, kind):
        return value
    try:
        return msgspec.convert(value, kind)
    except msgspec.ValidationError as exc:
        raise InvalidArgumentError(f"invalid {name}: {exc}") from None


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
