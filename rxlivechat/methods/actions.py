"""Every v3.6 customer action beyond the v1 methods, in the same form.

Each method validates its input (raising
:class:`~rxlivechat.exceptions.InvalidArgumentError` before anything is sent),
then returns a cold, awaitable ``Observable`` of its typed result; subscribing
sends the request (RTM, or the Web API for the actions that exist only over
HTTP), and the server's error arrives as the
:class:`~rxlivechat.exceptions.ServerError` subclass of its type.

.. code-block:: text

    sdk.list_threads("PJ0MRSHTDG", limit=5)   subscribe ─► list_threads ──► --result|
    sdk.get_configuration(0, "0.1.1")         subscribe ─► HTTP GET     ──► --result|

:class:`CustomerActions` is a base class of :class:`~rxlivechat.sdk.CustomerSDK`;
it relies on the SDK's ``call`` (RTM), ``web_call`` (HTTP) and a few of its
internals, declared below. Names are the actions' own, in snake_case, and keyword
arguments mirror the wire fields, except that a chat, thread or group sent as a
bare ``id`` is spelled ``chat_id``/``group_id`` (as the v1 methods do).

Where a v1 method does the same job, both exist (``docs/actions.md``
has the table): :meth:`list_chats` (cursor) next to ``get_chats_summary`` (offset),
:meth:`mark_events_as_seen` (``datetime``) next to ``update_last_seen_timestamp``
(epoch milliseconds), :meth:`set_customer_session_fields` (ordered list) next to
``update_customer(fields=...)`` (map), :meth:`send_rich_message_postback` next to
``send_postback``, :meth:`deactivate_chat` next to ``close_thread``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from reactivex import Observable, operators as ops

from ..exceptions import InvalidArgumentError
from ..protocol import methods as m
from ..protocol.base import EmptyResult, Model
from ..protocol.methods import FormType, SortOrder
from ..protocol.models import (
    Access,
    Chat,
    ChatSummary,
    Customer,
    Event,
    Postback,
    Properties,
    PropertyNames,
)
from .calls import MethodGroup
from .upload import FileSource, FileUpload, prepare_file
from .validate import (
    convert,
    plain,
    require_events,
    require_str,
    require_type,
    session_fields_of,
    to_model,
    validate,
)

__all__ = ["CancelRateResult", "CustomerActions", "FormType", "SortOrder"]


class CancelRateResult(Model):
    """``cancel_rate``: the thread whose rating was removed.

    Attributes:
        id: the thread.
    """

    id: str


class CustomerActions(MethodGroup):
    """The v3.6 actions the v1 methods do not cover."""

    # Chats ----------------------------------------------------------------------------

    def list_chats(
        self,
        *,
        limit: int | None = None,
        sort_order: SortOrder | None = None,
        page_id: str | None = None,
    ) -> Observable[m.ListChatsResult]:
        """One page of the customer's chat summaries (v3.6 cursor paging).

        The first request may set ``limit`` and ``sort_order``; the next pages
        send only the ``page_id`` of the previous reply. (v1's
        ``get_chats_summary`` pages by offset, in the v1 shape.)

        Args:
            limit: chats per page, 1-25 (the server's default is 10).
            sort_order: ``"desc"`` (newest first, the default) or ``"asc"``.
            page_id: ``next_page_id``/``previous_page_id`` of a previous reply.

        Returns:
            An observable of the page: ``chats_summary``, ``total_chats``,
            ``next_page_id`` and ``previous_page_id`` (each only when that page
            exists).

        Raises:
            InvalidArgumentError: a bad argument, or ``page_id`` with another one.

        Example:
            >>> page = await sdk.list_chats(limit=5)
            >>> while page.next_page_id:
            ...     page = await sdk.list_chats(page_id=page.next_page_id)
        """
        _check_page(page_id, limit=limit, sort_order=sort_order)
        method = m.ListChats(limit=limit, sort_order=sort_order, page_id=page_id)

        def remember(page: m.ListChatsResult) -> None:
            self._remember_chats(page.chats_summary)

        return self.call(method).pipe(ops.do_action(on_next=remember))

    def list_threads(
        self,
        chat_id: str,
        *,
        sort_order: SortOrder | None = None,
        limit: int | None = None,
        page_id: str | None = None,
        min_events_count: int | None = None,
    ) -> Observable[m.ListThreadsResult]:
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
        _check_page(
            page_id,
            limit=limit,
            sort_order=sort_order,
            min_events_count=min_events_count,
        )
        if limit is not None and min_events_count is not None:
            raise InvalidArgumentError("limit cannot be combined with min_events_count")
        return self.call(
            m.ListThreads(
                chat_id=chat_id,
                sort_order=sort_order,
                limit=limit,
                page_id=page_id,
                min_events_count=min_events_count,
            )
        )

    def get_chat(self, chat_id: str, thread_id: str | None = None) -> Observable[Chat]:
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
        return self.call(m.GetChat(chat_id=chat_id, thread_id=thread_id))

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

    def deactivate_chat(self, chat_id: str) -> Observable[EmptyResult]:
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
        return self._send(m.DeactivateChat(id=chat_id), id="chat_id")

    # Events ---------------------------------------------------------------------------

    def delete_event(
        self, chat_id: str, thread_id: str, event_id: str
    ) -> Observable[EmptyResult]:
        """Delete one of the customer's events (members get ``event_deleted``).

        Args:
            chat_id: the chat.
            thread_id: the event's thread.
            event_id: the event.

        Returns:
            An observable of the empty reply.

        Raises:
            InvalidArgumentError: a bad id.

        Example:
            >>> await sdk.delete_event(chat.id, sent.thread_id, sent.id)
            EmptyResult()
        """
        return self.call(
            m.DeleteEvent(chat_id=chat_id, thread_id=thread_id, event_id=event_id)
        )

    def mark_events_as_seen(
        self, chat_id: str, seen_up_to: datetime.datetime
    ) -> Observable[EmptyResult]:
        """Mark the chat's events seen up to a time (``events_marked_as_seen``).

        The v3.6 form of v1's ``update_last_seen_timestamp``, which also
        takes epoch milliseconds and defaults to now.

        Args:
            chat_id: the chat.
            seen_up_to: a timezone-aware time (sent as RFC 3339, microseconds).

        Returns:
            An observable of the empty reply.

        Raises:
            InvalidArgumentError: a bad id, or a naive or non-``datetime`` time.

        Example:
            >>> now = datetime.datetime.now(datetime.UTC)
            >>> await sdk.mark_events_as_seen(chat.id, now)
            EmptyResult()
        """
        return self.call(m.MarkEventsAsSeen(chat_id=chat_id, seen_up_to=seen_up_to))

    def send_rich_message_postback(
        self,
        chat_id: str,
        thread_id: str,
        event_id: str,
        postback: Postback | Mapping[str, Any],
    ) -> Observable[EmptyResult]:
        """Report a click on a rich message button, with every v3.6 field.

        v1's ``send_postback`` sends only ``id`` and ``toggled``.

        Args:
            chat_id: the chat.
            thread_id: the rich message's thread.
            event_id: the rich message.
            postback: ``Postback(id=..., toggled=..., button_type=...,
                button_value=..., ecommerce=...)`` or the same as a mapping.

        Returns:
            An observable of the empty reply (members of an active thread get
            ``incoming_rich_message_postback``).

        Raises:
            InvalidArgumentError: a bad id or postback.

        Example:
            >>> await sdk.send_rich_message_postback(
            ...     chat.id, thread_id, event.id, {"id": "yes", "toggled": True}
            ... )
            EmptyResult()
        """
        return self.call(
            m.SendRichMessagePostback(
                chat_id=chat_id,
                thread_id=thread_id,
                event_id=event_id,
                postback=check_postback(to_model(postback, Postback, "postback")),
            )
        )

    def request_welcome_message(
        self, *, id: str | None = None, group_id: int | None = None
    ) -> Observable[m.RequestWelcomeMessageResult]:
        """Ask for a welcome message; it comes as ``incoming_welcome_message``.

        Args:
            id: the previous welcome message's id, if any.
            group_id: the group to ask (the customer's by default).

        Returns:
            An observable of the reply: the message ``id``, the ``predicted_agent`` and
            ``queue``. It errors with :class:`~rxlivechat.exceptions.GroupOfflineError`
            or :class:`~rxlivechat.exceptions.GroupUnavailableError` when nobody can
            answer.

        Raises:
            InvalidArgumentError: a bad argument.

        Example:
            >>> reply = await sdk.request_welcome_message()
            >>> reply.predicted_agent.name
            'Jane Doe'
        """
        return self.call(m.RequestWelcomeMessage(id=id, group_id=group_id))

    def send_sneak_peek(self, chat_id: str, text: str) -> Observable[EmptyResult]:
        """Show the agents what the customer is typing, now (``send_sneak_peek``).

        The direct v3.6 action: one request per call, not throttled, sent whether
        or not the chat is active. v1's ``set_sneak_peek`` is the throttled
        form for keystrokes (at most one per 2 s per chat, active chats only).

        Args:
            chat_id: the chat.
            text: what the customer has typed so far (sent as ``sneak_peek_text``).

        Returns:
            An observable of the empty reply.

        Raises:
            InvalidArgumentError: a bad id or text.

        Example:
            >>> await sdk.send_sneak_peek(chat.id, "Where is my ord")
            EmptyResult()
        """
        return self._send(
            m.SendSneakPeek(chat_id=chat_id, sneak_peek_text=text),
            sneak_peek_text="text",
        )

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

    def update_thread_properties(
        self, chat_id: str, thread_id: str, properties: Properties
    ) -> Observable[EmptyResult]:
        """Set thread properties (members get ``thread_properties_updated``).

        The v3.6 name of v1's ``update_chat_thread_properties``.

        Args:
            chat_id: the chat.
            thread_id: the thread.
            properties: ``{"namespace": {"name": value}}``.

        Returns:
            An observable of the empty reply.

        Raises:
            InvalidArgumentError: a bad id or properties.

        Example:
            >>> await sdk.update_thread_properties(
            ...     chat.id, thread_id, {"routing": {"transcript_email": "a@b.c"}}
            ... )
            EmptyResult()
        """
        return self.call(
            m.UpdateThreadProperties(
                chat_id=chat_id, thread_id=thread_id, properties=plain(properties)
            )
        )

    def delete_chat_properties(
        self, chat_id: str, properties: PropertyNames
    ) -> Observable[EmptyResult]:
        """Delete chat properties (members get ``chat_properties_deleted``).

        Args:
            chat_id: the chat (sent as ``id``).
            properties: ``{"namespace": ["name", ...]}``.

        Returns:
            An observable of the empty reply.

        Raises:
            InvalidArgumentError: a bad id or property names.

        Example:
            >>> await sdk.delete_chat_properties(
            ...     chat.id, {"routing": ["email_follow_up"]}
            ... )
            EmptyResult()
        """
        return self._send(
            m.DeleteChatProperties(id=chat_id, properties=plain(properties)),
            id="chat_id",
        )

    def delete_thread_properties(
        self, chat_id: str, thread_id: str, properties: PropertyNames
    ) -> Observable[EmptyResult]:
        """Delete thread properties (members get ``thread_properties_deleted``).

        Args:
            chat_id: the chat.
            thread_id: the thread.
            properties: ``{"namespace": ["name", ...]}``.

        Returns:
            An observable of the empty reply.

        Raises:
            InvalidArgumentError: a bad id or property names.

        Example:
            >>> await sdk.delete_thread_properties(
            ...     chat.id, thread_id, {"routing": ["transcript_email"]}
            ... )
            EmptyResult()
        """
        return self.call(
            m.DeleteThreadProperties(
                chat_id=chat_id, thread_id=thread_id, properties=plain(properties)
            )
        )

    def update_event_properties(
        self, chat_id: str, thread_id: str, event_id: str, properties: Properties
    ) -> Observable[EmptyResult]:
        """Set event properties (members get ``event_properties_updated``).

        Args:
            chat_id: the chat.
            thread_id: the event's thread.
            event_id: the event.
            properties: ``{"namespace": {"name": value}}``.

        Returns:
            An observable of the empty reply.

        Raises:
            InvalidArgumentError: a bad id or properties.

        Example:
            >>> await sdk.update_event_properties(
            ...     chat.id, thread_id, event.id, {"status": {"delivered": True}}
            ... )
            EmptyResult()
        """
        return self.call(
            m.UpdateEventProperties(
                chat_id=chat_id,
                thread_id=thread_id,
                event_id=event_id,
                properties=plain(properties),
            )
        )

    def delete_event_properties(
        self, chat_id: str, thread_id: str, event_id: str, properties: PropertyNames
    ) -> Observable[EmptyResult]:
        """Delete event properties (members get ``event_properties_deleted``).

        Args:
            chat_id: the chat.
            thread_id: the event's thread.
            event_id: the event.
            properties: ``{"namespace": ["name", ...]}``.

        Returns:
            An observable of the empty reply.

        Raises:
            InvalidArgumentError: a bad id or property names.

        Example:
            >>> await sdk.delete_event_properties(
            ...     chat.id, thread_id, event.id, {"status": ["delivered"]}
            ... )
            EmptyResult()
        """
        return self.call(
            m.DeleteEventProperties(
                chat_id=chat_id,
                thread_id=thread_id,
                event_id=event_id,
                properties=plain(properties),
            )
        )

    def list_license_properties(
        self, *, namespace: str | None = None, name: str | None = None
    ) -> Observable[Properties]:
        """The license's properties (Web API ``GET``, no token needed).

        Args:
            namespace: only this namespace.
            name: only properties with this name.

        Returns:
            An observable of ``{"namespace": {"name": value}}``.

        Raises:
            InvalidArgumentError: a bad filter.

        Example:
            >>> await sdk.list_license_properties(namespace="shop")
            {'shop': {'currency': 'EUR'}}
        """
        return self.web_call(m.ListLicenseProperties(namespace=namespace, name=name))

    def list_group_properties(
        self,
        group_id: int,
        *,
        namespace: str | None = None,
        name: str | None = None,
    ) -> Observable[Properties]:
        """A group's properties (Web API ``GET``, no token needed).

        Args:
            group_id: the group (sent as ``id``).
            namespace: only this namespace.
            name: only properties with this name.

        Returns:
            An observable of ``{"namespace": {"name": value}}``; it errors with
            :class:`~rxlivechat.exceptions.GroupNotFoundError` for an unknown group.

        Raises:
            InvalidArgumentError: a bad group id or filter.

        Example:
            >>> await sdk.list_group_properties(0, namespace="shop")
            {'shop': {'hours': '9-17'}}
        """
        return self._send_web(
            m.ListGroupProperties(id=group_id, namespace=namespace, name=name),
            id="group_id",
        )

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

    def get_customer(self) -> Observable[Customer]:
        """The customer's own data (name, e-mail, session fields...).

        Returns:
            An observable of the :class:`~rxlivechat.protocol.models.Customer`.

        Example:
            >>> me = await sdk.get_customer()
            >>> me.name, me.email
            ('Jane', 'jane@example.com')
        """
        return self.call(m.GetCustomer())

    def set_customer_session_fields(
        self, session_fields: Iterable[Mapping[str, str]]
    ) -> Observable[EmptyResult]:
        """Replace the customer's session fields, in order (at most 100).

        The v3.6 form; v1's ``update_customer(fields={...})`` takes a map.

        Args:
            session_fields: single-key maps, e.g. ``[{"plan": "pro"}, {"id": "7"}]``.

        Returns:
            An observable of the empty reply.

        Raises:
            InvalidArgumentError: not a list of single-key string maps, or too many.

        Example:
            >>> await sdk.set_customer_session_fields([{"plan": "pro"}, {"id": "7"}])
            EmptyResult()
        """
        fields = session_fields_of(session_fields)
        return self.call(m.SetCustomerSessionFields(session_fields=fields))

    def request_email_verification(self, callback_uri: str) -> Observable[EmptyResult]:
        """E-mail the customer a verification link (Web API only).

        When the customer confirms, LiveChat posts the verified address to
        ``callback_uri``.

        Args:
            callback_uri: an ``http``/``https`` URL of yours.

        Returns:
            An observable of the empty reply.

        Raises:
            InvalidArgumentError: not an http(s) URL.

        Example:
            >>> await sdk.request_email_verification("https://example.com/verified")
            EmptyResult()
        """
        return self.web_call(m.RequestEmailVerification(callback_uri=callback_uri))

    def activate_customer_page(self) -> Observable[EmptyResult]:
        """Tell LiveChat the customer's page is in the foreground (RTM only).

        Not in the v3.6 reference; the official Python SDK sends it.

        Returns:
            An observable of the empty reply.

        Example:
            >>> await sdk.activate_customer_page()
            EmptyResult()
        """
        return self.call(m.ActivateCustomerPage())

    def deactivate_customer_page(self) -> Observable[EmptyResult]:
        """Tell LiveChat the customer's page went to the background (RTM only).

        Not in the v3.6 reference; the official Python SDK sends it.

        Returns:
            An observable of the empty reply.

        Example:
            >>> await sdk.deactivate_customer_page()
            EmptyResult()
        """
        return self.call(m.DeactivateCustomerPage())

    # Greetings ------------------------------------------------------------------------

    def accept_greeting(
        self, greeting_id: int, unique_id: str
    ) -> Observable[EmptyResult]:
        """Accept a greeting shown by ``incoming_greeting`` (``greeting_accepted``).

        Args:
            greeting_id: the greeting's ``id`` (the configured greeting).
            unique_id: the greeting's ``unique_id`` (this display of it).

        Returns:
            An observable of the empty reply; it errors with
            :class:`~rxlivechat.exceptions.GreetingNotFoundError` when it is no longer
            shown.

        Raises:
            InvalidArgumentError: a bad id.

        Example:
            >>> def accept(greeting):
            ...     sdk.accept_greeting(greeting.id, greeting.unique_id).subscribe()
            >>> sdk.on("incoming_greeting", accept)
        """
        return self.call(m.AcceptGreeting(greeting_id=greeting_id, unique_id=unique_id))

    def cancel_greeting(self, unique_id: str) -> Observable[EmptyResult]:
        """Reject a greeting shown by ``incoming_greeting`` (``greeting_canceled``).

        Args:
            unique_id: the greeting's ``unique_id``.

        Returns:
            An observable of the empty reply; it errors with
            :class:`~rxlivechat.exceptions.GreetingNotFoundError` when it is no longer
            shown.

        Raises:
            InvalidArgumentError: a bad id.

        Example:
            >>> await sdk.cancel_greeting(greeting.unique_id)
            EmptyResult()
        """
        return self.call(m.CancelGreeting(unique_id=unique_id))

    def send_greeting_button_clicked(
        self, greeting_unique_id: str, button_id: str
    ) -> Observable[EmptyResult]:
        """Report a click on a greeting's button.

        Args:
            greeting_unique_id: the greeting's ``unique_id``.
            button_id: the button.

        Returns:
            An observable of the empty reply.

        Raises:
            InvalidArgumentError: a bad id.

        Example:
            >>> await sdk.send_greeting_button_clicked(greeting.unique_id, "start")
            EmptyResult()
        """
        return self.call(
            m.SendGreetingButtonClicked(
                greeting_unique_id=greeting_unique_id, button_id=button_id
            )
        )

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

    def get_form(self, group_id: int, type: FormType) -> Observable[m.GetFormResult]:
        """A group's form: pre-chat, post-chat or ticket.

        Args:
            group_id: the group.
            type: ``"prechat"``, ``"postchat"`` or ``"ticket"``.

        Returns:
            An observable of ``enabled`` and, when enabled, the ``form``.

        Raises:
            InvalidArgumentError: a bad group id or form type.

        Example:
            >>> form = await sdk.get_form(0, "prechat")
            >>> form.enabled
            True
        """
        return self.call(m.GetForm(group_id=group_id, type=type))

    def get_url_info(self, url: str) -> Observable[m.GetUrlInfoResult]:
        """A link preview: the page's title, description and image.

        Args:
            url: an ``http``/``https`` URL.

        Returns:
            An observable of ``title``, ``description``, ``image_url`` (a copy on
            LiveChat's CDN), ``image_original_url``, ``image_width``,
            ``image_height`` and ``url``.

        Raises:
            InvalidArgumentError: not an http(s) URL.

        Example:
            >>> info = await sdk.get_url_info("https://www.livechat.com")
            >>> info.title
            'LiveChat'
        """
        return self.call(m.GetUrlInfo(url=url))

    def get_dynamic_configuration(
        self,
        *,
        group_id: int | None = None,
        url: str | None = None,
        channel_type: str | None = None,
        test: bool | None = None,
    ) -> Observable[m.GetDynamicConfigurationResult]:
        """The widget's dynamic configuration (Web API ``GET``).

        Args:
            group_id: the group (the customer's by default).
            url: the page the widget is on.
            channel_type: the channel, e.g. ``"code"``.
            test: ask for the test configuration.

        Returns:
            An observable of ``organization_id``, ``default_widget``,
            ``livechat_active`` and ``livechat`` (``config_version``,
            ``localization_version``, ``language``... for the calls below).

        Raises:
            InvalidArgumentError: a bad argument.

        Example:
            >>> dynamic = await sdk.get_dynamic_configuration(group_id=0)
            >>> dynamic.livechat_active
            True
        """
        return self.web_call(
            m.GetDynamicConfiguration(
                group_id=group_id, url=url, channel_type=channel_type, test=test
            )
        )

    def get_configuration(
        self, group_id: int, version: str
    ) -> Observable[m.GetConfigurationResult]:
        """The widget's configuration of a group (Web API ``GET``).

        Args:
            group_id: the group.
            version: ``livechat.config_version`` of the dynamic configuration.

        Returns:
            An observable of ``buttons``, the forms, ``integrations`` and
            ``properties`` (``group`` and ``license``).

        Raises:
            InvalidArgumentError: a bad argument.

        Example:
            >>> dynamic = await sdk.get_dynamic_configuration()
            >>> version = dynamic.livechat.config_version
            >>> config = await sdk.get_configuration(0, version)
        """
        return self.web_call(m.GetConfiguration(group_id=group_id, version=version))

    def get_localization(
        self, group_id: int, language: str, version: str
    ) -> Observable[dict[str, str]]:
        """The widget's phrases in a language (Web API ``GET``).

        Args:
            group_id: the group.
            language: a language code, e.g. ``"en"``.
            version: ``livechat.localization_version`` of the dynamic configuration.

        Returns:
            An observable of ``{"Phrase_key": "text"}``.

        Raises:
            InvalidArgumentError: a bad argument.

        Example:
            >>> live = (await sdk.get_dynamic_configuration()).livechat
            >>> phrases = await sdk.get_localization(
            ...     0, live.language, live.localization_version
            ... )
        """
        return self.web_call(
            m.GetLocalization(group_id=group_id, language=language, version=version)
        )

    def check_goals(
        self,
        session_fields: Iterable[Mapping[str, str]],
        group_id: int,
        page_url: str,
    ) -> Observable[EmptyResult]:
        """Check goals for a customer who cannot chat now (Web API only).

        Meant for offline customers when the license's customer limit is reached.

        Args:
            session_fields: single-key maps, e.g. ``[{"plan": "pro"}]``.
            group_id: the group.
            page_url: the page the customer is on.

        Returns:
            An observable of the empty reply.

        Raises:
            InvalidArgumentError: a bad argument.

        Example:
            >>> await sdk.check_goals([{"plan": "pro"}], 0,
            "https://shop.example.com/thanks") EmptyResult()
        """
        return self.web_call(
            m.CheckGoals(
                session_fields=session_fields_of(session_fields),
                group_id=group_id,
                page_url=page_url,
            )
        )

    # Shared with the v1 methods ------------------------------------------------------

    def _remember_chats(self, chats: Iterable[ChatSummary]) -> None:
        remember = self._calls.engine.remember_chat  # the engine keeps them
        for chat in chats:
            remember(chat.id, chat.active)


def _check_page(page_id: str | None, **others: Any) -> None:
    """A later page takes nothing but ``page_id`` (docs/protocol.md §5)."""
    if page_id is None:
        return
    given = sorted(name for name, value in others.items() if value is not None)
    if given:
        raise InvalidArgumentError(
            f"page_id cannot be combined with {', '.join(given)}: a later page "
            "keeps the first request's settings"
        )


def check_postback(
    postback: Postback,
    id_name: str = "postback.id",
    toggled_name: str = "postback.toggled",
) -> Postback:
    """``postback`` checked, naming its fields as the caller wrote them.

    Checked by hand: the model also decodes the server's pushes, so its fields
    carry no constraints.
    """
    require_str(id_name, postback.id)
    require_type(toggled_name, postback.toggled, bool)
    return postback
