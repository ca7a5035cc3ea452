"""Properties of chats, threads, events, the license and groups."""

from __future__ import annotations

import msgspec

from ...exceptions import GroupNotFoundError
from ...protocol import methods as m
from ...protocol.base import EmptyResult
from ...protocol.models import Properties, SystemMessage
from ...protocol.pushes import (
    ChatPropertiesDeleted,
    ChatPropertiesUpdated,
    EventPropertiesDeleted,
    EventPropertiesUpdated,
    ThreadPropertiesDeleted,
    ThreadPropertiesUpdated,
)
from ..records import CustomerRecord
from .backend import Backend, delete_properties, merge_properties
from .base import Outcome, Outgoing, ok
from .checks import check_properties
from .registry import handles


@handles(m.UpdateChatProperties)
def update_chat_properties(
    backend: Backend, customer: CustomerRecord, req: m.UpdateChatProperties
) -> Outcome[EmptyResult]:
    """Set chat properties (merged by namespace)."""
    chat = backend.store.chat_of(customer.id, req.id)
    check_properties(backend, "chat", req.properties, current=chat.properties)
    merge_properties(chat.properties, req.properties)
    push = ChatPropertiesUpdated(chat_id=chat.id, properties=req.properties)
    return ok([Outgoing(push, backend.members(chat))])


@handles(m.DeleteChatProperties)
def delete_chat_properties(
    backend: Backend, customer: CustomerRecord, req: m.DeleteChatProperties
) -> Outcome[EmptyResult]:
    """Delete chat properties by name."""
    chat = backend.store.chat_of(customer.id, req.id)
    backend.properties.check_names("chat", req.properties)
    delete_properties(chat.properties, req.properties)
    push = ChatPropertiesDeleted(chat_id=chat.id, properties=req.properties)
    return ok([Outgoing(push, backend.members(chat))])


@handles(m.UpdateThreadProperties)
def update_thread_properties(
    backend: Backend, customer: CustomerRecord, req: m.UpdateThreadProperties
) -> Outcome[EmptyResult]:
    """Set thread properties; a rating adds its system message."""
    chat = backend.store.chat_of(customer.id, req.chat_id)
    thread = chat.thread(req.thread_id)
    check_properties(backend, "thread", req.properties, current=thread.properties)
    rating = req.properties.get("rating", {})
    if rating:
        backend.require_room(thread)  # its system messages must fit
    merge_properties(thread.properties, req.properties)
    push = ThreadPropertiesUpdated(
        chat_id=chat.id, thread_id=thread.id, properties=req.properties
    )
    pushes = [Outgoing(push, backend.members(chat))]
    # Rating system messages (inferred from references/system-activities).
    name = customer.name or "Customer"
    if "score" in rating:
        score = "good" if rating["score"] == 1 else "bad"
        pushes += backend.append(
            chat,
            thread,
            SystemMessage(
                system_message_type="rating.chat_rated",
                text=f"{name} rated the chat as {score}",
                text_vars={"customer": name, "score": score},
            ),
            None,
        )[1]
    if rating.get("comment"):
        comment = str(rating["comment"])
        pushes += backend.append(
            chat,
            thread,
            SystemMessage(
                system_message_type="rating.chat_commented",
                text=f"{name} left the following comment: {comment}",
                text_vars={"customer": name, "comment": comment},
            ),
            None,
        )[1]
    return ok(pushes)


@handles(m.DeleteThreadProperties)
def delete_thread_properties(
    backend: Backend, customer: CustomerRecord, req: m.DeleteThreadProperties
) -> Outcome[EmptyResult]:
    """Delete thread properties; a removed rating says so."""
    chat = backend.store.chat_of(customer.id, req.chat_id)
    thread = chat.thread(req.thread_id)
    backend.properties.check_names("thread", req.properties)
    had_rating = "score" in thread.properties.get("rating", {})
    delete_properties(thread.properties, req.properties)
    push = ThreadPropertiesDeleted(
        chat_id=chat.id, thread_id=thread.id, properties=req.properties
    )
    pushes = [Outgoing(push, backend.members(chat))]
    if had_rating and "score" in req.properties.get("rating", []):
        name = customer.name or "Customer"
        pushes += backend.append(
            chat,
            thread,
            SystemMessage(
                system_message_type="rating.chat_rating_canceled",
                text=f"{name} canceled the chat rating",
                text_vars={"customer": name},
            ),
            None,
        )[1]
    return ok(pushes)


@handles(m.UpdateEventProperties)
def update_event_properties(
    backend: Backend, customer: CustomerRecord, req: m.UpdateEventProperties
) -> Outcome[EmptyResult]:
    """Set properties of an event (a new copy of it is stored)."""
    chat, thread, event = backend.event_of(
        customer, req.chat_id, req.thread_id, req.event_id
    )
    check_properties(backend, "event", req.properties, current=event.properties)
    properties = {ns: dict(v) for ns, v in (event.properties or {}).items()}
    merge_properties(properties, req.properties)
    thread.replace_event(msgspec.structs.replace(event, properties=properties))
    push = EventPropertiesUpdated(
        chat_id=chat.id,
        thread_id=thread.id,
        event_id=req.event_id,
        properties=req.properties,
    )
    return ok([Outgoing(push, backend.members(chat))])


@handles(m.DeleteEventProperties)
def delete_event_properties(
    backend: Backend, customer: CustomerRecord, req: m.DeleteEventProperties
) -> Outcome[EmptyResult]:
    """Delete properties of an event."""
    chat, thread, event = backend.event_of(
        customer, req.chat_id, req.thread_id, req.event_id
    )
    backend.properties.check_names("event", req.properties)
    properties = {ns: dict(v) for ns, v in (event.properties or {}).items()}
    delete_properties(properties, req.properties)
    thread.replace_event(msgspec.structs.replace(event, properties=properties or None))
    push = EventPropertiesDeleted(
        chat_id=chat.id,
        thread_id=thread.id,
        event_id=req.event_id,
        properties=req.properties,
    )
    return ok([Outgoing(push, backend.members(chat))])


@handles(m.ListLicenseProperties)
def list_license_properties(
    backend: Backend, customer: CustomerRecord, req: m.ListLicenseProperties
) -> Outcome[Properties]:
    """The license's properties, optionally one namespace or name."""
    return Outcome(
        _filter_properties(backend.store.license_properties, req.namespace, req.name)
    )


@handles(m.ListGroupProperties)
def list_group_properties(
    backend: Backend, customer: CustomerRecord, req: m.ListGroupProperties
) -> Outcome[Properties]:
    """A group's properties, optionally one namespace or name."""
    group = backend.store.group(req.id)
    if group is None:
        raise GroupNotFoundError("Group not found")
    return Outcome(_filter_properties(group.properties, req.namespace, req.name))


def _filter_properties(
    properties: Properties, namespace: str | None, name: str | None
) -> Properties:
    result: Properties = {}
    for ns, values in properties.items():
        if namespace is not None and ns != namespace:
            continue
        chosen = {k: v for k, v in values.items() if name is None or k == name}
        if chosen:
            result[ns] = chosen
    return result
