"""Exactly-once events: a ``custom_id`` per call, and uncertain sends looked up.

A request that creates an event (``send_event``, the file event of
``send_file``, ``start_chat`` or ``resume_chat`` with initial events) whose
socket drops before the reply may or may not have been applied. Each such
request carries a ``custom_id`` (assigned here when the caller gave none), so
the SDK can read the chat back and know:

.. code-block:: text

    send_event ─► socket drops ─► login ─► find_sent(chat, custom_id)
                                              ├─ found  ─► settle with that event
                                              └─ absent ─► send it (again)

Rules:

1. The ``custom_id`` is put on the request's Method Struct, which the call builds
   once and re-uses for every subscription: a retry, a second ``await`` or a
   reconnect carry the same one. The caller's event is copied, never changed (the
   same ``Message`` object sent twice is two messages).
2. The lookup is bounded: the chat's newest threads, :data:`LOOKUP_EVENTS` events
   at least, :data:`LOOKUP_PAGES` pages at most. An uncertain send older than that
   is not found, and is sent again (docs/concepts.md, "Exactly once").
3. ``start_chat`` makes a new chat whose id the lost reply carried: with initial
   events, the customer's newest chats (:data:`LOOKUP_CHATS`, from ``list_chats``)
   are looked in, each chat's newest page; without events there is nothing to
   find, and its loss stays a ``ConnectionLost``.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from ..protocol import methods as m
from ..protocol.frames import Push
from ..protocol.models import Event
from ..protocol.pushes import IncomingChat, IncomingEvent

__all__ = [
    "LOOKUP_EVENTS",
    "LOOKUP_PAGES",
    "Key",
    "claim",
    "find_sent",
    "new_custom_id",
    "settled",
]

LOOKUP_EVENTS = 100
"""Events a lookup asks for per ``list_threads`` page (``min_events_count``)."""

LOOKUP_PAGES = 3
"""Pages of ``list_threads`` a lookup walks at most (newest threads first)."""

LOOKUP_CHATS = 10
"""The customer's newest chats a lost ``start_chat`` is looked for in."""

Key = tuple[str, str]
"""``(chat_id, custom_id)``: where an event-creating request's event is found
(``chat_id`` empty: in the customer's newest chats, for ``start_chat``)."""

Ask = Callable[[Any], Awaitable[Any]]


def _new_prefix() -> None:
    global _prefix
    _prefix = f"rx-{os.urandom(9).hex()}-"


_prefix = ""
_new_prefix()
if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_new_prefix)  # a child draws its own prefix
_count = itertools.count(1)


def new_custom_id() -> str:
    """A fresh ``custom_id``: the process's 72 random bits and a counter.

    Unique without a system call per id (``os.urandom`` for each cost a send
    about 1 µs): a process, and each child it forks, draws its prefix once.
    """
    return f"{_prefix}{next(_count):x}"


def claim(method: Any) -> Key | None:
    """Give ``method``'s event a ``custom_id`` if it has none; where to find it.

    Returns:
        The request's :data:`Key`, or ``None`` when ``method`` creates no event
        that can be looked up (any other action, a ``start_chat`` or a
        ``resume_chat`` without events).
    """
    cls = method.__class__
    if cls is m.SendEvent:
        event = method.event
        if event.custom_id is None:  # a copy: the caller's event stays as it was
            event = method.event = msgspec.structs.replace(
                event, custom_id=new_custom_id()
            )
        return (method.chat_id, event.custom_id)
    if cls is m.ResumeChat or cls is m.StartChat:
        chat = method.chat
        thread = chat and chat.thread
        if thread is None or not thread.events:
            return None
        events = [
            e
            if e.custom_id is not None
            else msgspec.structs.replace(e, custom_id=new_custom_id())
            for e in thread.events
        ]
        method.chat = msgspec.structs.replace(
            chat, thread=msgspec.structs.replace(thread, events=events)
        )
        chat_id = chat.id if cls is m.ResumeChat else ""
        return (chat_id, events[0].custom_id or "")
    return None


async def find_sent(
    ask: Ask,
    chat_id: str,
    custom_id: str,
    *,
    page_size: int = LOOKUP_EVENTS,
    max_pages: int = LOOKUP_PAGES,
) -> tuple[str, str, Event] | None:
    """The event of ``chat_id`` whose ``custom_id`` it is, with its thread id.

    Walks the chat's newest threads only (rule 2); with no ``chat_id``, the
    newest page of each of the customer's newest chats (rule 3).

    Returns:
        ``(chat_id, thread_id, event)``, or ``None`` when the walk did not meet it.
    """
    if not chat_id:
        chats: m.ListChatsResult = await ask(m.ListChats(limit=LOOKUP_CHATS))
        for summary in chats.chats_summary:
            found = await find_sent(
                ask, summary.id, custom_id, page_size=page_size, max_pages=1
            )
            if found is not None:
                return found
        return None
    request = m.ListThreads(
        chat_id=chat_id, sort_order="desc", min_events_count=page_size
    )
    for _ in range(max_pages):
        page: m.ListThreadsResult = await ask(request)
        for thread in page.threads:
            for event in thread.events or ():
                if event.custom_id == custom_id:
                    return chat_id, thread.id, event
        if page.next_page_id is None:
            return None
        request = m.ListThreads(chat_id=chat_id, page_id=page.next_page_id)
    return None


async def settled(
    ask: Ask, method: Any, chat_id: str, thread_id: str, event: Event
) -> tuple[Any, list[Push[Any]]]:
    """The reply and the push ``method`` would have caused, from what was found.

    The caller's run reads its value from the push, as from a live one.
    """
    if method.__class__ is m.SendEvent:
        push = IncomingEvent(chat_id=chat_id, thread_id=thread_id, event=event)
        reply: Any = m.SendEventResult(event_id=event.id or "")
        return reply, [Push(action="incoming_event", payload=push)]
    chat = await ask(m.GetChat(chat_id=chat_id, thread_id=thread_id))
    ours = {e.custom_id for e in method.chat.thread.events}
    events = (chat.thread and chat.thread.events) or ()
    ids = [e.id for e in events if e.id and e.custom_id in ours]
    if method.__class__ is m.StartChat:
        reply = m.StartChatResult(
            chat_id=chat_id, thread_id=thread_id, event_ids=ids or None
        )
    else:
        reply = m.ResumeChatResult(thread_id=thread_id, event_ids=ids or None)
    return reply, [Push(action="incoming_chat", payload=IncomingChat(chat=chat))]
