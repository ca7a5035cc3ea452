"""The checks of what users send: events, access, properties, limits.

Each raises the wire error a refused request gets, before anything changes.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import msgspec

from ...exceptions import (
    CustomerSessionFieldsLimitReachedError,
    EntityTooLargeError,
    GroupNotFoundError,
    GroupsOfflineError,
    ValidationError,
)
from ...protocol.limits import LIMITS
from ...protocol.models import (
    Access,
    Event,
    File,
    Form,
    Message,
    Properties,
    RichMessage,
    SessionFields,
    SystemEvent,
    UnknownEvent,
)
from ..properties import Location
from ..records import CustomerRecord, event_type
from .backend import Backend

_RICH_TEMPLATES = frozenset({"cards", "sticker", "quick_replies", "ecommerce"})

_BUTTON_TYPES = frozenset({"webview", "message", "url", "phone"})

_SORT_ORDERS = frozenset({"asc", "desc"})

_json = msgspec.json.Encoder()


def require_online(backend: Backend, access: Access) -> None:
    """Refuse a chat for groups that are all offline (``groups_offline``)."""
    groups = [backend.store.group(g) for g in access.group_ids or [0]]
    if all(g is None or g.status == "offline" for g in groups):
        raise GroupsOfflineError("Groups offline")


def check_access(backend: Backend, access: Access | None) -> Access:
    """The chat's access with known groups only (group 0 by default)."""
    if access is None:
        return Access(group_ids=[0])
    for group_id in access.group_ids:
        if backend.store.group(group_id) is None:
            raise GroupNotFoundError("Group not found")
    return Access(group_ids=list(access.group_ids))


def check_new_events(backend: Backend, events: list[Event] | None) -> list[Event]:
    """Check each event a customer sends with a new chat or thread."""
    return [check_event(backend, event) for event in events or ()]


def check_event(backend: Backend, event: Event, *, agent: bool = False) -> Event:
    """Validate an event a user sends; returns it with server-filled fields.

    Agents may send ``file`` events with any URL.
    """
    if isinstance(event, SystemEvent | UnknownEvent):
        raise ValidationError(f"Cannot send an event of type {event_type(event)}")
    if event.recipients not in (None, "all", "agents"):
        raise ValidationError("recipients must be all or agents")
    check_properties(backend, "event", event.properties)
    if isinstance(event, Message):
        if not event.text:
            raise ValidationError("Message text cannot be empty")
        if len(event.text.encode()) > LIMITS.text_bytes:
            # 16 KB of raw UTF-8 (§4.3); the error type is (inferred).
            raise ValidationError("Message text too long (max 16 KB)")
    elif isinstance(event, RichMessage):
        elements = event.elements or []
        if len(elements) > LIMITS.rich_message_elements:
            raise ValidationError("Too many rich message elements (max 10)")
        # data-structures: template_id "Values: cards, sticker, or
        # quick_replies" (ecommerce: the v5 SDK's template); button types
        # "webview, message, url, phone".
        if event.template_id not in _RICH_TEMPLATES:
            raise ValidationError(
                f"template_id must be one of {', '.join(sorted(_RICH_TEMPLATES))}"
            )
        for element in elements:
            if len(element.buttons or []) > LIMITS.rich_message_buttons:
                raise ValidationError("Too many rich message buttons (max 13)")
            for button in element.buttons or ():
                if button.type is not None and button.type not in _BUTTON_TYPES:
                    raise ValidationError(
                        "button type must be one of " + ", ".join(sorted(_BUTTON_TYPES))
                    )
        return with_button_users(event)
    elif isinstance(event, File):
        # The URL must come from upload_file (the docs: "the LiveChat CDN").
        stored = backend.store.files.get(event.url)
        if stored is None:
            if agent:
                return event
            raise ValidationError("File url must come from upload_file")
        image = stored.content_type.startswith("image/")
        return msgspec.structs.replace(
            event,
            name=stored.name,
            content_type=stored.content_type,
            size=len(stored.data),
            thumbnail_url=event.url if image else None,
            thumbnail2x_url=event.url if image else None,
        )
    elif isinstance(event, Form) and not event.fields:
        raise ValidationError("Form needs fields")
    return event


def check_properties(
    backend: Backend,
    location: Location,
    properties: Properties | None,
    *,
    current: Properties | None = None,
) -> None:
    """Refuse properties not registered, of a wrong type, or too large.

    Args:
        backend: the state (its registry and bounds).
        location: where they are written.
        properties: the update.
        current: the properties the update merges into (their total is
            bounded too).

    Raises:
        ValidationError: not registered, or the wrong type.
        EntityTooLargeError: a value, or the merged whole, is over the bounds.
    """
    if not properties:
        return
    backend.properties.check_values(location, properties)
    bounds = backend.store.bounds
    for namespace, values in properties.items():
        for name, value in values.items():
            if len(_json.encode(value)) > bounds.property_value_bytes:
                raise EntityTooLargeError(
                    f"Property {namespace}.{name} is too large "
                    f"(max {bounds.property_value_bytes} bytes)"
                )
    merged = {ns: dict(values) for ns, values in (current or {}).items()}
    for namespace, values in properties.items():
        merged.setdefault(namespace, {}).update(values)
    if len(_json.encode(merged)) > bounds.properties_bytes:
        raise EntityTooLargeError(
            f"Properties are too large (max {bounds.properties_bytes} bytes)"
        )


_CUSTOMER_DATA = (
    "name",
    "email",
    "avatar",
    "phone_number",
    "session_fields",
    "address",
    "omnichannel",
    "page_url",
    "page_title",
    "customer_side_storage",
)


def check_customer_size(
    backend: Backend, customer: CustomerRecord, changes: dict[str, Any]
) -> None:
    """Refuse a change that takes the customer's data past ``bounds.customer_bytes``.

    Raises:
        EntityTooLargeError: the customer's data, changed, is too large.
    """
    data = {name: getattr(customer, name) for name in _CUSTOMER_DATA} | changes
    limit = backend.store.bounds.customer_bytes
    if len(_json.encode(data)) > limit:
        raise EntityTooLargeError(f"Customer data too large (max {limit} bytes)")


def bounded(value: int | None, name: str, default: int, maximum: int) -> int:
    """``value`` within 1 to ``maximum``, ``default`` when missing."""
    if value is None:
        return default
    if not 1 <= value <= maximum:
        raise ValidationError(f"{name} must be between 1 and {maximum}")
    return value


def sort_order(value: str | None) -> str:
    """``asc`` or ``desc`` (the default)."""
    if value is None:
        return "desc"
    if value not in _SORT_ORDERS:
        raise ValidationError("sort_order must be asc or desc")
    return value


def session_fields(fields: SessionFields) -> SessionFields:
    """Session fields checked: one key each, within the limit."""
    keys = 0
    for item in fields:
        if len(item) != 1:
            raise ValidationError("Each session field must hold exactly one key")
        keys += 1
    if keys > LIMITS.session_fields:
        # customer-sdk/index.mdx: "CUSTOMER_SESSION_FIELDS_LIMIT_REACHED".
        raise CustomerSessionFieldsLimitReachedError(
            f"Session fields limit reached (max {LIMITS.session_fields})"
        )
    return [dict(item) for item in fields]


def merged_session_fields(
    current: SessionFields, update: SessionFields
) -> SessionFields:
    """``update``'s keys over ``current``: known keys keep their place, new append."""
    merged = [dict(item) for item in current]
    where = {key: i for i, item in enumerate(merged) for key in item}
    for item in update:
        if len(item) != 1:
            raise ValidationError("Each session field must hold exactly one key")
        ((key, value),) = item.items()
        if key in where:
            merged[where[key]] = {key: value}
        else:
            where[key] = len(merged)
            merged.append({key: value})
    return merged


def with_button_users(event: RichMessage) -> RichMessage:
    """Every button with its ``user_ids`` ("always" present, data-structures)."""
    elements = [
        msgspec.structs.replace(
            element,
            buttons=[
                msgspec.structs.replace(b, user_ids=list(b.user_ids or ()))
                for b in element.buttons
            ],
        )
        if element.buttons
        else element
        for element in event.elements or ()
    ]
    return msgspec.structs.replace(event, elements=elements or event.elements)


def is_http_url(url: str) -> bool:
    """Whether ``url`` is an absolute http(s) URL."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)
