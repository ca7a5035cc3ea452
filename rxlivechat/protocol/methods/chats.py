"""Chats: list, get, start, resume and close them (docs/protocol.md §2.2)."""

from __future__ import annotations

from typing import ClassVar, TypeAlias

from ..base import EmptyResult, Method, Model
from ..limits import ChatsPageLimit, MinEventsCount, ThreadsPageLimit
from ..models import (
    Access,
    Chat,
    ChatInfo,
    ChatSummary,
    Event,
    Thread,
    User,
)
from .fields import (
    Id,
    PropertiesIn,
    WireSortOrder,
)


class ListChatsResult(Model):
    """The reply of ``list_chats``."""

    chats_summary: list[ChatSummary]
    total_chats: int
    next_page_id: str | None = None
    previous_page_id: str | None = None


class ListChatsInfoResult(Model):
    """The reply of ``list_chats`` in v3.7: ``chats_info`` for ``chats_summary``."""

    chats_info: list[ChatInfo]
    total_chats: int
    next_page_id: str | None = None
    previous_page_id: str | None = None

    def as_summary(self) -> ListChatsResult:
        """The same page in the v3.5/v3.6 shape (:class:`ListChatsResult`)."""
        return ListChatsResult(
            chats_summary=[chat.as_summary() for chat in self.chats_info],
            total_chats=self.total_chats,
            next_page_id=self.next_page_id,
            previous_page_id=self.previous_page_id,
        )


def chats_summary_of(page: ListChatsResult | ListChatsInfoResult) -> ListChatsResult:
    """A ``list_chats`` page of any version, in the v3.5/v3.6 shape."""
    return page if isinstance(page, ListChatsResult) else page.as_summary()


class ChatsPageRequest(Model):
    """The fields of a ``list_chats`` request, the same in every version."""

    limit: ChatsPageLimit | None = None
    sort_order: WireSortOrder | None = None
    page_id: Id | None = None


class ListChats(ChatsPageRequest, Method[ListChatsResult]):
    """One page of the customer's chat summaries (cursor paging), v3.5 and v3.6.

    The first request may set ``limit`` (1-25) and ``sort_order``; the next
    pages send only the ``page_id`` of the previous reply. In v3.7 the same
    request is sent as :class:`ListChatsInfo`, whose reply has ``chats_info``.
    The SDK's method is ``list_chats``
    (:meth:`rxlivechat.methods.actions.CustomerActions.list_chats`).
    """

    action = "list_chats"


class ListChatsInfo(ChatsPageRequest, Method[ListChatsInfoResult]):
    """``list_chats`` in API v3.7, whose reply is a :class:`ListChatsInfoResult`.

    The SDK sends it for ``list_chats`` on a v3.7 connection.
    """

    action: ClassVar[str] = "list_chats"
    in_version: ClassVar[str | None] = "3.7"


class ListThreadsResult(Model):
    """The reply of ``list_threads``."""

    threads: list[Thread]
    found_threads: int
    next_page_id: str | None = None
    previous_page_id: str | None = None


class ListThreads(Method[ListThreadsResult]):
    """One page of a chat's threads, with their events (cursor paging).

    Args:
        chat_id: the chat.
        sort_order: ``"desc"`` (newest threads first, the default) or ``"asc"``.
        limit: threads per page, 1-100 (the server's default is 3); not with
            ``min_events_count``.
        page_id: ``next_page_id``/``previous_page_id`` of a previous reply;
            alone (with ``chat_id``).
        min_events_count: 1-100: as many threads as it takes to hold this
            many events.

    Returns:
        An observable of the page: ``threads``, ``found_threads``,
        ``next_page_id``, ``previous_page_id``.

    Raises:
        InvalidArgumentError: a bad argument, or a forbidden combination.

    Example:
        >>> page = await sdk.list_threads(chat.id, min_events_count=20)
        >>> [t.id for t in page.threads]
        ['K600PKZON8', 'K600PKZON7']
    """

    action = "list_threads"

    chat_id: Id
    sort_order: WireSortOrder | None = None
    limit: ThreadsPageLimit | None = None
    page_id: Id | None = None
    min_events_count: MinEventsCount | None = None


GetChatResult: TypeAlias = Chat
"""The reply of ``get_chat``: a :class:`~rxlivechat.protocol.models.Chat`."""


class GetChat(Method[GetChatResult]):
    """A chat with one thread: ``thread_id``, or the latest one.

    Args:
        chat_id: the chat.
        thread_id: a thread of it (the latest when ``None``).

    Returns:
        An observable of the :class:`~rxlivechat.protocol.models.Chat` (its
        ``thread`` holds the thread's events; ``None`` in a chat without one).

    Raises:
        InvalidArgumentError: a bad id.

    Example:
        >>> chat = await sdk.get_chat(chat_id)
        >>> [e.text for e in chat.thread.events if e.type == "message"]
        ['Hello', 'Hi! How can I help?']
    """

    action = "get_chat"

    chat_id: Id
    thread_id: Id | None = None


class ThreadSpec(Model):
    """The initial thread of ``start_chat``/``resume_chat``."""

    events: list[Event] | None = None
    properties: PropertiesIn | None = None


class StartChatSpec(Model):
    """The chat to create with ``start_chat``."""

    access: Access | None = None
    properties: PropertiesIn | None = None
    users: list[User] | None = None
    thread: ThreadSpec | None = None


class StartChatResult(Model):
    """The reply of ``start_chat``; ``event_ids`` of the initial events."""

    chat_id: str
    thread_id: str
    event_ids: list[str] | None = None


class StartChat(Method[StartChatResult]):
    """Start a chat (a customer may have one)."""

    action = "start_chat"

    chat: StartChatSpec | None = None
    active: bool | None = None
    continuous: bool | None = None
    welcome_message_id: str | None = None  # not in the API docs; JS SDK v5


class ResumeChatSpec(StartChatSpec, kw_only=True):
    """The chat to resume with ``resume_chat``."""

    id: Id


class ResumeChatResult(Model):
    """The reply of ``resume_chat``; ``event_ids`` of the initial events."""

    thread_id: str
    event_ids: list[str] | None = None


class ResumeChat(Method[ResumeChatResult]):
    """Open a new thread in an inactive chat."""

    action = "resume_chat"

    chat: ResumeChatSpec
    active: bool | None = None
    continuous: bool | None = None
    welcome_message_id: str | None = None  # not in the API docs; JS SDK v5


class DeactivateChat(Method[EmptyResult]):
    """Close the chat's open thread (v3.6 form of v1's ``close_thread``).

    The chat's members get a ``manual_archived_customer`` system message
    (``new_event``), then ``thread_closed``.

    Args:
        chat_id: the chat (sent as ``id``).

    Returns:
        An observable of the empty reply; it errors with
        :class:`~rxlivechat.exceptions.ChatInactiveError` when nothing is open.

    Raises:
        InvalidArgumentError: a bad id.

    Example:
        >>> await sdk.deactivate_chat(chat.id)
        EmptyResult()
    """

    action = "deactivate_chat"

    id: Id
