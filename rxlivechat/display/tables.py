"""HTML forms: the tables Jupyter shows for a model (:func:`html`).

Texts are escaped, keep their lines and their own direction; long ones fold,
within ``FULL_TEXT_BUDGET`` characters a table. Each form is registered on
:func:`html` by the type it shows.
"""

from __future__ import annotations

import functools
import html as _html
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..events import NewEvent
from ..protocol.base import Model
from ..protocol.models import (
    Chat,
    EventBase,
    Thread,
)
from ..results import (
    ChatsSummary,
    ChatThread,
    HistoryPage,
    ThreadsSummary,
)
from .plain import (
    _ID_WIDTH,
    FULL_TEXT_BUDGET,
    _active,
    _count,
    _count_n,
    _cut,
    _names,
    _plain_model,
    _set_fields,
    _short_value,
    _start,
    _user_text,
    _when,
    event_text,
    text,
)

__all__ = ["html"]

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


@functools.singledispatch
def html(value: Any) -> str:
    """An HTML table for ``value`` (what Jupyter shows for a model).

    Dispatches on the value's type, like :func:`text`.
    """
    return _STYLE + _fields_table(value)


def _e(value: object) -> str:
    return _html.escape(str(value), quote=True)


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


_register()
