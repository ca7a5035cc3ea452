"""Chats: list them, read them, start, resume and close them."""

from __future__ import annotations

from ...exceptions import (
    ChatAlreadyActiveError,
    ChatLimitReachedError,
    LimitReachedError,
    ValidationError,
)
from ...protocol import methods as m
from ...protocol.base import EmptyResult
from ...protocol.limits import LIMITS
from ...protocol.models import SystemMessage
from ..pagination import decode_page_id, paginate
from ..records import CustomerRecord
from .backend import Backend, merge_properties
from .base import Outcome, ok
from .checks import (
    bounded,
    check_access,
    check_new_events,
    check_properties,
    require_online,
    sort_order,
)
from .registry import handles


@handles(m.ListChats)
def list_chats(
    backend: Backend, customer: CustomerRecord, req: m.ListChats
) -> Outcome[m.ListChatsResult]:
    """The customer's chats, a page at a time (newest first by default)."""
    cursor = None
    if req.page_id is not None:
        # §5: a later page takes nothing but page_id.
        if req.limit is not None or req.sort_order is not None:
            raise ValidationError("page_id cannot be combined with other fields")
        cursor = decode_page_id(req.page_id, kind="chats", scope=customer.id)
    limit = bounded(
        req.limit, "limit", LIMITS.list_chats_default, LIMITS.list_chats_max
    )
    order = sort_order(req.sort_order)
    chats = backend.store.customer_chats(customer.id)
    page = paginate(
        chats,
        [c.key for c in chats],  # a customer has few chats (chats_per_customer)
        kind="chats",
        scope=customer.id,
        sort_order=order,
        limit=limit,
        cursor=cursor,
    )
    return Outcome(
        m.ListChatsResult(
            chats_summary=[
                backend.store.chat_summary(c, customer.id) for c in page.items
            ],
            total_chats=len(chats),
            next_page_id=page.next_page_id,
            previous_page_id=page.previous_page_id,
        )
    )


@handles(m.ListThreads)
def list_threads(
    backend: Backend, customer: CustomerRecord, req: m.ListThreads
) -> Outcome[m.ListThreadsResult]:
    """A chat's threads, a page at a time (or as many as hold ``min_events_count``)."""
    store = backend.store
    chat = store.chat_of(customer.id, req.chat_id)
    cursor = None
    if req.page_id is not None:
        if (
            req.limit is not None
            or req.sort_order is not None
            or req.min_events_count is not None
        ):
            raise ValidationError("page_id cannot be combined with other fields")
        cursor = decode_page_id(req.page_id, kind="threads", scope=chat.id)
    if req.limit is not None and req.min_events_count is not None:
        raise ValidationError("limit cannot be combined with min_events_count")
    min_count = None
    if req.min_events_count is not None:
        min_count = bounded(
            req.min_events_count, "min_events_count", 1, LIMITS.min_events_count_max
        )
    limit = bounded(
        req.limit, "limit", LIMITS.list_threads_default, LIMITS.list_threads_max
    )
    page = paginate(
        chat.threads,
        chat.thread_keys,
        kind="threads",
        scope=chat.id,
        sort_order=sort_order(req.sort_order),
        limit=None if min_count is not None else limit,
        min_count=min_count,
        weight=lambda t: sum(1 for _ in store.visible_events(t, customer.id)),
        cursor=cursor,
    )
    return Outcome(
        m.ListThreadsResult(
            threads=[store.thread_model(chat, t, customer.id) for t in page.items],
            found_threads=len(chat.threads),
            next_page_id=page.next_page_id,
            previous_page_id=page.previous_page_id,
        )
    )


@handles(m.GetChat)
def get_chat(
    backend: Backend, customer: CustomerRecord, req: m.GetChat
) -> Outcome[m.GetChatResult]:
    """One chat with one thread (the last when none is named)."""
    chat = backend.store.chat_of(customer.id, req.chat_id)
    thread = chat.thread(req.thread_id) if req.thread_id else chat.last_thread
    return Outcome(backend.store.chat_model(chat, thread, customer.id))


@handles(m.StartChat)
def start_chat(
    backend: Backend, customer: CustomerRecord, req: m.StartChat
) -> Outcome[m.StartChatResult]:
    """A new chat with its first thread, routed to the chat's groups."""
    store = backend.store
    spec = req.chat or m.StartChatSpec()
    if len(store.chats_by_customer.get(customer.id, [])) >= backend.chats_per_customer:
        # customer-sdk/index.mdx: "CHAT_LIMIT_REACHED - the maximum limit of
        # chats per customer has been reached ... The limit is 1."
        raise ChatLimitReachedError("Chat limit reached")
    if len(store.chats) >= store.bounds.chats:
        raise LimitReachedError(f"Chats limit reached ({store.bounds.chats})")
    for user in spec.users or ():
        if user.id != customer.id:
            raise ValidationError("chat.users may only hold the requester")
    events = check_new_events(backend, spec.thread.events if spec.thread else None)
    access = check_access(backend, spec.access)
    check_properties(backend, "chat", spec.properties)
    check_properties(backend, "thread", spec.thread.properties if spec.thread else None)
    continuous = bool(req.continuous)
    active = req.active is not False
    if active and not continuous:
        require_online(backend, access)
    backend.require_room()
    chat = store.new_chat(
        customer.id,
        access=access,
        properties=spec.properties,
        continuous=continuous,
    )
    thread = store.new_thread(
        chat,
        active=active,
        properties=spec.thread.properties if spec.thread else None,
    )
    event_ids = [store.add_event(thread, e, author_id=customer.id).id for e in events]
    backend.seen_all(chat, customer.id)
    result = m.StartChatResult(
        chat_id=chat.id,
        thread_id=thread.id,
        event_ids=[i for i in event_ids if i is not None] or None,
    )
    return Outcome(result, [backend.incoming_chat(chat, thread, customer.id)])


@handles(m.ResumeChat)
def resume_chat(
    backend: Backend, customer: CustomerRecord, req: m.ResumeChat
) -> Outcome[m.ResumeChatResult]:
    """A new thread in an inactive chat; its former agents come back."""
    store = backend.store
    spec = req.chat
    chat = store.chat_of(customer.id, spec.id)
    if chat.active:
        # customer-sdk/index.mdx: "CHAT_ALREADY_ACTIVE - the chat is already
        # active and you can't activate it again."
        raise ChatAlreadyActiveError("Chat is already active")
    for user in spec.users or ():
        if user.id != customer.id:
            raise ValidationError("chat.users may only hold the requester")
    events = check_new_events(backend, spec.thread.events if spec.thread else None)
    access = check_access(backend, spec.access) if spec.access else chat.access
    check_properties(backend, "chat", spec.properties)
    check_properties(backend, "thread", spec.thread.properties if spec.thread else None)
    continuous = chat.continuous if req.continuous is None else req.continuous
    active = req.active is not False
    if active and not continuous:
        require_online(backend, access)
    backend.require_room()
    chat.access = access
    chat.continuous = continuous
    merge_properties(chat.properties, spec.properties)
    thread = store.new_thread(
        chat,
        active=active,
        properties=spec.thread.properties if spec.thread else None,
    )
    event_ids = [store.add_event(thread, e, author_id=customer.id).id for e in events]
    backend.seen_all(chat, customer.id)
    result = m.ResumeChatResult(
        thread_id=thread.id,
        event_ids=[i for i in event_ids if i is not None] or None,
    )
    incoming = backend.incoming_chat(chat, thread, customer.id)
    return Outcome(result, [incoming, *backend.route_again(chat, thread)])


@handles(m.DeactivateChat)
def deactivate_chat(
    backend: Backend, customer: CustomerRecord, req: m.DeactivateChat
) -> Outcome[EmptyResult]:
    """The customer closes the chat's open thread."""
    chat = backend.store.chat_of(customer.id, req.id)
    name = customer.name or "Customer"
    return ok(
        backend.close(
            chat,
            customer.id,
            SystemMessage(
                system_message_type="manual_archived_customer",
                text=f"{name} archived the chat",
                text_vars={"customer": name},
            ),
        )
    )
