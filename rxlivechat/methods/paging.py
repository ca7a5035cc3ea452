"""What the cursor-paged actions check and learn, beyond their Structs' fields.

``list_threads`` is declared (:mod:`.declared`), with its check here;
``list_chats``, whose reply's shape depends on the API version, is written in
:mod:`.actions` with these.
"""

from __future__ import annotations

from typing import Any

from ..exceptions import InvalidArgumentError
from ..protocol import methods as m
from .calls import MethodGroup

__all__ = ["check_list_chats", "check_list_threads", "check_page", "remember_chats"]


def check_page(page_id: str | None, **others: Any) -> None:
    """A later page takes nothing but ``page_id`` (docs/protocol.md §5)."""
    if page_id is None:
        return
    given = sorted(name for name, value in others.items() if value is not None)
    if given:
        raise InvalidArgumentError(
            f"page_id cannot be combined with {', '.join(given)}: a later page "
            "keeps the first request's settings"
        )


def check_list_chats(request: m.ListChats) -> None:
    """A later page of ``list_chats`` sends its ``page_id`` alone."""
    check_page(request.page_id, limit=request.limit, sort_order=request.sort_order)


def check_list_threads(request: m.ListThreads) -> None:
    """``list_threads``: a later page alone; ``limit`` or ``min_events_count``."""
    check_page(
        request.page_id,
        limit=request.limit,
        sort_order=request.sort_order,
        min_events_count=request.min_events_count,
    )
    if request.limit is not None and request.min_events_count is not None:
        raise InvalidArgumentError("limit cannot be combined with min_events_count")


def remember_chats(
    group: MethodGroup, page: m.ListChatsResult | m.ListChatsInfoResult
) -> m.ListChatsResult | m.ListChatsInfoResult:
    """``list_chats``' page, after the engine learned which chats are active."""
    if isinstance(page, m.ListChatsResult):
        group._remember_chats(page.chats_summary)
    else:
        group._remember_chats(page.chats_info)
    return page
