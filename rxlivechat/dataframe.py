"""A chat's history as a pandas DataFrame: one row per event, oldest first.

The one way to do it is :func:`history_to_dataframe`:

.. code-block:: python

    from rxlivechat.dataframe import history_to_dataframe

    df = await history_to_dataframe(sdk.get_chat_history(chat_id), users=chat.users)

pandas is optional: install the ``pandas`` extra (``pip install
'rxlivechat[pandas]'``). It is imported only when a DataFrame is built, never by
``import rxlivechat``. :func:`event_records` gives the same rows as plain dicts,
without pandas.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .display import event_text
from .exceptions import InvalidArgumentError
from .history import ChatHistory
from .protocol.models import Agent, Customer, EventBase, File, UserBase

if TYPE_CHECKING:
    import pandas

    from .history import HistoryPage

__all__ = [
    "COLUMNS",
    "ExportProgress",
    "event_records",
    "events_to_dataframe",
    "history_to_dataframe",
]

COLUMNS = (
    "created_at",
    "author_name",
    "author_type",
    "type",
    "text",
    "url",
    "event_id",
    "thread_id",
    "chat_id",
    "author_id",
    "custom_id",
    "recipients",
)
"""The DataFrame's columns, in order: what people read first, the ids after.

- ``created_at``: ``datetime64`` in UTC;
- ``type``: the event type (``message``, ``file``, ``system_message``...);
- ``author_type``: ``customer``, ``agent`` (also bots), ``system`` (no author),
  or missing when ``users`` did not say;
- ``author_name``: from ``users``, when given;
- ``text``: what the event says (a message's text, a file's name...: see
  :func:`rxlivechat.display.event_text`);
- ``url``: a file event's URL.
"""

ExportProgress = Callable[[int, int], None]
"""Called after each page of a history export with ``(pages, events)`` so far."""


def event_records(
    events: Iterable[EventBase],
    *,
    chat_id: str | None = None,
    users: Iterable[UserBase] | Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """One plain ``dict`` per event, keyed by :data:`COLUMNS`, oldest first.

    Args:
        events: the events, in any order.
        chat_id: the value of the ``chat_id`` column.
        users: who is who: ``Customer``/``Agent`` objects (names and types),
            or a mapping of user id to name.
    """
    names, kinds = _who(users)
    rows = []
    for event in events:
        author = event.author_id
        rows.append(
            {
                "chat_id": chat_id,
                "thread_id": event.thread_id,
                "event_id": event.id,
                "created_at": event.created_at,
                "type": event.type,
                "author_id": author,
                "author_type": "system" if author is None else kinds.get(author),
                "author_name": None if author is None else names.get(author),
                "text": event_text(event),
                "url": event.url if isinstance(event, File) else None,
                "custom_id": event.custom_id,
                "recipients": event.recipients,
            }
        )
    return sorted(rows, key=_created)


def events_to_dataframe(
    events: Iterable[EventBase],
    *,
    chat_id: str | None = None,
    users: Iterable[UserBase] | Mapping[str, str] | None = None,
) -> pandas.DataFrame:
    """The rows of :func:`event_records` as a DataFrame (needs pandas).

    For a history, :func:`history_to_dataframe` walks it for you.
    """
    pd = _pandas()
    frame = pd.DataFrame(
        event_records(events, chat_id=chat_id, users=users), columns=list(COLUMNS)
    )
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    return frame


async def history_to_dataframe(
    history: AsyncIterable[HistoryPage],
    *,
    users: Iterable[UserBase] | Mapping[str, str] | None = None,
    max_pages: int | None = None,
    progress: bool | ExportProgress | None = None,
    events_per_page: int | None = None,
    threads_per_page: int | None = None,
) -> pandas.DataFrame:
    """Walk a chat's history and return it as a DataFrame, oldest event first.

    A whole export is quickest with big pages: ``threads_per_page=100`` fetches
    a chat of 500 threads of 100 events in 5 requests, where 100 events a page
    takes 500.

    Args:
        history: ``sdk.get_chat_history(chat_id)`` (any async iterable of
            history pages; its ``chat_id`` fills the ``chat_id`` column).
        users: who is who, for the ``author_type`` and ``author_name`` columns:
            the ``users`` of a ``Chat`` (``await sdk.get_chat(chat_id)``), or
            a mapping of user id to name.
        max_pages: stop after this many pages (the newest ones).
        progress: ``True`` shows a ``tqdm`` bar of the events fetched (needs the
            ``tqdm`` extra); a callable is called after each page with
            ``(pages, events)`` so far.
        events_per_page: walk with pages of this many events (see
            :class:`~rxlivechat.history.ChatHistory`); the history's own
            page size when neither is given.
        threads_per_page: or with pages of this many threads.

    Returns:
        One row per event with the :data:`COLUMNS`.

    Raises:
        ImportError: pandas (or, for ``progress=True``, tqdm) is not installed.
        InvalidArgumentError: a page size is out of range, both are given, or
            one is given for a history that is no ``ChatHistory``.
        ServerError: a page request failed (the walk stops there).
    """
    _pandas()  # fail before walking, not after
    if events_per_page is not None or threads_per_page is not None:
        if not isinstance(history, ChatHistory):
            raise InvalidArgumentError(
                "events_per_page and threads_per_page need a ChatHistory"
                " (sdk.get_chat_history(chat_id))"
            )
        history = history.with_page_size(
            events_per_page=events_per_page, threads_per_page=threads_per_page
        )
    chat_id = getattr(history, "chat_id", None)
    report = _progress(progress, chat_id)
    events: list[EventBase] = []
    pages = 0
    try:
        async for page in history:
            pages += 1
            events.extend(page.value)
            if report is not None:
                report(pages, len(events))
            if max_pages is not None and pages >= max_pages:
                break
    finally:
        close = getattr(report, "close", None)
        if callable(close):
            close()
    return events_to_dataframe(events, chat_id=chat_id, users=users)


# Helpers ---------------------------------------------------------------------------


def _pandas() -> Any:
    try:
        import pandas
    except ImportError as exc:
        raise ImportError(
            "rxlivechat.dataframe needs pandas: pip install 'rxlivechat[pandas]'"
        ) from exc
    return pandas


def _who(
    users: Iterable[UserBase] | Mapping[str, str] | None,
) -> tuple[dict[str, str], dict[str, str]]:
    names: dict[str, str] = {}
    kinds: dict[str, str] = {}
    if users is None:
        return names, kinds
    if isinstance(users, Mapping):
        return {str(k): str(v) for k, v in users.items()}, kinds
    for user in users:
        name = getattr(user, "name", None)
        if name:
            names[user.id] = name
        if isinstance(user, Agent):
            kinds[user.id] = "agent"
        elif isinstance(user, Customer):
            kinds[user.id] = "customer"
    return names, kinds


def _created(row: dict[str, Any]) -> Any:
    moment = row["created_at"]
    return (moment is None, moment.timestamp() if moment is not None else 0.0)


class _Bar:
    """A tqdm bar counting events, as an :data:`ExportProgress`."""

    def __init__(self, chat_id: str | None) -> None:
        try:
            # auto: the widget bar in Jupyter (ipywidgets), text elsewhere.
            from tqdm.auto import tqdm
        except ImportError as exc:
            raise ImportError(
                "progress=True needs tqdm: pip install 'rxlivechat[tqdm]'"
            ) from exc
        self._bar = tqdm(unit=" events", desc=f"history {chat_id or ''}".strip())
        self._events = 0

    def __call__(self, pages: int, events: int) -> None:
        self._bar.update(events - self._events)
        self._bar.set_postfix(pages=pages, refresh=False)
        self._events = events

    def close(self) -> None:
        self._bar.close()


def _progress(
    progress: bool | ExportProgress | None, chat_id: str | None
) -> ExportProgress | None:
    if progress is None or progress is False:
        return None
    if progress is True:
        return _Bar(chat_id)
    return progress
