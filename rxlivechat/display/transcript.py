"""A conversation to read (:class:`Transcript`), and a progress bar for uploads."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..protocol.models import (
    EventBase,
    UserBase,
)
from .plain import (
    _ID_WIDTH,
    _clock,
    _count,
    _count_n,
    _cut,
    _event_time,
    _names,
    _start,
    event_text,
)
from .tables import _STYLE, _e, _more_row, _TextCells

__all__ = ["Transcript", "progress_bar"]


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
