"""Properties: only registered ones, with their type and the customer's access.

Each rule cites the LiveChat docs (repository livechat-public-docs):
src/pages/messaging/references/default-properties/index.mdx ("default-properties").
"""

from __future__ import annotations

from typing import Any

import pytest

from rxlivechat import CustomerSDK, ValidationError
from rxlivechat.sandbox import Sandbox
from rxlivechat.sandbox.properties import (
    DEFAULT_PROPERTIES,
    Location,
    PropertyDefinition,
    PropertyRegistry,
)

CHAT: Location = "chat"


def refused(registry: PropertyRegistry, location: Any, values: Any) -> str:
    with pytest.raises(ValidationError) as info:
        registry.check_values(location, values)
    return info.value.message


def test_unregistered_properties_are_refused() -> None:
    # default-properties: "You cannot add or remove properties in a namespace."
    registry = PropertyRegistry()
    message = refused(registry, CHAT, {"shop": {"cart": 3}})
    assert message == "Property shop.cart is not registered for this license"
    assert "routing.pinned" in refused(registry, CHAT, {"routing": {"pinned": True}})


def test_a_registered_property_is_accepted_with_its_type() -> None:
    registry = PropertyRegistry({"shop": {"cart": "int"}})
    registry.check_values(CHAT, {"shop": {"cart": 3}})
    assert refused(registry, CHAT, {"shop": {"cart": "3"}}) == (
        "Property shop.cart must be int"
    )


def test_bool_is_not_int() -> None:
    # default-properties, rating.score: "Data type: int"; JSON true is no score.
    registry = PropertyRegistry()
    assert "must be int" in refused(registry, "thread", {"rating": {"score": True}})
    assert "0 or 1" in refused(registry, "thread", {"rating": {"score": 2}})
    registry.check_values("thread", {"rating": {"score": 1, "comment": "ok"}})


def test_access_is_per_location() -> None:
    registry = PropertyRegistry()
    # routing.transcript_email: "for Customers, rw in threads" only.
    registry.check_values("thread", {"routing": {"transcript_email": "a@b.c"}})
    assert "read-only" in refused(
        registry, CHAT, {"routing": {"transcript_email": "a@b.c"}}
    )
    # routing.start_url: "r for Agents and Customers in threads".
    assert "read-only" in refused(registry, "thread", {"routing": {"start_url": "x"}})
    with pytest.raises(ValidationError, match="read-only"):
        registry.check_names("thread", {"routing": ["start_url"]})


def test_the_reference_test_namespace_is_registered_everywhere() -> None:
    # default-properties, test.*: "rw for all roles in all locations".
    registry = PropertyRegistry()
    for location in ("chat", "thread", "event"):
        registry.check_values(location, {"test": {"string_property": "v"}})


def test_definitions_name_known_locations_and_types() -> None:
    with pytest.raises(ValueError, match="locations"):
        PropertyDefinition.of("int", rw="chats")
    with pytest.raises(ValueError, match="type"):
        PropertyRegistry({"a": {"b": "float"}})
    # Every default property a customer can reach is readable or writable somewhere.
    for names in DEFAULT_PROPERTIES.values():
        for definition in names.values():
            assert definition.read | definition.write


@pytest.mark.sandbox(properties={"shop": {"cart": "int"}})
async def test_sandbox_registers_what_a_test_names(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    chat = await sdk.start_chat()
    await sdk.update_chat_properties(chat.id, {"shop": {"cart": 3}})
    with pytest.raises(ValidationError, match="not registered"):
        await sdk.update_chat_properties(chat.id, {"shop": {"coupon": "X"}})
    with pytest.raises(ValidationError, match="must be int"):
        await sdk.update_chat_properties(chat.id, {"shop": {"cart": True}})
    got = await sdk.get_chat(chat.id)
    assert (got.properties or {})["shop"] == {"cart": 3}
