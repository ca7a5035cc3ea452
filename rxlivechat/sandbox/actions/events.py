"""Events: send, delete, postbacks, sneak peeks, and marking them seen."""

from __future__ import annotations

import msgspec

from ...exceptions import AuthorizationError, ChatInactiveError, ValidationError
from ...protocol import methods as m
from ...protocol.base import EmptyResult
from ...protocol.models import RichMessage
from ...protocol.pushes import EventDeleted, IncomingRichMessagePostback
from ..records import CustomerRecord, SneakPeek
from .backend import Backend
from .base import IncomingSneakPeek, Outcome, Outgoing, ok
from .checks import check_new_events
from .registry import handles


@handles(m.SendEvent)
def send_event(
    backend: Backend, customer: CustomerRecord, req: m.SendEvent
) -> Outcome[m.SendEventResult]:
    """An event from the customer into the chat's open (or last) thread."""
    chat = backend.store.chat_of(customer.id, req.chat_id)
    (event,) = check_new_events(backend, [req.event])
    thread = backend.writable_thread(chat, req.attach_to_last_thread)
    stored, pushes = backend.append(chat, thread, event, customer.id)
    backend.seen_all(chat, customer.id)
    assert stored.id is not None
    return Outcome(m.SendEventResult(event_id=stored.id), pushes)


@handles(m.DeleteEvent)
def delete_event(
    backend: Backend, customer: CustomerRecord, req: m.DeleteEvent
) -> Outcome[EmptyResult]:
    """The customer deletes one of their own events."""
    chat, thread, event = backend.event_of(
        customer, req.chat_id, req.thread_id, req.event_id
    )
    if event.author_id != customer.id:
        # A customer deletes only their own events (inferred).
        raise AuthorizationError("Cannot delete another user's event")
    thread.deleted.add(req.event_id)
    push = EventDeleted(chat_id=chat.id, thread_id=thread.id, event_id=req.event_id)
    return ok([Outgoing(push, backend.members(chat))])


@handles(m.UploadFile)
def upload_file(
    backend: Backend, customer: CustomerRecord, req: m.UploadFile
) -> Outcome[m.UploadFileResult]:
    """Only the Web API's multipart body carries a file (:mod:`..http.files`)."""
    # The multipart body is handled by the web glue (store_upload); an
    # upload_file request without a file is malformed.
    raise ValidationError("upload_file needs a multipart part named 'file'")


@handles(m.SendRichMessagePostback)
def send_rich_message_postback(
    backend: Backend, customer: CustomerRecord, req: m.SendRichMessagePostback
) -> Outcome[EmptyResult]:
    """A button of a rich message pressed (or released) by the customer."""
    chat, thread, event = backend.event_of(
        customer, req.chat_id, req.thread_id, req.event_id
    )
    if not isinstance(event, RichMessage):
        raise ValidationError("Event is not a rich message")
    # data-structures: buttons.user_ids "Describes users that sent the
    # postback with "toggled": true"; postback.id is "the postback name of
    # the button" (rtm-reference).
    toggled = _toggle_button(event, req.postback.id, customer.id, req.postback.toggled)
    if toggled is None:
        raise ValidationError(f"No button with postback id {req.postback.id}")
    thread.replace_event(toggled)
    if not thread.active:
        return ok()  # the push is sent for active threads only
    push = IncomingRichMessagePostback(
        user_id=customer.id,
        chat_id=chat.id,
        thread_id=thread.id,
        event_id=req.event_id,
        postback=req.postback,
    )
    return ok([Outgoing(push, backend.members(chat))])


@handles(m.SendSneakPeek)
def send_sneak_peek(
    backend: Backend, customer: CustomerRecord, req: m.SendSneakPeek
) -> Outcome[EmptyResult]:
    """What the customer is typing, for the agents in the chat."""
    chat = backend.store.chat_of(customer.id, req.chat_id)
    thread = chat.last_thread
    if thread is None or not thread.active:
        raise ChatInactiveError("Chat is inactive")
    bounds = backend.store.bounds
    text = req.sneak_peek_text.encode()[: bounds.sneak_peek_bytes]
    peek = SneakPeek(
        chat_id=chat.id,
        thread_id=thread.id,
        text=text.decode(errors="ignore"),  # a character cut in two goes
        sent_at=backend.store.clock.now(),
    )
    chat.sneak_peeks.append(peek)
    del chat.sneak_peeks[: -bounds.sneak_peeks]  # the latest only
    notice = IncomingSneakPeek(
        chat_id=chat.id,
        thread_id=thread.id,
        sneak_peek_text=peek.text,
        sent_at=peek.sent_at,
    )
    agents = frozenset(backend.members(chat) - {customer.id})
    return ok([Outgoing(notice, agents)] if agents else [])


@handles(m.MarkEventsAsSeen)
def mark_events_as_seen(
    backend: Backend, customer: CustomerRecord, req: m.MarkEventsAsSeen
) -> Outcome[EmptyResult]:
    """The customer saw the chat's events up to a time."""
    chat = backend.store.chat_of(customer.id, req.chat_id)
    # Nothing after now can have been seen: a later time (a client clock ahead
    # of the server's) is taken as now (docs/sandbox-choices.md).
    seen_up_to = min(req.seen_up_to, backend.store.clock.now())
    return ok(backend.mark_seen(chat, customer.id, seen_up_to))


def _toggle_button(
    event: RichMessage, postback_id: str, user_id: str, toggled: bool
) -> RichMessage | None:
    """``event`` with ``user_id`` in or out of the button's ``user_ids``."""
    found = False
    elements = []
    for element in event.elements or ():
        buttons = []
        for button in element.buttons or ():
            if button.postback_id == postback_id:
                found = True
                users = [u for u in button.user_ids or () if u != user_id]
                if toggled:
                    users.append(user_id)
                button = msgspec.structs.replace(button, user_ids=users)
            buttons.append(button)
        elements.append(
            msgspec.structs.replace(element, buttons=buttons)
            if element.buttons
            else element
        )
    if not found:
        return None
    return msgspec.structs.replace(event, elements=elements)
