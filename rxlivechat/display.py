"""Readable output: short text for terminals, HTML for Jupyter.

Every typed value of rxlivechat (events, chats, threads, history pages,
summaries, the SDK's event payloads) is a :class:`~rxlivechat.protocol.base.Model`,
and every model shows itself through this module:

- ``print(value)`` / ``str(value)`` gives :func:`text`: one line for an event or
  a small payload, a heading and one line per event for a chat, a thread or a
  history page;
- in Jupyter, the last expression of a cell is shown as :func:`html`: a table;
- ``repr(value)`` stays the Struct's repr, without the fields left at their
  defaults (``Message(id='Q1_3', ..., text='hi')``); a thread, a chat or a
  history page cuts each long list to its first and last items
  (:func:`~rxlivechat.protocol.models.capped_repr`), which keeps Jupyter's
  ``text/plain`` copy small.

Whatever the size of the value, the output is bounded: at most
:data:`MAX_LINES` events (the first and the last ones, with "… N more" between),
texts over :data:`TEXT_CUT` characters or :data:`TEXT_LINES` lines folded in a
``<details>`` that opens on a click (up to :data:`FULL_TEXT_BUDGET` characters
of such texts a table). The HTML keeps what users wrote as they
wrote it: escaped, line breaks kept, right-to-left text shown right to left
(``dir="auto"``).

.. code-block:: python

    >>> print(event)
    2024-05-01 12:03:04  8f2e41c0  Hello! Yes, we ship to all of Europe.

For a conversation with names instead of ids, use :class:`Transcript`. For a
progress bar on ``send_file``, :func:`progress_bar` (needs ``tqdm``).

The forms are registered by type (``functools.singledispatch``); the protocol
core reaches them through :func:`rxlivechat.protocol.base.show_with`, called
below, so it imports nothing of this module.
"""

from __future__ import annotations

import datetime
import functools
import html as _html
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import msgspec

from .events import Connected, NewEvent
from .protocol import base
from .protocol.base import Model
from .protocol.models import (
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
from .results import (
    ChatsSummary,
    ChatsSummaryItem,
    ChatThread,
    HistoryPage,
    ThreadsSummary,
)

__all__ = [
    "FULL_TEXT_BUDGET",
    "MAX_LINES",
    "TEXT_CUT",
    "TEXT_LINES",
    "Transcript",
    "event_text",
    "html",
    "progress_bar",
    "text",
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

# ``.rxlc.rxlc``: as specific as JupyterLab's right-aligned cells
# (``:not(.jp-RenderedMarkdown).jp-RenderedHTMLCommon td``), and later, so text
# reads from the left.
_STYLE = (
    "<style>"
    ".rxlc{border-collapse:collapse;font-size:0.9em;margin:0.2em 0}"
    ".rxlc.rxlc th,.rxlc.rxlc td{padding:0.15em 0.6em;text-align:left;"
    "vertical-align:top;"
    "border-bottom:1px solid rgba(127,127,127,0.25)}"
    ".rxlc caption{text-align:left;font-weight:bold;padding:0.2em 0}"
    ".rxlc .t{white-space:nowrap;opacity:0.7}"
    ".rxlc .k{opacity:0.7}"
    ".rxlc .x{white-space:pre-wrap;overflow-wrap:anywhere}"
    ".rxlc summary{cursor:pointer}"
    "</style>"
)


# Public functions --------------------------------------------------------------------


@functools.singledispatch
def text(value: Any) -> str:
    """Short, human text for ``value`` (what ``str()`` of a model returns).

    Events are one line: time, author and text. Chats, threads, history pages
    and summaries are a heading and one indented line per item (at most
    :data:`MAX_LINES`). Other models show their fields that are set.
    Dispatches on the value's type: ``text.register`` adds a form.
    """
    return _generic_text(value)


@functools.singledispatch
def html(value: Any) -> str:
    """An HTML table for ``value`` (what Jupyter shows for a model).

    Dispatches on the value's type, like :func:`text`.
    """
    return _STYLE + _fields_table(value)


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


class Transcript:
    """A conversation to read: events in time order, authors by name.

    Args:
        events: the events, in any order (a history walk comes newest page
            first; the transcript sorts by ``created_at``).
        users: who is who: the ``users`` of a :class:`~rxlivechat.Chat`, any
            ``Customer``/``Agent`` objects, or a mapping of user id to name.
            Authors not found are shown by a short id.

    Example:
        >>> events = await sdk.get_chat_history(chat.id).pipe(ops.to_list())
        >>> transcript = Transcript(events, users=chat.users)
        >>> print(transcript)               # or just `transcript` in Jupyter
        12:03:01  You   Hi! Do you ship to Norway?
        12:03:04  Jane  Hello! Yes, we ship to all of Europe.
    """

    def __init__(
        self,
        events: Iterable[EventBase],
        users: Iterable[UserBase] | Mapping[str, str] | None = None,
    ) -> None:
        self.events: list[EventBase] = sorted(events, key=_event_time)
        """The events, oldest first."""
        self.names: dict[str, str] = _names(users)
        """User id → the name shown."""

    def author(self, event: EventBase) -> str:
        """The name shown for the event's author (``system`` when it has none)."""
        if event.author_id is None:
            return "system"
        return self.names.get(event.author_id) or event.author_id[:_ID_WIDTH]

    def lines(self, events: Iterable[EventBase] | None = None) -> list[str]:
        """One entry per event: time, author, text (a text's later lines indented).

        Args:
            events: some of the transcript's events (all when ``None``).
        """
        chosen = self.events if events is None else events
        return self._lines(chosen, event_text)

    def _lines(
        self, events: Iterable[EventBase], says: Callable[[EventBase], str]
    ) -> list[str]:
        # The widest author of all, so that parts of one transcript line up.
        width = max((len(self.author(e)) for e in self.events), default=0)
        indent = "\n" + " " * (len("00:00:00") + width + 4)
        return [
            f"{_clock(e.created_at)}  {self.author(e):<{width}}  "
            + says(e).replace("\n", indent)
            for e in events
        ]

    def __str__(self) -> str:
        """The whole conversation (every event: ``print(transcript)``)."""
        return "\n".join(self.lines())

    def __repr__(self) -> str:
        return f"<Transcript of {_count(self.events, 'event')}>"

    def __len__(self) -> int:
        return len(self.events)

    def summary(self) -> str:
        """A heading and the first and last events: what Jupyter shows as text.

        At most :data:`MAX_LINES` events, each text cut as the HTML cuts it
        (:data:`TEXT_CUT`, :data:`TEXT_LINES`); ``str(transcript)`` has it all.
        """

        def preview(event: EventBase) -> str:
            says = event_text(event)
            start = _start(says)
            return says if start == says else start + "…"

        head, left_out, tail = _cut(self.events)
        lines = [f"Transcript of {_count_n(len(self.events), 'event')}"]
        lines += self._lines(head, preview)
        if left_out:
            lines.append(f"… {left_out} more")
        lines += self._lines(tail, preview)
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # IPython's text/plain (beside the HTML): the summary, not every event.
        printer.text(self.summary())

    def _repr_html_(self) -> str:
        head, left_out, tail = _cut(self.events)
        cell = _TextCells()

        def row(event: EventBase) -> str:
            return (
                f"<tr><td class='t'>{_e(_clock(event.created_at))}</td>"
                f"<th dir='auto'>{_e(self.author(event))}</th>"
                f"{cell(event_text(event))}</tr>"
            )

        rows = [row(e) for e in head] + _more_row(left_out, 3) + [row(e) for e in tail]
        caption = f"<caption>Transcript · {_count_n(len(self), 'event')}</caption>"
        return f"{_STYLE}<table class='rxlc'>{caption}{''.join(rows)}</table>"


def progress_bar(
    description: str | None = None, **tqdm_options: Any
) -> Callable[[float], None]:
    """A ``tqdm`` bar, as a callback of fractions 0..1 (needs the ``tqdm`` extra).

    Made for ``send_file``'s ``on_progress``; the bar closes when it reaches 1:

    .. code-block:: python

        from rxlivechat.display import progress_bar

        await sdk.send_file(chat.id, "report.pdf", on_progress=progress_bar("report"))

    Args:
        description: the bar's label.
        **tqdm_options: passed to ``tqdm.tqdm`` (``leave``, ``file``...).

    Raises:
        ImportError: ``tqdm`` is not installed (``pip install 'rxlivechat[tqdm]'``).
    """
    try:
        # auto: the widget bar in Jupyter (ipywidgets), text elsewhere.
        from tqdm.auto import tqdm
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "progress_bar needs tqdm: pip install 'rxlivechat[tqdm]'"
        ) from exc
    options: dict[str, Any] = {"total": 100, "unit": "%", "desc": description}
    bar = tqdm(**(options | tqdm_options))
    done = 0

    def update(fraction: float) -> None:
        nonlocal done
        percent = max(0, min(100, round(fraction * 100)))
        if percent > done:
            bar.update(percent - done)
            done = percent
        if fraction >= 1:
            bar.close()

    return update


# Text ------------------------------------------------------------------------------


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


# HTML ------------------------------------------------------------------------------


def _e(value: object) -> str:
    return _html.escape(str(value), quote=True)


def _start(value: str) -> str:
    """A text's first :data:`TEXT_LINES` lines, :data:`TEXT_CUT` characters at most."""
    return "\n".join(value.split("\n", TEXT_LINES)[:TEXT_LINES])[:TEXT_CUT]


class _TextCells:
    """Cells of what someone wrote, for one table: escaped, own direction, lines kept.

    A long text shows its start, and the whole of it opens on a click, as long
    as the table's folded texts stay within :data:`FULL_TEXT_BUDGET`.
    """

    def __init__(self) -> None:
        self.room = FULL_TEXT_BUDGET

    def __call__(self, value: str) -> str:
        start = _start(value)
        if start == value:
            return f"<td class='x' dir='auto'>{_e(value)}</td>"
        if len(value) <= self.room:
            self.room -= len(value)
            whole = value
        else:
            whole = f"({len(value)} characters, more than this table holds: print it)"
        return (
            f"<td class='x' dir='auto'><details><summary>{_e(start)}…</summary>"
            f"{_e(whole)}</details></td>"
        )


def _more_row(left_out: int, columns: int) -> list[str]:
    """The "… N more" row between a table's first and last rows (none if 0)."""
    if not left_out:
        return []
    return [f"<tr><td colspan='{columns}'>… {left_out} more</td></tr>"]


def _events_table(
    events: Iterable[EventBase],
    caption: str | None,
    names: Mapping[str, str] | None = None,
) -> str:
    first, left_out, last = _cut(list(events))
    known = names or {}
    cell = _TextCells()

    def row(event: EventBase) -> str:
        author = event.author_id or "system"
        shown = known.get(author) or author[:_ID_WIDTH]
        return (
            f"<tr><td class='t'>{_e(_when(event.created_at))}</td>"
            f"<td title='{_e(author)}' dir='auto'>{_e(shown)}</td>"
            f"<td class='k'>{_e(event.type)}</td>"
            f"{cell(event_text(event))}</tr>"
        )

    rows = [row(e) for e in first] + _more_row(left_out, 4) + [row(e) for e in last]
    head = f"<caption>{_e(caption)}</caption>" if caption else ""
    columns = "<tr><th>time</th><th>author</th><th>type</th><th>text</th></tr>"
    return f"<table class='rxlc'>{head}{columns}{''.join(rows)}</table>"


def _chat_html(chat: Chat) -> str:
    names = _names(chat.users)
    users = ", ".join(_user_text(u) for u in chat.users) or "no users"
    caption = f"Chat {chat.id} · {users}"
    if chat.thread is None:
        return f"<table class='rxlc'><caption>{_e(caption)}</caption></table>"
    thread = chat.thread
    events = thread.events or []
    caption += (
        f" · thread {thread.id} ({_active(thread.active)}, {_count(events, 'event')})"
    )
    return _events_table(events, caption, names)


def _history_page_html(page: HistoryPage) -> str:
    caption = (
        f"HistoryPage · {'last page' if page.done else 'more pages'} · "
        f"{_count(page.threads, 'thread')} · {_count(page.value, 'event')}"
    )
    return _events_table(page.value, caption)


def _chat_thread_html(thread: ChatThread) -> str:
    caption = (
        f"ChatThread {thread.id} of chat {thread.chat} · {_active(thread.active)}"
        f" · {_count(thread.events, 'event')}"
    )
    return _events_table(thread.events, caption)


def _chats_summary_html(summary: ChatsSummary) -> str:
    cell = _TextCells()
    rows = "".join(
        f"<tr><td>{_e(c.id)}</td><td>{_e(_active(c.active))}</td>"
        f"<td>{len(c.users)}</td>"
        f"{cell(event_text(c.last_event) if c.last_event else '')}</tr>"
        for c in summary.chats_summary
    )
    return (
        f"<table class='rxlc'><caption>ChatsSummary · {len(summary.chats_summary)}"
        f" of {_e(_count_n(summary.total_chats, 'chat'))}</caption>"
        "<tr><th>chat</th><th>state</th><th>users</th><th>last event</th></tr>"
        f"{rows}</table>"
    )


def _threads_summary_html(summary: ThreadsSummary) -> str:
    first, left_out, last = _cut(summary.threads_summary)
    rows = "".join(
        [f"<tr><td>{_e(t.id)}</td><td>{t.total_events}</td></tr>" for t in first]
        + _more_row(left_out, 2)
        + [f"<tr><td>{_e(t.id)}</td><td>{t.total_events}</td></tr>" for t in last]
    )
    return (
        "<table class='rxlc'><caption>ThreadsSummary · "
        f"{len(summary.threads_summary)} of "
        f"{_e(_count_n(summary.total_threads, 'thread'))}</caption>"
        f"<tr><th>thread</th><th>events</th></tr>{rows}</table>"
    )


def _new_event_html(new: NewEvent) -> str:
    return _events_table([new.event], f"new_event in chat {new.chat}")


def _fields_table(value: Any) -> str:
    """A table of the fields not left at their defaults; or the repr."""
    if not _plain_model(value):
        # Not a plain model (e.g. Token, whose repr hides its secret).
        return f"<pre>{_e(repr(value))}</pre>"
    rows = []
    cell = _TextCells()
    for name, item in _set_fields(value):
        shown = text(item) if isinstance(item, Model) else _short_value(item)
        rows.append(f"<tr><th>{_e(name)}</th>{cell(shown)}</tr>")
    caption = f"<caption>{_e(type(value).__name__)}</caption>"
    return f"<table class='rxlc'>{caption}{''.join(rows)}</table>"


# Small helpers ---------------------------------------------------------------------


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


# Dispatch by type --------------------------------------------------------------------


def _thread_text(value: Thread) -> str:
    head = (
        f"Thread {value.id} ({_active(value.active)}, "
        f"{_count(value.events or [], 'event')}, {_when(value.created_at)})"
    )
    return _block(head, value.events or [])


def _event_html(value: EventBase) -> str:
    where = f" in thread {value.thread_id}" if value.thread_id else ""
    caption = f"{type(value).__name__} {value.id or ''}{where}"
    return _events_table([value], caption=" ".join(caption.split()))


def _thread_html(value: Thread) -> str:
    return _events_table(
        value.events or [],
        caption=f"Thread {value.id} · {_active(value.active)} · "
        f"{_count(value.events or [], 'event')} · {_when(value.created_at)}",
    )


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
    forms_html: list[tuple[type[Any], Callable[[Any], str]]] = [
        (EventBase, _event_html),
        (Thread, _thread_html),
        (Chat, _chat_html),
        (HistoryPage, _history_page_html),
        (ChatThread, _chat_thread_html),
        (ChatsSummary, _chats_summary_html),
        (ThreadsSummary, _threads_summary_html),
        (NewEvent, _new_event_html),
    ]
    for kind, form in forms_html:
        html.register(kind, lambda value, form=form: _STYLE + form(value))
    base.show_with(text=text, html=html)


_register()
