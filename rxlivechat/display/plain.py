"""Text forms: one line for an event, a heading and a line per event for a container.

What ``str()`` of a model returns (:func:`text`), and the small helpers (cuts,
counts, times, names) the HTML tables and the transcript share. Each form is
registered on :func:`text` by the type it shows.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import msgspec

from ..events import Connected, NewEvent
from ..protocol.base import Model
from ..protocol.models import (
    Agent,
    Chat,
    Custom,
    Customer,
    EventBase,
    File,
    FilledForm,
    Form,
    Message,
    RichMessage,
    SystemEvent,
    SystemMessage,
    Thread,
    UnknownEvent,
    UserBase,
    capped_repr,
)
from ..results import (
    ChatsSummary,
    ChatsSummaryItem,
    ChatThread,
    HistoryPage,
    ThreadsSummary,
)

__all__ = [
    "MAX_LINES",
    "TEXT_CUT",
    "TEXT_LINES",
    "FULL_TEXT_BUDGET",
    "text",
    "event_text",
]

MAX_LINES = 50
"""How many events :func:`text` and :func:`html` show for one container.

A longer container shows its first and last ``MAX_LINES // 2`` and, between
them, how many were left out.
"""

TEXT_CUT = 300
"""An HTML text cell longer than this (in characters) is folded: its start shows,
the whole text opens on a click."""

TEXT_LINES = 6
"""An HTML text cell of more lines than this is folded likewise."""

FULL_TEXT_BUDGET = 100_000
"""The most characters the folded texts of one table hold, together.

Six LiveChat messages of the largest size (16 KiB) fit whole; a folded text that
no longer fits says how long it is instead (``print`` the value to read it)."""

T = TypeVar("T")

_TEXT_WIDTH = 120

_ID_WIDTH = 8


@functools.singledispatch
def text(value: Any) -> str:
    """Short, human text for ``value`` (what ``str()`` of a model returns).

    Events are one line: time, author and text. Chats, threads, history pages
    and summaries are a heading and one indented line per item (at most
    :data:`MAX_LINES`). Other models show their fields that are set.
    Dispatches on the value's type: ``text.register`` adds a form.
    """
    return _generic_text(value)


def event_text(event: EventBase) -> str:
    """What an event says, in one line: a message's text, a file's name...

    This is the ``text`` column of
    :func:`~rxlivechat.dataframe.history_to_dataframe`, and the text of
    :func:`text` without the time and author.
    """
    match event:
        case Message():
            return event.text
        case File():
            details = ", ".join(
                part
                for part in (event.content_type, _size(event.size))
                if part is not None
            )
            name = event.name or event.url.rsplit("/", 1)[-1]
            return f"[file] {name}" + (f" ({details})" if details else "")
        case SystemMessage():
            return event.text or f"[{event.system_message_type}]"
        case RichMessage():
            titles = [e.title for e in event.elements or () if e.title]
            return f"[rich_message {event.template_id}] " + " | ".join(titles)
        case FilledForm() | Form():
            return f"[{event.type}] {_count(event.fields, 'field')}"
        case Custom():
            return f"[custom] {_short(repr(event.content), 80)}"
        case SystemEvent():
            return f"[system {event.subtype or event.source or ''}]".replace(" ]", "]")
        case UnknownEvent():
            return f"[{event.original_type}]"
    return f"[{event.type}]"


def _event_line(event: EventBase, names: Mapping[str, str] | None = None) -> str:
    author_id = event.author_id or "system"
    author = ((names or {}).get(author_id) or author_id)[:_ID_WIDTH]
    return f"{_when(event.created_at)}  {author:>{_ID_WIDTH}}  " + _short(
        event_text(event), _TEXT_WIDTH
    )


def _user_text(user: UserBase) -> str:
    kind = "Agent" if isinstance(user, Agent) else "Customer"
    name = getattr(user, "name", None)
    extra = ""
    if isinstance(user, Customer) and user.email:
        extra = f" <{user.email}>"
    if isinstance(user, Agent) and user.is_bot:
        kind = "Bot"
    label = f"{name}{extra} ({user.id})" if name else f"{user.id}{extra}"
    return f"{kind} {label}"


def _chat_text(chat: Chat) -> str:
    users = ", ".join(_user_text(u) for u in chat.users) or "no users"
    head = f"Chat {chat.id} ({users})"
    if chat.thread is None:
        return head
    thread = chat.thread
    events = thread.events or []
    head += (
        f"\n  thread {thread.id} ({_active(thread.active)}, {_count(events, 'event')})"
    )
    return _block(head, events, indent="    ", names=_names(chat.users))


def _block(
    head: str,
    events: Iterable[EventBase],
    *,
    indent: str = "  ",
    names: Mapping[str, str] | None = None,
) -> str:
    first, left_out, last = _cut(list(events))
    lines = [head] + [indent + _event_line(e, names) for e in first]
    if left_out:
        lines.append(f"{indent}… {left_out} more")
    lines += [indent + _event_line(e, names) for e in last]
    return "\n".join(lines)


def _history_page_text(page: HistoryPage) -> str:
    head = (
        f"HistoryPage ({'last page' if page.done else 'more pages'}): "
        f"{_count(page.threads, 'thread')}, {_count(page.value, 'event')}"
    )
    return _block(head, page.value)


def _chat_thread_text(thread: ChatThread) -> str:
    head = (
        f"ChatThread {thread.id} of chat {thread.chat} ({_active(thread.active)}, "
        f"{_count(thread.events, 'event')}, {_when(thread.created_at)})"
    )
    return _block(head, thread.events)


def _chats_summary_text(summary: ChatsSummary) -> str:
    lines = [
        f"ChatsSummary: {len(summary.chats_summary)} of "
        f"{_count_n(summary.total_chats, 'chat')}"
    ]
    lines += ["  " + _chats_summary_item_text(c) for c in summary.chats_summary]
    return "\n".join(lines)  # a page: at most 25 chats


def _chats_summary_item_text(item: ChatsSummaryItem) -> str:
    last = ""
    if item.last_event is not None:
        last = f", last: {_short(event_text(item.last_event), 60)}"
    return f"{item.id} ({_active(item.active)}, {_count(item.users, 'user')}{last})"


def _threads_summary_text(summary: ThreadsSummary) -> str:
    lines = [
        f"ThreadsSummary: {len(summary.threads_summary)} of "
        f"{_count_n(summary.total_threads, 'thread')}"
    ]
    first, left_out, last = _cut(summary.threads_summary)
    lines += [f"  {t.id} ({_count_n(t.total_events, 'event')})" for t in first]
    if left_out:
        lines.append(f"  … {left_out} more")
    lines += [f"  {t.id} ({_count_n(t.total_events, 'event')})" for t in last]
    return "\n".join(lines)


def _new_event_text(new: NewEvent) -> str:
    return f"new_event in {new.chat}: {_event_line(new.event)}"


def _connected_text(connected: Connected) -> str:
    return (
        f"connected as customer {connected.customer_id} "
        f"({_count_n(connected.total_chats, 'chat')})"
    )


def _thread_text(value: Thread) -> str:
    head = (
        f"Thread {value.id} ({_active(value.active)}, "
        f"{_count(value.events or [], 'event')}, {_when(value.created_at)})"
    )
    return _block(head, value.events or [])


def _generic_text(value: Any) -> str:
    """``Name(field=value, ...)``: the fields not at their defaults, each short."""
    if not _plain_model(value):
        return repr(value)
    parts = [f"{name}={_short_value(item)}" for name, item in _set_fields(value)]
    return f"{type(value).__name__}({', '.join(parts)})"


def _short_value(item: Any) -> str:
    """A field's value in a few characters: nested objects by their label."""
    if isinstance(item, EventBase):
        return f"<{item.type} {item.id or ''}>".replace(" >", ">")
    if isinstance(item, UserBase):
        return f"<{_user_text(item)}>"
    if isinstance(item, Chat | Thread):
        return f"<{type(item).__name__} {item.id}>"
    if isinstance(item, Model):
        return f"<{type(item).__name__}>"
    if isinstance(item, datetime.datetime):
        return _when(item)
    if isinstance(item, str):
        if item.startswith(("https://", "http://")):
            return repr(item)  # whole: a URL is copied, not read
        return repr(_short(item, 60))
    if isinstance(item, list | tuple | dict):
        if len(item) > 3 or any(isinstance(i, Model) for i in item):
            return f"[{_count(item, 'item')}]"
        return _short(repr(item), 60)
    return _short(repr(item), 60)


def _plain_model(value: Any) -> bool:
    """A Struct that shows its fields (not one whose repr hides some, as Token)."""
    return isinstance(value, msgspec.Struct) and (
        type(value).__repr__ in (Model.__repr__, capped_repr)
    )


def _set_fields(value: msgspec.Struct) -> list[tuple[str, Any]]:
    """The fields of ``value`` not left at their defaults, in order."""
    fields = []
    for field in msgspec.structs.fields(value):
        item = getattr(value, field.name)
        default = field.default
        if default is not msgspec.NODEFAULT and item == default:
            continue
        if field.default_factory is not msgspec.NODEFAULT and item == (
            field.default_factory()
        ):
            continue
        fields.append((field.name, item))
    return fields


def _start(value: str) -> str:
    """A text's first :data:`TEXT_LINES` lines, :data:`TEXT_CUT` characters at most."""
    return "\n".join(value.split("\n", TEXT_LINES)[:TEXT_LINES])[:TEXT_CUT]


def _names(users: Iterable[UserBase] | Mapping[str, str] | None) -> dict[str, str]:
    if users is None:
        return {}
    if isinstance(users, Mapping):
        return {str(k): str(v) for k, v in users.items()}
    names: dict[str, str] = {}
    for user in users:
        name = getattr(user, "name", None)
        if name:
            names[user.id] = name
        elif isinstance(user, Customer):
            names[user.id] = "customer"
    return names


def _event_time(event: EventBase) -> datetime.datetime:
    return event.created_at or _EPOCH


def _when(moment: datetime.datetime | None) -> str:
    if moment is None:
        return "-" * 19
    return f"{moment:%Y-%m-%d %H:%M:%S}"


def _clock(moment: datetime.datetime | None) -> str:
    return "--:--:--" if moment is None else f"{moment:%H:%M:%S}"


def _cut(items: list[T]) -> tuple[list[T], int, list[T]]:
    """``(first, how many left out, last)``: at most :data:`MAX_LINES` shown."""
    if len(items) <= MAX_LINES:
        return items, 0, []
    half = MAX_LINES // 2
    return items[:half], len(items) - 2 * half, items[-half:]


def _active(active: bool) -> str:
    return "active" if active else "closed"


def _count(items: Iterable[Any] | Any, noun: str) -> str:
    return _count_n(len(list(items)), noun)


def _count_n(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _short(line: str, width: int) -> str:
    line = " ".join(line.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def _size(size: int | None) -> str | None:
    if size is None:
        return None
    value = float(size)
    for unit in ("B", "kB", "MB"):
        if value < 1000 or unit == "MB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return None  # pragma: no cover


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def _register() -> None:
    forms_text: list[tuple[type[Any], Callable[[Any], str]]] = [
        (EventBase, _event_line),
        (UserBase, _user_text),
        (Thread, _thread_text),
        (Chat, _chat_text),
        (HistoryPage, _history_page_text),
        (ChatThread, _chat_thread_text),
        (ChatsSummary, _chats_summary_text),
        (ChatsSummaryItem, _chats_summary_item_text),
        (ThreadsSummary, _threads_summary_text),
        (NewEvent, _new_event_text),
        (Connected, _connected_text),
    ]
    for kind, form in forms_text:
        text.register(kind, form)


_register()
