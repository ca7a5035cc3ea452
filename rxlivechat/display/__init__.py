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

from ..protocol import base
from .plain import FULL_TEXT_BUDGET, MAX_LINES, TEXT_CUT, TEXT_LINES, event_text, text
from .tables import html
from .transcript import Transcript, progress_bar

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


base.show_with(text=text, html=html)
