"""Chat, thread, event, license and group properties (docs/protocol.md §2.4)."""

from __future__ import annotations

from typing import TypeAlias

from ..base import EmptyResult, Method
from ..models import (
    Properties,
)
from .fields import (
    GroupId,
    Id,
    PropertiesIn,
    PropertyNamesIn,
)


class UpdateChatProperties(Method[EmptyResult]):
    """Set chat properties (members get ``chat_properties_updated``).

    Args:
        chat_id: the chat.
        properties: ``{"namespace": {"name": value}}``.

    Returns:
        An observable of the empty reply.

    Raises:
        InvalidArgumentError: a bad id or properties.
        SDKClosedError: the SDK was destroyed.

    Example:
        >>> await sdk.update_chat_properties(
        ...     chat.id, {"routing": {"email_follow_up": True}}
        ... )
        EmptyResult()
    """

    action = "update_chat_properties"

    id: Id
    properties: PropertiesIn


class DeleteChatProperties(Method[EmptyResult]):
    """Delete chat properties (members get ``chat_properties_deleted``).

    Args:
        chat_id: the chat (sent as ``id``).
        properties: ``{"namespace": ["name", ...]}``.

    Returns:
        An observable of the empty reply.

    Raises:
        InvalidArgumentError: a bad id or property names.

    Example:
        >>> await sdk.delete_chat_properties(
        ...     chat.id, {"routing": ["email_follow_up"]}
        ... )
        EmptyResult()
    """

    action = "delete_chat_properties"

    id: Id
    properties: PropertyNamesIn


class UpdateThreadProperties(Method[EmptyResult]):
    """Set thread properties (members get ``thread_properties_updated``).

    The v3.6 name of v1's ``update_chat_thread_properties``.

    Args:
        chat_id: the chat.
        thread_id: the thread.
        properties: ``{"namespace": {"name": value}}``.

    Returns:
        An observable of the empty reply.

    Raises:
        InvalidArgumentError: a bad id or properties.

    Example:
        >>> await sdk.update_thread_properties(
        ...     chat.id, thread_id, {"routing": {"transcript_email": "a@b.c"}}
        ... )
        EmptyResult()
    """

    action = "update_thread_properties"

    chat_id: Id
    thread_id: Id
    properties: PropertiesIn


class DeleteThreadProperties(Method[EmptyResult]):
    """Delete thread properties (members get ``thread_properties_deleted``).

    Args:
        chat_id: the chat.
        thread_id: the thread.
        properties: ``{"namespace": ["name", ...]}``.

    Returns:
        An observable of the empty reply.

    Raises:
        InvalidArgumentError: a bad id or property names.

    Example:
        >>> await sdk.delete_thread_properties(
        ...     chat.id, thread_id, {"routing": ["transcript_email"]}
        ... )
        EmptyResult()
    """

    action = "delete_thread_properties"

    chat_id: Id
    thread_id: Id
    properties: PropertyNamesIn


class UpdateEventProperties(Method[EmptyResult]):
    """Set event properties (members get ``event_properties_updated``).

    Args:
        chat_id: the chat.
        thread_id: the event's thread.
        event_id: the event.
        properties: ``{"namespace": {"name": value}}``.

    Returns:
        An observable of the empty reply.

    Raises:
        InvalidArgumentError: a bad id or properties.

    Example:
        >>> await sdk.update_event_properties(
        ...     chat.id, thread_id, event.id, {"status": {"delivered": True}}
        ... )
        EmptyResult()
    """

    action = "update_event_properties"

    chat_id: Id
    thread_id: Id
    event_id: Id
    properties: PropertiesIn


class DeleteEventProperties(Method[EmptyResult]):
    """Delete event properties (members get ``event_properties_deleted``).

    Args:
        chat_id: the chat.
        thread_id: the event's thread.
        event_id: the event.
        properties: ``{"namespace": ["name", ...]}``.

    Returns:
        An observable of the empty reply.

    Raises:
        InvalidArgumentError: a bad id or property names.

    Example:
        >>> await sdk.delete_event_properties(
        ...     chat.id, thread_id, event.id, {"status": ["delivered"]}
        ... )
        EmptyResult()
    """

    action = "delete_event_properties"

    chat_id: Id
    thread_id: Id
    event_id: Id
    properties: PropertyNamesIn


ListLicensePropertiesResult: TypeAlias = Properties
"""The reply of ``list_license_properties``: ``{"<ns>": {"<name>": value}}``."""


class ListLicenseProperties(Method[ListLicensePropertiesResult]):
    """The license's properties (Web API ``GET``, no token needed).

    Args:
        namespace: only this namespace.
        name: only properties with this name.

    Returns:
        An observable of ``{"namespace": {"name": value}}``.

    Raises:
        InvalidArgumentError: a bad filter.

    Example:
        >>> await sdk.list_license_properties(namespace="shop")
        {'shop': {'currency': 'EUR'}}
    """

    action = "list_license_properties"
    result_type = ListLicensePropertiesResult
    rtm = False
    web = "GET"

    namespace: Id | None = None
    name: Id | None = None


ListGroupPropertiesResult: TypeAlias = Properties
"""The reply of ``list_group_properties``: ``{"<ns>": {"<name>": value}}``."""


class ListGroupProperties(Method[ListGroupPropertiesResult]):
    """A group's properties (Web API ``GET``, no token needed).

    Args:
        group_id: the group (sent as ``id``).
        namespace: only this namespace.
        name: only properties with this name.

    Returns:
        An observable of ``{"namespace": {"name": value}}``; it errors with
        :class:`~rxlivechat.exceptions.GroupNotFoundError` for an unknown group.

    Raises:
        InvalidArgumentError: a bad group id or filter.

    Example:
        >>> await sdk.list_group_properties(0, namespace="shop")
        {'shop': {'hours': '9-17'}}
    """

    action = "list_group_properties"
    result_type = ListGroupPropertiesResult
    rtm = False
    web = "GET"

    id: GroupId
    namespace: Id | None = None
    name: Id | None = None
