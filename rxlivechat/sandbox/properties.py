"""The properties a license has: which exist, their type, and what customers may do.

Rules (LiveChat's "Default properties" reference and the Configuration API):

1. A property exists only when it is registered for the license: the default
   properties every license gets, plus those an app registers ("You cannot add or
   remove properties in a namespace"). Writing any other is refused.
2. Each property has one data type; a value of another type is refused. ``int``
   takes no ``bool`` (JSON ``true`` is not ``1``), and ``rating.score`` is 0 or 1.
3. Customer access is per location (chat, thread, event): a customer writes only
   where the reference gives it ``w``.
4. The wire error for a refused property is not documented: the sandbox answers
   ``validation`` (docs/sandbox-choices.md).

Pure data and checks: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..exceptions import ValidationError

__all__ = [
    "DEFAULT_PROPERTIES",
    "TEST_PROPERTIES",
    "Location",
    "PropertiesSpec",
    "PropertyDefinition",
    "PropertyRegistry",
    "PropertyType",
]

PropertyType = Literal["int", "bool", "string", "tokenized_string"]
Location = Literal["chat", "thread", "event"]
_LOCATIONS: tuple[Location, ...] = ("chat", "thread", "event")
_TYPES = frozenset({"int", "bool", "string", "tokenized_string"})


@dataclass(frozen=True)
class PropertyDefinition:
    """One registered property, as the customer sees it.

    Attributes:
        type: the data type every value must have.
        write: the locations where a customer may set or delete it.
        read: the locations where a customer may read it (informative: values are
            not filtered on the way out).
    """

    type: PropertyType
    write: frozenset[Location] = frozenset()
    read: frozenset[Location] = frozenset()

    @classmethod
    def of(
        cls, type: PropertyType, *, rw: str = "", r: str = "", w: str = ""
    ) -> PropertyDefinition:
        """A definition from space-separated locations: ``of("int", rw="chat")``."""
        rw_at = _locations(rw)
        return cls(
            type,
            write=rw_at | _locations(w),
            read=rw_at | _locations(r),
        )

    def check(self, name: str, value: Any) -> None:
        """Refuse ``value`` unless it has this property's type."""
        ok = {
            "int": isinstance(value, int) and not isinstance(value, bool),
            "bool": isinstance(value, bool),
            "string": isinstance(value, str),
            "tokenized_string": isinstance(value, str),
        }[self.type]
        if not ok:
            shown = "string" if "string" in self.type else self.type
            raise ValidationError(f"Property {name} must be {shown}")


def _locations(spec: str) -> frozenset[Location]:
    chosen = frozenset(spec.split())
    unknown = chosen - set(_LOCATIONS)
    if unknown:
        raise ValueError(f"unknown property locations {sorted(unknown)}")
    return frozenset(loc for loc in _LOCATIONS if loc in chosen)


_ = PropertyDefinition.of

DEFAULT_PROPERTIES: Mapping[str, Mapping[str, PropertyDefinition]] = {
    # Only the defaults a customer can reach (reference: "Access" rows naming
    # Customers); the agent-only ones are unregistered for a customer anyway.
    "chats": {
        "formatting": _("string", rw="event"),
        "welcome_message_source": _("string", r="event"),
    },
    "lc2": {
        "form_type": _("string", rw="event"),
        "greeting_id": _("int", rw="thread", r="event"),
        "greeting_unique_id": _("string", rw="thread", r="event"),
        "welcome_message": _("bool", r="event"),
    },
    "rating": {
        "comment": _("string", rw="chat thread event"),
        "score": _("int", rw="chat thread event"),
    },
    "routing": {
        "continuous": _("bool", r="chat thread"),
        "email_follow_up": _("bool", rw="chat"),
        "offline_message": _("bool", rw="thread"),
        "ignore_agents_routing": _("bool", rw="chat"),
        "ignore_bots": _("bool", w="thread"),
        "start_url": _("string", r="thread"),
        "transcript_email": _("string", rw="thread"),
    },
    "source": {
        "client_id": _("string", r="chat thread event"),
        "customer_client_id": _("string", r="chat thread"),
    },
    "status": {"delivered": _("bool", rw="event")},
    "translation": {
        "source_lang_code": _("string", r="event"),
        "target_lang_code": _("string", r="event"),
        "target_message": _("tokenized_string", r="event"),
    },
    "url_details": {
        "description": _("string", rw="event"),
        "image_height": _("int", rw="event"),
        "image_width": _("int", rw="event"),
        "image_url": _("string", rw="event"),
        "title": _("string", rw="event"),
        "url": _("string", rw="event"),
    },
}
"""The default properties a customer can read or write (the reference, v3.6)."""

TEST_PROPERTIES: Mapping[str, Mapping[str, PropertyDefinition]] = {
    # The reference's "test" namespace: rw for all roles in all locations.
    "test": {
        "bool_property": _("bool", rw="chat thread event"),
        "int_property": _("int", rw="chat thread event"),
        "string_property": _("string", rw="chat thread event"),
        "tokenized_string_property": _("tokenized_string", rw="chat thread event"),
    }
}
"""The reference's ``test`` namespace, registered in every sandbox."""

PropertiesSpec = Mapping[str, Mapping[str, "PropertyDefinition | str"]]
"""What ``Sandbox(properties=...)`` takes: a definition, or just a type name
(readable and writable by customers everywhere)."""


def _definition(given: PropertyDefinition | str) -> PropertyDefinition:
    if isinstance(given, str):
        given = PropertyDefinition.of(given, rw="chat thread event")  # type: ignore[arg-type]
    if given.type not in _TYPES:
        raise ValueError(f"unknown property type {given.type!r}")
    return given


class PropertyRegistry:
    """The license's registered properties, and the customer-side checks.

    Args:
        extra: properties an app registered, ``{namespace: {name: definition}}``;
            a bare type name (``"int"``) means ``rw`` in every location.
    """

    def __init__(self, extra: PropertiesSpec | None = None) -> None:
        self._known: dict[tuple[str, str], PropertyDefinition] = {}
        for table in (DEFAULT_PROPERTIES, TEST_PROPERTIES, extra or {}):
            for namespace, names in table.items():
                for name, definition in names.items():
                    self._known[namespace, name] = _definition(definition)

    def definition(self, namespace: str, name: str) -> PropertyDefinition | None:
        """The registered definition, or ``None``."""
        return self._known.get((namespace, name))

    def check_values(self, location: Location, properties: Mapping[str, Any]) -> None:
        """Refuse a customer's write of ``properties`` at ``location``."""
        for namespace, values in properties.items():
            if not isinstance(values, dict):
                raise ValidationError(f"Properties of {namespace} must be an object")
            for name, value in values.items():
                definition = self._writable(location, namespace, name)
                definition.check(f"{namespace}.{name}", value)
                if (namespace, name) == ("rating", "score") and value not in (0, 1):
                    raise ValidationError("rating.score must be 0 or 1")

    def check_names(
        self, location: Location, names: Mapping[str, Iterable[str]]
    ) -> None:
        """Refuse a customer's delete of ``names`` at ``location``."""
        for namespace, keys in names.items():
            for name in keys:
                self._writable(location, namespace, name)

    def _writable(
        self, location: Location, namespace: str, name: str
    ) -> PropertyDefinition:
        definition = self._known.get((namespace, name))
        if definition is None:
            raise ValidationError(
                f"Property {namespace}.{name} is not registered for this license"
            )
        if location not in definition.write:
            raise ValidationError(
                f"Property {namespace}.{name} is read-only for customers in {location}s"
            )
        return definition
