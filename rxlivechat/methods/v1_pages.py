"""The v1 methods that page: v1's offsets walked over v3.6's cursors.

A base class of :class:`~rxlivechat.methods.v1.V1Methods`: v1's
``get_chats_summary``, ``get_chat_threads`` and ``get_chat_threads_summary``,
and the checks of v1's options objects that every v1 method shares.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

from reactivex import Observable

from .. import events as ev
from ..exceptions import InvalidArgumentError
from ..protocol import methods as m
from ..protocol.base import Model
from ..protocol.models import Thread
from ..protocol.versions import for_version
from ..results import (
    ChatsSummary,
    ChatThread,
    ThreadsSummary,
    ThreadSummaryItem,
    chats_summary_item,
    thread_order,
)
from .actions import CustomerActions
from .validate import require_options, require_range, require_str, require_type

__all__ = ["CustomerUpdate", "V1Pages"]


class V1Pages(CustomerActions):
    """v1's paging methods; a base class of :class:`~rxlivechat.sdk.CustomerSDK`."""

    def get_chats_summary(
        self, offset: int | Mapping[str, int] = 0, limit: int = 10
    ) -> Observable[ChatsSummary]:
        """A page of the customer's chats, newest first (v1 offset paging).

        v3.6 pages by cursor only; pages are walked as far as ``offset`` needs.
        The same shape in every API version (v3.7's ``chats_info`` included).
        The cursor form is
        :meth:`~rxlivechat.methods.actions.CustomerActions.list_chats`.

        Args:
            offset: chats to skip, newest first; or v1's whole
                ``pagination`` object, ``{"offset": 0, "limit": 10}``.
            limit: chats in the page, 1-25.

        Returns:
            An observable of :class:`~rxlivechat.results.ChatsSummary`: the
            page's ``chats_summary`` and ``total_chats``.

        Raises:
            InvalidArgumentError: ``offset`` below 0 or ``limit`` out of range.
            SDKClosedError: the SDK was destroyed.

        Example:
            >>> summary = await sdk.get_chats_summary(limit=5)
            >>> [c.id for c in summary.chats_summary]
            ['PJ0MRSHTDG', ...]
            >>> summary = await sdk.get_chats_summary({"offset": 0, "limit": 5})
        """
        self._check_alive()
        skip, limit = _pagination(offset, limit, _CHATS_PAGE, 25)

        async def run() -> ChatsSummary:
            # v3.6 has no offset: walk the cursor, newest first, only until the
            # window [skip, skip + limit) is in hand. The first request fixes
            # the page size for the whole walk (later ones send only page_id),
            # so ask for the whole window at once when it fits in one page.
            wanted = skip + limit
            request = m.ListChats(limit=min(wanted, 25))  # 25: list_chats' maximum
            chats: list[Any] = []
            total = 0
            while True:
                sent = for_version(request, self.api_version)  # 3.7: chats_info
                page = m.chats_summary_of(await self._ask(sent))
                total = page.total_chats
                chats.extend(page.chats_summary)
                if len(chats) >= wanted or page.next_page_id is None:
                    break
                request = m.ListChats(page_id=page.next_page_id)
            self._remember_chats(chats[skip : skip + limit])
            return ChatsSummary(
                chats_summary=[
                    chats_summary_item(c) for c in chats[skip : skip + limit]
                ],
                total_chats=total,
            )

        return self._from_coroutine(run)

    def get_chat_threads(
        self, chat_id: str, thread_ids: Iterable[str]
    ) -> Observable[list[ChatThread]]:
        """The given threads of a chat, with their events (one ``get_chat`` each).

        Args:
            chat_id: the chat.
            thread_ids: the threads (from
                :meth:`get_chat_threads_summary`, for instance).

        Returns:
            An observable of one list of :class:`~rxlivechat.results.ChatThread`, in the
            order asked; it errors with the first request's
            :class:`~rxlivechat.exceptions.ServerError`
            (:class:`~rxlivechat.exceptions.NotFoundError` for an unknown thread).

        Raises:
            InvalidArgumentError: a bad id, or ``thread_ids`` given as one ``str``.
            SDKClosedError: the SDK was destroyed.

        Example:
            >>> threads = await sdk.get_chat_threads(chat.id, ["K600PKZON8"])
            >>> [e.text for e in threads[0].events]
            ['Hello', 'Hi! How can I help?']
        """
        self._check_alive()
        require_str("chat_id", chat_id)
        if isinstance(thread_ids, str):
            raise InvalidArgumentError("thread_ids must be a list of ids, not a str")
        ids = list(thread_ids)
        for thread_id in ids:
            require_str("thread_ids[]", thread_id)

        async def run() -> list[ChatThread]:
            chats = await asyncio.gather(
                *(self._ask(m.GetChat(chat_id=chat_id, thread_id=t)) for t in ids)
            )
            return [_chat_thread(chat_id, chat.thread) for chat in chats if chat.thread]

        return self._from_coroutine(run)

    def get_chat_threads_summary(
        self, chat_id: str, offset: int | Mapping[str, int] = 0, limit: int = 25
    ) -> Observable[ThreadsSummary]:
        """A page of a chat's threads, oldest first: id, order, total events.

        Args:
            chat_id: the chat.
            offset: threads to skip, oldest first; or v1's whole
                ``pagination`` object, ``{"offset": 0, "limit": 10}``.
            limit: threads in the page, 1-1000.

        Returns:
            An observable of :class:`~rxlivechat.results.ThreadsSummary`:
            ``threads_summary`` (:class:`~rxlivechat.results.ThreadSummaryItem`)
            and ``total_threads``.

        Raises:
            InvalidArgumentError: a bad id, ``offset`` or ``limit``.
            SDKClosedError: the SDK was destroyed.

        Example:
            >>> summary = await sdk.get_chat_threads_summary(chat.id)
            >>> [t.id for t in summary.threads_summary]
            ['K600PKZON8', 'K600PKZON9']
        """
        self._check_alive()
        require_str("chat_id", chat_id)
        skip, limit = _pagination(offset, limit, _THREADS_PAGE, 1000)

        async def run() -> ThreadsSummary:
            # No v3.6 equivalent: walk list_threads oldest first, only until the
            # window [skip, skip + limit) is in hand. Pages carry every event
            # of their threads, so ask for no more threads than the window needs
            # (at most 100, the maximum); the first request fixes the page size.
            wanted = skip + limit
            request = m.ListThreads(
                chat_id=chat_id, sort_order="asc", limit=min(wanted, 100)
            )
            threads: list[Thread] = []
            total = 0
            while True:
                page = await self._ask(request)
                total = page.found_threads
                threads.extend(page.threads)
                if (
                    len(threads) >= wanted
                    or skip >= total  # the window starts past the last thread
                    or page.next_page_id is None
                ):
                    break
                request = m.ListThreads(chat_id=chat_id, page_id=page.next_page_id)
            return ThreadsSummary(
                threads_summary=[
                    ThreadSummaryItem(
                        id=t.id,
                        order=thread_order(t.created_at),
                        total_events=len(t.events or ()),
                    )
                    for t in threads[skip : skip + limit]
                ],
                total_threads=total,
            )

        return self._from_coroutine(run)


_CHATS_PAGE = {"offset": 0, "limit": 10}


_THREADS_PAGE = {"offset": 0, "limit": 25}


def _options(
    name: str, given: Mapping[str, Any], defaults: Mapping[str, Any], **also: Any
) -> dict[str, Any]:
    """v1's ``name`` object over its ``defaults``: the values to use.

    ``also`` are the method's other arguments that the object replaces, as
    passed: they must be left at their defaults (one form or the other).
    """
    require_options(name, given, defaults)
    for key, value in also.items():
        if value != defaults[key]:
            raise InvalidArgumentError(
                f"pass {key} inside the {name} object or as an argument, not both"
            )
    return {**defaults, **given}


def _pagination(
    offset: int | Mapping[str, int],
    limit: int,
    defaults: Mapping[str, int],
    most: int,
) -> tuple[int, int]:
    """``(offset, limit)`` checked, from the arguments or v1's pagination."""
    if isinstance(offset, Mapping):
        given = _options("pagination", offset, defaults, limit=limit)
        offset, limit = given["offset"], given["limit"]
    require_range("offset", offset, 0, None)
    require_range("limit", limit, 1, most)
    return offset, limit  # type: ignore[return-value]  # checked just above


def _chat_thread(chat_id: str, thread: Thread) -> ChatThread:
    return ChatThread(
        id=thread.id,
        chat=chat_id,
        active=thread.active,
        order=thread_order(thread.created_at),
        users=list(thread.user_ids),
        events=[ev.with_thread(e, thread.id) for e in thread.events or ()],
        created_at=thread.created_at,
    )


# rate_chat's scores: v1 documents 0/1, and its sample passes "good"/"bad"
# (docs/protocol.md §6.1); the wire wants rating.score 1 (good) or 0 (bad).
_SCORES: dict[Any, int] = {"good": 1, "bad": 0, 1: 1, 0: 0}

# v1's options objects: their snake_case keys and what a missing one means.
_RATING = {"score": None, "value": None, "comment": None}

_META = {"attach_to_last_thread": False}

_UPLOAD_DATA = {"file": None, "custom_id": None}

_UPLOAD_SPEC = {"on_progress": None}

_POSTBACK = {"id": None, "toggled": True}

_CHAT_SPEC: dict[str, Any] = {
    "events": (),
    "scope": None,
    "access": None,
    "properties": None,
    "continuous": None,
    "active": None,
}


def _attach(meta: Any) -> bool:
    """``send_event``'s ``attach_to_last_thread``, from v1's meta object."""
    if meta is None:  # as before the meta object: None is the default
        return False
    if isinstance(meta, Mapping):
        meta = _options("meta", meta, _META)["attach_to_last_thread"]
    require_type("attach_to_last_thread", meta, bool)
    return bool(meta)


class CustomerUpdate(Model):
    """``update_customer``'s fields as one object (the JS SDK's form).

    Attributes:
        name: the customer's name.
        email: the customer's e-mail address.
        avatar: the avatar's URL.
    """

    name: str | None = None
    email: str | None = None
    avatar: str | None = None
    fields: dict[str, str] | None = None
    """v1's session fields map, sent as v3.6's ordered ``session_fields``."""
