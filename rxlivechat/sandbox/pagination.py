"""Cursor pagination as the Customer Chat API does it (docs/protocol.md §5).

* The first request chooses ``sort_order`` and a page size (``limit``, or
  ``min_events_count`` for threads); the reply carries ``next_page_id`` and/or
  ``previous_page_id``, each only when such a page exists.
* A later request sends only ``page_id``; the cursor remembers everything else.
* "next" follows the chosen order: with ``desc`` (the default) it leads to
  older items.

A page id is opaque to clients: here it is URL-safe base64 of a small JSON
array naming the list, its scope (a chat or customer id), an anchor (the sort
key of the item the page starts after or ends before), the direction and the
page-size settings. Anchors are sort keys, not offsets, so items added at the
newest end while a client walks the history do not shift its pages.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import base64
import binascii
import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import msgspec

from ..exceptions import ValidationError

__all__ = ["Cursor", "Page", "decode_page_id", "encode_page_id", "paginate"]

T = TypeVar("T")


class Cursor(msgspec.Struct, array_like=True, frozen=True):
    """What a page id stands for."""

    kind: str
    """``"threads"`` or ``"chats"``."""
    scope: str
    """The chat id (threads) or customer id (chats) the list belongs to."""
    anchor: str
    """Sort key of the item the page starts after (next) or ends before (prev)."""
    direction: str
    """``"next"`` or ``"prev"``."""
    sort_order: str
    limit: int | None = None
    min_count: int | None = None


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Cursor)


def encode_page_id(cursor: Cursor) -> str:
    """The opaque page id of ``cursor``."""
    return base64.urlsafe_b64encode(_encoder.encode(cursor)).decode().rstrip("=")


def decode_page_id(page_id: str, *, kind: str, scope: str) -> Cursor:
    """Read a page id a client sent back.

    Args:
        page_id: the id as sent.
        kind: the list the request is for (``"threads"``/``"chats"``).
        scope: the chat or customer the request is for.

    Raises:
        ValidationError: the id is not one of ours, or belongs to another list.
    """
    try:
        raw = base64.urlsafe_b64decode(page_id + "=" * (-len(page_id) % 4))
        cursor = _decoder.decode(raw)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise ValidationError("Invalid page_id") from None
    if cursor.kind != kind or cursor.scope != scope:
        raise ValidationError("Invalid page_id")
    if cursor.direction not in ("next", "prev") or cursor.sort_order not in (
        "asc",
        "desc",
    ):
        raise ValidationError("Invalid page_id")
    return cursor


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of items, in the requested order, with its neighbours' ids."""

    items: list[T]
    next_page_id: str | None
    previous_page_id: str | None


def paginate(
    ascending: Sequence[T],
    keys: Sequence[str],
    *,
    kind: str,
    scope: str,
    sort_order: str,
    limit: int | None = None,
    min_count: int | None = None,
    weight: Callable[[T], int] = lambda _: 1,
    cursor: Cursor | None = None,
) -> Page[T]:
    """Cut one page out of a list.

    Args:
        ascending: every item, oldest first.
        keys: each item's sort key, in the same order (increasing): an index
            kept with the list, so a page costs a bisection plus its own items,
            whatever the list's length.
        kind: the list's name, stored in the page ids.
        scope: the list's owner, stored in the page ids.
        sort_order: ``"asc"`` or ``"desc"`` (ignored when ``cursor`` is given).
        limit: page size in items (ignored when ``cursor`` is given).
        min_count: instead of ``limit``, take items until their total
            ``weight`` reaches this (at least one item).
        weight: an item's weight for ``min_count`` (a thread's event count).
        cursor: the decoded page id of a later request.

    Returns:
        The page, with ``next_page_id``/``previous_page_id`` set only when that
        page is not empty.
    """
    if cursor is not None:
        sort_order, limit, min_count = cursor.sort_order, cursor.limit, cursor.min_count
    n = len(ascending)
    desc = sort_order == "desc"

    def item_at(position: int) -> T:
        return ascending[n - 1 - position if desc else position]

    # Positions count along the chosen order: 0 is the first item of page one.
    if cursor is None and min_count is not None and not desc:
        # rtm-reference, list_threads: "You'll get as many latest threads as
        # needed to meet the min_events_count condition", in either order: the
        # first ascending page ends at the newest; previous pages hold older ones.
        end = n
        start = _backward(end, item_at, limit, min_count, weight)
    elif cursor is None:
        start = 0
        end = _forward(start, n, item_at, limit, min_count, weight)
    elif cursor.direction == "next":
        start = (
            n - bisect.bisect_left(keys, cursor.anchor)
            if desc
            else bisect.bisect_right(keys, cursor.anchor)
        )
        end = _forward(start, n, item_at, limit, min_count, weight)
    else:
        end = (
            n - bisect.bisect_right(keys, cursor.anchor)
            if desc
            else bisect.bisect_left(keys, cursor.anchor)
        )
        start = _backward(end, item_at, limit, min_count, weight)
    items = [item_at(p) for p in range(start, end)]

    def page_id(position: int, direction: str) -> str:
        return encode_page_id(
            Cursor(
                kind=kind,
                scope=scope,
                anchor=keys[n - 1 - position if desc else position],
                direction=direction,
                sort_order=sort_order,
                limit=limit,
                min_count=min_count,
            )
        )

    return Page(
        items=items,
        next_page_id=page_id(end - 1, "next") if items and end < n else None,
        previous_page_id=page_id(start, "prev") if items and start > 0 else None,
    )


def _forward(
    start: int,
    n: int,
    item_at: Callable[[int], T],
    limit: int | None,
    min_count: int | None,
    weight: Callable[[T], int],
) -> int:
    if min_count is None:
        return min(n, start + (limit or 1))
    end, total = start, 0
    while end < n and (end == start or total < min_count):
        total += weight(item_at(end))
        end += 1
    return end


def _backward(
    end: int,
    item_at: Callable[[int], T],
    limit: int | None,
    min_count: int | None,
    weight: Callable[[T], int],
) -> int:
    if min_count is None:
        return max(0, end - (limit or 1))
    start, total = end, 0
    while start > 0 and (start == end or total < min_count):
        start -= 1
        total += weight(item_at(start))
    return start
