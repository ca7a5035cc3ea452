"""The v3.6 actions beyond the v1 methods that do more than send their request.

A chat echoed back (:meth:`~CustomerActions.resume_chat`), an upload, two
requests (:meth:`~CustomerActions.cancel_rate`), a reshaped reply
(:meth:`~CustomerActions.list_group_statuses`). The actions sent as they are
inherit from :class:`~rxlivechat.methods.declared.DeclaredActions`, one line each.

.. code-block:: text

    sdk.list_threads("PJ0MRSHTDG", limit=5)   subscribe ─► list_threads ──► --result|
    sdk.get_configuration(0, "0.1.1")         subscribe ─► HTTP GET     ──► --result|

Each method validates its input (raising
:class:`~rxlivechat.exceptions.InvalidArgumentError` before anything is sent),
then returns a cold, awaitable ``Observable`` of its typed result; the server's
error arrives as the :class:`~rxlivechat.exceptions.ServerError` subclass of its
type. Names are the actions' own; keyword arguments mirror the wire fields, except
that a chat or group sent as a bare ``id`` is spelled ``chat_id``/``group_id``.
Where a v1 method does the same job, both exist (``docs/actions.md`` has the
table).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from reactivex import Observable, operators as ops

from ..exceptions import InvalidArgumentError
from ..protocol import methods as m
from ..protocol.base import Model
from ..protocol.methods import FormType, SortOrder
from ..protocol.models import (
    Access,
    Chat,
    Event,
    Properties,
)
from .declared import DeclaredActions
from .paging import check_list_chats, remember_chats
from .upload import FileSource, FileUpload, prepare_file
from .validate import (
    convert,
    plain,
    require_events,
    validate,
)

__all__ = ["CancelRateResult", "CustomerActions", "FormType", "SortOrder"]


class CancelRateResult(Model):
    """``cancel_rate``: the thread whose rating was removed.

    Attributes:
        id: the thread.
    """

    id: str


class CustomerActions(DeclaredActions):
    """The v3.6 actions the v1 methods do not cover."""

    # Chats ----------------------------------------------------------------------------

    def list_chats(
        self,
        *,
        limit: int | None = None,
        sort_order: SortOrder | None = None,
        page_id: str | None = None,
    ) -> Observable[m.ListChatsResult | m.ListChatsInfoResult]:
        """One page of the customer's chats (cursor paging), in the API version's shape.

        The first request may set ``limit`` and ``sort_order``; the next pages
        send only the ``page_id`` of the previous reply. (v1's
        ``get_chats_summary`` pages by offset, in the v1 shape, in every version.)

        Args:
            limit: chats per page, 1-25 (the server's default is 10).
            sort_order: ``"desc"`` (newest first, the default) or ``"asc"``.
            page_id: ``next_page_id``/``previous_page_id`` of a previous reply.

        Returns:
            An observable of the page: a
            :class:`~rxlivechat.protocol.methods.ListChatsResult` (``chats_summary``)
            in v3.5 and v3.6, a
            :class:`~rxlivechat.protocol.methods.ListChatsInfoResult`
            (``chats_info``) in v3.7; both have ``total_chats``, ``next_page_id``
            and ``previous_page_id`` (each only when that page exists), and
            :func:`~rxlivechat.protocol.methods.chats_summary_of` gives either in
            the v3.6 shape.

        Raises:
            InvalidArgumentError: a bad argument, or ``page_id`` with another one.

        Example:
            >>> page = await sdk.list_chats(limit=5)
            >>> while page.next_page_id:
            ...     page = await sdk.list_chats(page_id=page.next_page_id)
        """
        request = m.ListChats(limit=limit, sort_order=sort_order, page_id=page_id)
        check_list_chats(request)
        return self._reshaped(
            self._send(request), lambda page: remember_chats(self, page)
        )

    def resume_chat(
        self,
        chat_id: str,
        events: Iterable[Event | Mapping[str, Any]] = (),
        access: Access | Mapping[str, Any] | None = None,
        properties: Properties | None = None,
        *,
        thread_properties: Properties | None = None,
        continuous: bool | None = None,
        active: bool | None = None,
    ) -> Observable[Chat]:
        """Open a new thread in an inactive chat, optionally with initial events.

        Args:
            chat_id: the chat to resume.
            events: the new thread's first events (Structs, or the plain dicts
                of their wire form: ``{"type": "message", "text": "Hi"}``).
            access: the chat's new access (``Access(group_ids=[...])`` or
                ``{"group_ids": [...]}``).
            properties: chat properties to set.
            thread_properties: the new thread's properties.
            continuous: ``True``/``False`` switch continuous mode; ``None`` keeps it.
            active: ``False`` opens an inactive thread.

        Returns:
            An observable of the chat with its new thread (from the ``incoming_chat``
            push the request causes). It errors with
            :class:`~rxlivechat.exceptions.ValidationError` when the chat is already
            active and :class:`~rxlivechat.exceptions.GroupsOfflineError` when no group
            can take it.

        Raises:
            InvalidArgumentError: a bad argument.

        Example:
            >>> chat = await sdk.resume_chat(chat.id, [Message(text="Back again")])
            >>> chat.thread.active
            True
        """
        thread = m.ThreadSpec(
            events=require_events(events) or None, properties=thread_properties
        )
        spec = m.ResumeChatSpec(
            id=chat_id,
            access=convert(access, Access, "access"),
            properties=properties,
            thread=thread if thread.events or thread_properties else None,
        )
        method = m.ResumeChat(chat=spec, continuous=continuous, active=active)
        return self._echo_chat(
            method,
            chat_id,
            active is not False,
            **{"chat.id": "chat_id", "chat.thread.properties": "thread_properties"},
        )

    # Events ---------------------------------------------------------------------------

    def upload_file(
        self,
        file: FileSource,
        on_progress: Callable[[float], None] | None = None,
        *,
        name: str | None = None,
        content_type: str | None = None,
    ) -> FileUpload:
        """Upload a file (≤ 10 MB) to LiveChat's CDN, without sending it.

        The v3.6 action (Web API only). Send the URL in a ``File`` event within
        24 hours, or use v1's ``send_file``, which does both.

        Args:
            file: a path, the bytes, or a binary file object.
            on_progress: called with fractions 0..1 of the file uploaded.
            name: the file name (default: the path's, or ``"file"``).
            content_type: the MIME type (default: guessed from the name).

        Returns:
            A :class:`~rxlivechat.methods.upload.FileUpload` whose result's
            ``url`` is the uploaded file's, with ``.progress`` and ``.cancel()``.

        Raises:
            InvalidArgumentError: not a file, or over 10 MB.

        Example:
            >>> uploaded = await sdk.upload_file("report.pdf")
            >>> await sdk.send_event(chat.id, File(url=uploaded.url))
        """
        self._check_alive()
        prepared = prepare_file(file, name=name, content_type=content_type)

        async def keep(url: str) -> None:
            return None  # upload only: the caller sends the URL

        return FileUpload(
            self._calls.engine.upload, prepared, keep, on_progress=on_progress
        )

    # Properties -----------------------------------------------------------------------

    def cancel_rate(
        self, chat_id: str, properties: Iterable[str] = ("score",)
    ) -> Observable[CancelRateResult]:
        """Remove the rating of the chat's latest thread (v1's ``rate_chat``).

        The JS SDK's ``cancelRate``: ``delete_thread_properties`` of the
        ``rating`` namespace on the latest thread.

        Args:
            chat_id: the chat.
            properties: the ``rating`` properties to delete: ``"score"`` and/or
                ``"comment"``.

        Returns:
            An observable of the thread whose rating was removed; it errors with
            :class:`InvalidArgumentError` when the chat has no thread.

        Raises:
            InvalidArgumentError: a bad id or property names.

        Example:
            >>> await sdk.cancel_rate(chat.id, ["score", "comment"])
            CancelRateResult(id='K600PKZON8')
        """
        self._check_alive()
        names = {"rating": plain(properties)}
        # Checked now, as a whole request would be; the thread is known later.
        validate(
            m.DeleteThreadProperties(chat_id=chat_id, thread_id="-", properties=names)
        )

        async def run() -> CancelRateResult:
            chat = await self._ask(m.GetChat(chat_id=chat_id))
            if chat.thread is None:
                raise InvalidArgumentError(f"chat {chat_id!r} has no thread to unrate")
            await self._ask(
                m.DeleteThreadProperties(
                    chat_id=chat_id, thread_id=chat.thread.id, properties=names
                )
            )
            return CancelRateResult(id=chat.thread.id)

        return self._from_coroutine(run)

    # Customer -------------------------------------------------------------------------

    # Greetings ------------------------------------------------------------------------

    # Status and configuration ---------------------------------------------------------

    def list_group_statuses(
        self, group_ids: Iterable[int] | None = None, *, all: bool | None = None
    ) -> Observable[dict[int, str]]:
        """Group availability: ``online``, ``online_for_queue`` or ``offline``.

        Args:
            group_ids: these groups (unknown ones are left out of the reply).
            all: every group; the default when ``group_ids`` is ``None``.

        Returns:
            An observable of ``{group_id: status}`` (ids as ``int``; the wire
            has them as strings).

        Raises:
            InvalidArgumentError: bad ids, or both ``group_ids`` and ``all``.

        Example:
            >>> await sdk.list_group_statuses([0, 1])
            {0: 'online', 1: 'offline'}
        """
        if group_ids is not None and all:
            raise InvalidArgumentError("pass group_ids or all=True, not both")
        if group_ids is None and all is False:
            raise InvalidArgumentError("all=False needs group_ids")
        ids = None if group_ids is None else plain(group_ids)
        every = (True if all is None else all) if ids is None else None
        method = m.ListGroupStatuses(all=every, group_ids=ids)

        def by_id(result: m.ListGroupStatusesResult) -> dict[int, str]:
            return {int(k): v for k, v in result.groups_status.items()}

        return self.call(method).pipe(ops.map(by_id))

    # Shared with the v1 methods ------------------------------------------------------
