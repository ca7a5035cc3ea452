"""The v1 methods: the JS Customer SDK v1 surface, built on v3.6.

Each returns a cold, awaitable observable of a result in the v1 shape
(:mod:`rxlivechat.results`), with the v1 "Returned value" fields in snake_case;
docs/protocol.md §6.1 says how each maps onto v3.6. Input is checked before anything
is sent. The v3.6 actions beyond these are in :mod:`rxlivechat.methods.actions`.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, TypeVar, overload

import msgspec
from reactivex import Observable

from .. import events as ev
from ..exceptions import InvalidArgumentError
from ..protocol import methods as m, pushes as p
from ..protocol.base import EmptyResult
from ..protocol.frames import Push
from ..protocol.models import (
    Access,
    Agent,
    Chat,
    Event,
    File,
    Postback,
    Properties,
)
from ..results import (
    CloseThreadResult,
    LastSeenTimestamp,
    RateChatResult,
)
from .throttle import Throttle
from .upload import FileSource, FileUpload
from .v1_pages import (
    _CHAT_SPEC,
    _POSTBACK,
    _RATING,
    _SCORES,
    _UPLOAD_DATA,
    _UPLOAD_SPEC,
    CustomerUpdate,
    V1Pages,
    _attach,
    _options,
)
from .validate import (
    check_postback,
    convert,
    plain,
    require_events,
    require_str,
    require_text,
    session_fields_of,
    to_datetime,
    to_event,
    to_model,
    validate,
)

__all__ = ["CustomerUpdate", "Score", "V1Methods"]

log = logging.getLogger("rxlivechat")

EventT = TypeVar("EventT", bound=Event)
"""The type of the event sent: ``send_event`` emits the same type back."""

Score = Literal[0, 1, "good", "bad"]
"""A rating: ``1`` or ``"good"``, ``0`` or ``"bad"``."""


class V1Methods(V1Pages):
    """The v1 methods; a base class of :class:`~rxlivechat.sdk.CustomerSDK`."""

    _sneak_peeks: dict[str, Throttle[str]]
    _sneak_peek_interval: float

    # v1 methods -------------------------------------------------------------------

    def close_thread(self, chat_id: str) -> Observable[CloseThreadResult]:
        """Close the chat's active thread (``deactivate_chat``).

        Args:
            chat_id: the chat.

        Returns:
            An observable of :class:`~rxlivechat.results.CloseThreadResult`
            (``success=True``); it errors with
            :class:`~rxlivechat.exceptions.ChatInactiveError` when no thread is
            open.

        Raises:
            InvalidArgumentError: a bad id.
            SDKClosedError: the SDK was destroyed.

        Example:
            >>> await sdk.close_thread(chat.id)
            CloseThreadResult(success=True)
        """
        return self._reshaped(
            self.deactivate_chat(chat_id), lambda _: CloseThreadResult(success=True)
        )

    def get_predicted_agent(self, group_id: int | None = None) -> Observable[Agent]:
        """The agent the chat would most likely be routed to.

        Args:
            group_id: the group to ask about (the customer's by default).

        Returns:
            An observable of the :class:`~rxlivechat.protocol.models.Agent`; it errors
            with :class:`~rxlivechat.exceptions.GroupOfflineError` or
            :class:`~rxlivechat.exceptions.GroupUnavailableError` when nobody can take a
            chat.

        Raises:
            InvalidArgumentError: a negative or non-``int`` group id.
            SDKClosedError: the SDK was destroyed.

        Example:
            >>> agent = await sdk.get_predicted_agent()
            >>> agent.name
            'Jane Doe'
        """
        agent = self.call(m.GetPredictedAgent(group_id=group_id))
        return self._reshaped(agent, lambda result: result.agent)

    def rate_chat(
        self,
        chat_id: str,
        score: Score | Mapping[str, Any] | None = None,
        comment: str | None = None,
        *,
        value: Score | None = None,
    ) -> Observable[RateChatResult]:
        """Rate the chat's latest thread: 1/"good" or 0/"bad", with a comment.

        Sets the thread's ``rating`` properties (``score``, ``comment``); the
        v3.6 way to take it back is
        :meth:`~rxlivechat.methods.actions.CustomerActions.cancel_rate`.

        Args:
            chat_id: the chat.
            score: ``1`` or ``"good"``, ``0`` or ``"bad"``; or v1's whole
                ``rating`` object, ``{"score": 1, "comment": "..."}`` (its
                example's ``{"value": "good", ...}`` works too).
            comment: an optional comment.
            value: the score under the name v1's example uses (give
                ``score`` or ``value``, not both).

        Returns:
            An observable of :class:`~rxlivechat.results.RateChatResult` (the rated
            thread's ``id``); it errors with
            :class:`~rxlivechat.exceptions.InvalidArgumentError` when the chat has no
            thread.

        Raises:
            InvalidArgumentError: a bad id, score or comment, no score, or both
                ``score`` and ``value``.
            SDKClosedError: the SDK was destroyed.

        Example:
            >>> await sdk.rate_chat(chat.id, "good", "Quick and helpful")
            RateChatResult(id='K600PKZON8')
            >>> await sdk.rate_chat(chat.id, {"value": "good", "comment": "Thanks"})
            RateChatResult(id='K600PKZON8')
        """
        self._check_alive()
        require_str("chat_id", chat_id)
        if isinstance(score, Mapping):
            given = _options("rating", score, _RATING, comment=comment, value=value)
            score, value, comment = given["score"], given["value"], given["comment"]
        if score is not None and value is not None:
            raise InvalidArgumentError(
                "give the rating once: score or value (v1's name), not both"
            )
        if score is None:
            score = value
        if score is None:
            raise InvalidArgumentError("rate_chat needs a score: 1/'good' or 0/'bad'")
        wire_score = (
            _SCORES.get(score)
            if isinstance(score, int | str) and not isinstance(score, bool)
            else None
        )
        if wire_score is None:
            raise InvalidArgumentError(
                f"score must be 0, 1, 'good' or 'bad', not {score!r}"
            )
        if comment is not None:
            require_text("comment", comment)
        rating: dict[str, Any] = {"score": wire_score}
        if comment is not None:
            rating["comment"] = comment

        async def run() -> RateChatResult:
            chat = await self._ask(m.GetChat(chat_id=chat_id))
            if chat.thread is None:
                raise InvalidArgumentError(f"chat {chat_id!r} has no thread to rate")
            await self._ask(
                m.UpdateThreadProperties(
                    chat_id=chat_id,
                    thread_id=chat.thread.id,
                    properties={"rating": rating},
                )
            )
            return RateChatResult(id=chat.thread.id)

        return self._from_coroutine(run)

    @overload
    def send_event(
        self,
        chat_id: str,
        event: EventT,
        attach_to_last_thread: bool | Mapping[str, bool] = False,
    ) -> Observable[EventT]: ...

    @overload
    def send_event(
        self,
        chat_id: str,
        event: Mapping[str, Any],
        attach_to_last_thread: bool | Mapping[str, bool] = False,
    ) -> Observable[Event]: ...

    def send_event(
        self,
        chat_id: str,
        event: Event | Mapping[str, Any],
        attach_to_last_thread: bool | Mapping[str, bool] = False,
    ) -> Observable[Event]:
        """Send an event; emits it complete (id, author, created_at, thread).

        Args:
            chat_id: the chat (active, or with ``attach_to_last_thread``).
            event: an event Struct (``Message(text="hi")``) or the plain dict
                of its wire form (``{"type": "message", "text": "hi"}``).
            attach_to_last_thread: add the event to the chat's last thread even
                when it is closed; or v1's ``meta`` object,
                ``{"attach_to_last_thread": True}``.

        Returns:
            An observable of the sent :data:`~rxlivechat.protocol.models.Event` as the
            server stored it; it errors with
            :class:`~rxlivechat.exceptions.ChatInactiveError` when no thread is open
            (resume the chat first).

        Raises:
            InvalidArgumentError: a bad id, or an event that is not one.
            SDKClosedError: the SDK was destroyed.

        Example:
            >>> sent = await sdk.send_event(chat.id, Message(text="Hi"))
            >>> sent.id, sent.thread_id
            ('K600PKZON8_3', 'K600PKZON8')
        """
        self._check_alive()
        event = to_event(event)
        if attach_to_last_thread.__class__ is not bool:  # v1's meta object
            attach_to_last_thread = _attach(attach_to_last_thread)
        method = m.SendEvent(
            chat_id=chat_id,
            event=event,
            attach_to_last_thread=attach_to_last_thread or None,
        )
        validate(method)
        return self._call_echoed(method, _sent_event, self._read_back_event)

    def _read_back_event(
        self, sent: m.SendEvent, result: m.SendEventResult
    ) -> Observable[Event]:
        """The sent event read back from the chat, when no push brought it."""

        async def run() -> Event:
            chat = await self._ask(m.GetChat(chat_id=sent.chat_id))
            for found in (chat.thread and chat.thread.events) or ():
                if found.id == result.event_id and chat.thread:
                    return ev.with_thread(found, chat.thread.id)
            return msgspec.structs.replace(
                sent.event, id=result.event_id, author_id=self.customer_id
            )

        return self._from_coroutine(run)

    def send_file(
        self,
        chat_id: str,
        file: FileSource | Mapping[str, Any],
        custom_id: str | Mapping[str, Any] | None = None,
        on_progress: Callable[[float], None] | None = None,
        *,
        name: str | None = None,
        content_type: str | None = None,
    ) -> FileUpload:
        """Upload a file (≤ 10 MB) and send it to the chat as a ``file`` event.

        The upload starts when the result is awaited or subscribed to.

        Args:
            chat_id: the chat.
            file: a path, the bytes, or a binary file object; or v1's
                ``data`` object, ``{"file": ..., "custom_id": "f1"}``.
            custom_id: the ``file`` event's ``custom_id``; or v1's ``spec``
                object, ``{"on_progress": callback}``.
            on_progress: called with fractions 0..1 of the file uploaded.
            name: the file name (default: the path's, or ``"file"``).
            content_type: the MIME type (default: guessed from the name).

        Returns:
            A :class:`~rxlivechat.methods.upload.FileUpload`: an awaitable
            observable of the result (the CDN ``url``) with ``.progress`` (an
            observable of 0..1) and ``.cancel()``.

        Raises:
            InvalidArgumentError: a bad id, ``custom_id`` or ``on_progress``, not
                a file, or over 10 MB.
            SDKClosedError: the SDK was destroyed.

        Example:
            >>> upload = sdk.send_file(chat.id, "report.pdf")
            >>> upload.progress.subscribe(lambda f: print(f"{f:.0%}"))
            >>> (await upload).url
            'https://cdn.livechat-files.com/api/file/lc/att/.../report.pdf'
            >>> await sdk.send_file(
            ...     chat.id, {"file": "report.pdf", "custom_id": "f1"},
            ...     {"on_progress": print},
            ... )
        """
        self._check_alive()
        require_str("chat_id", chat_id)
        tag: Any = custom_id
        if isinstance(custom_id, Mapping):  # v1's spec
            spec = _options("spec", custom_id, _UPLOAD_SPEC, on_progress=on_progress)
            tag, on_progress = None, spec["on_progress"]
        if isinstance(file, Mapping):  # v1's data
            data = _options("data", file, _UPLOAD_DATA, custom_id=tag)
            file, tag = data["file"], data["custom_id"]
            if file is None:
                raise InvalidArgumentError("data needs the 'file' to send")
        if tag is not None:
            require_str("custom_id", tag)
        if on_progress is not None and not callable(on_progress):
            raise InvalidArgumentError(
                f"on_progress must be callable, not {type(on_progress).__name__}"
            )
        from .upload import prepare_file

        prepared = prepare_file(file, name=name, content_type=content_type)

        async def send(url: str) -> None:
            await self._ask(m.SendEvent(chat_id=chat_id, event=_file_event(url, tag)))

        return FileUpload(
            self._calls.engine.upload,
            prepared,
            send,
            on_progress=on_progress,
        )

    def send_postback(
        self,
        chat_id: str,
        thread_id: str,
        event_id: str,
        postback_id: str | Mapping[str, Any],
        toggled: bool = True,
    ) -> Observable[EmptyResult]:
        """Send a rich message button's postback.

        The v3.6 form with every field is
        :meth:`~rxlivechat.methods.declared.DeclaredActions.send_rich_message_postback`.

        Args:
            chat_id: the chat.
            thread_id: the rich message's thread.
            event_id: the rich message.
            postback_id: the button's ``postback_id``; or v1's whole
                ``postback`` object, ``{"id": ..., "toggled": True}``.
            toggled: whether the button is now on.

        Returns:
            An observable of the empty reply.

        Raises:
            InvalidArgumentError: a bad id or ``toggled``.
            SDKClosedError: the SDK was destroyed.

        Example:
            >>> await sdk.send_postback(chat.id, thread_id, event.id, "yes")
            EmptyResult()
            >>> await sdk.send_postback(
            ...     chat.id, thread_id, event.id, {"id": "yes", "toggled": True}
            ... )
            EmptyResult()
        """
        button: Any = postback_id
        names = ("postback_id", "toggled")
        if isinstance(postback_id, Mapping):
            given = _options("postback", postback_id, _POSTBACK, toggled=toggled)
            button, toggled = given["id"], given["toggled"]
            names = ("postback.id", "postback.toggled")
        postback = check_postback(Postback(id=button, toggled=toggled), *names)
        return self.send_rich_message_postback(chat_id, thread_id, event_id, postback)

    def set_sneak_peek(self, chat_id: str, text: str) -> None:
        """Show the agents what the customer is typing.

        Sent only while the chat is active, at most once per 2 s per chat
        (``sneak_peek_interval``); the latest text is always delivered (leading
        and trailing edge). Fire and forget: it returns nothing, and a failure
        is only logged. The direct, unthrottled action is
        :meth:`~rxlivechat.methods.declared.DeclaredActions.send_sneak_peek`.

        Args:
            chat_id: the chat.
            text: what the customer has typed so far.

        Raises:
            InvalidArgumentError: a bad id or text.
            SDKClosedError: the SDK was destroyed.

        Example:
            >>> for text in ("H", "He", "Hel", "Hello"):
            ...     sdk.set_sneak_peek(chat.id, text)  # "H" now, "Hello" 2 s later
        """
        self._check_alive()
        validate(m.SendSneakPeek(chat_id=chat_id, sneak_peek_text=text))
        throttle = self._sneak_peeks.get(chat_id)
        if throttle is None:

            def send(text: str) -> None:
                if not self._active_chats.get(chat_id, False):
                    return  # only while the chat is active
                self.send_sneak_peek(chat_id, text).subscribe(
                    on_error=lambda exc: log.info("sneak peek failed: %s", exc)
                )

            throttle = Throttle(send, self._sneak_peek_interval)
            self._sneak_peeks[chat_id] = throttle
        throttle.offer(text)

    def start_chat(
        self,
        events: Iterable[Event | Mapping[str, Any]] | Mapping[str, Any] = (),
        access: Access | Mapping[str, Any] | None = None,
        properties: Properties | None = None,
        *,
        continuous: bool | None = None,
        active: bool | None = None,
    ) -> Observable[Chat]:
        """Start a chat, optionally with initial events; emits the chat.

        Args:
            events: the first thread's events: Structs or the plain dicts of
                their wire form (``[{"type": "message", "text": "Hi"}]``); or
                v1's whole ``specification`` object, ``{"events": [...],
                "scope": {"group_ids": [0]}}`` (``scope`` is v1's name for
                ``access``; ``properties``, ``continuous`` and ``active`` may be
                keys too).
            access: which groups may see the chat (``Access(group_ids=[0])`` or
                ``{"group_ids": [0]}``).
            properties: chat properties, ``{"namespace": {"name": value}}``.
            continuous: start a continuous chat (no thread closes on inactivity).
            active: ``False`` starts it without an open thread.

        Returns:
            An observable of the new :class:`~rxlivechat.protocol.models.Chat`, its
            ``thread`` holding the events; it errors with
            :class:`~rxlivechat.exceptions.GroupsOfflineError` when no group can take
            it, or :class:`~rxlivechat.exceptions.LimitReachedError` when the customer
            has too many chats (then open a new thread in one of them with
            :meth:`~rxlivechat.methods.actions.CustomerActions.resume_chat`).

        Raises:
            InvalidArgumentError: a bad event, access or properties.
            SDKClosedError: the SDK was destroyed.

        Example:
            >>> chat = await sdk.start_chat([Message(text="Hello")])
            >>> chat.id, chat.thread.events[0].text
            ('PJ0MRSHTDG', 'Hello')
            >>> chat = await sdk.start_chat({"events": []})
        """
        self._check_alive()
        if isinstance(events, Mapping):  # v1's specification
            if "type" in events:
                raise InvalidArgumentError(
                    "events must be a list of events, not one event: "
                    "start_chat([event]) or start_chat({'events': [event]})"
                )
            given = _options(
                "specification",
                events,
                _CHAT_SPEC,
                access=access,
                properties=properties,
                continuous=continuous,
                active=active,
            )
            if given["scope"] is not None and given["access"] is not None:
                raise InvalidArgumentError(
                    "specification: give scope or access (its v3.6 name), not both"
                )
            events, properties = given["events"], given["properties"]
            access = given["scope"] if given["access"] is None else given["access"]
            continuous, active = given["continuous"], given["active"]
        initial = require_events(events)
        spec = m.StartChatSpec(
            access=convert(access, Access, "access"),
            properties=plain(properties),
            thread=m.ThreadSpec(events=initial) if initial else None,
        )
        method = m.StartChat(chat=spec, continuous=continuous, active=active)
        return self._echo_chat(method, None, True)

    def update_chat_thread_properties(
        self, chat_id: str, thread_id: str, properties: Properties
    ) -> Observable[EmptyResult]:
        """Set thread properties (members get ``chat_thread_properties_updated``).

        The v3.6 name is
        :meth:`~rxlivechat.methods.declared.DeclaredActions.update_thread_properties`.

        Args:
            chat_id: the chat.
            thread_id: the thread.
            properties: ``{"namespace": {"name": value}}``.

        Returns:
            An observable of the empty reply.

        Raises:
            InvalidArgumentError: a bad id or properties.
            SDKClosedError: the SDK was destroyed.

        Example:
            >>> await sdk.update_chat_thread_properties(
            ...     chat.id, thread_id, {"routing": {"transcript_email": "a@b.c"}}
            ... )
            EmptyResult()
        """
        return self.update_thread_properties(chat_id, thread_id, properties)

    def update_customer(
        self,
        customer: CustomerUpdate | Mapping[str, Any] | None = None,
        /,
        *,
        name: str | None = None,
        email: str | None = None,
        fields: Mapping[str, str] | None = None,
        avatar: str | None = None,
    ) -> Observable[EmptyResult]:
        """Update the customer's name, e-mail, avatar and session fields.

        Pass them as keywords, or as one dict like the JS SDK's object, not both.

        Args:
            customer: all of them as one :class:`CustomerUpdate` or dict
                (``{"name": "Jane", "fields": {"plan": "pro"}}``).
            name: the customer's name.
            email: the customer's e-mail address.
            fields: v1's session fields map; it is sent as v3.6's ordered
                ``session_fields`` (at most 100).
            avatar: the avatar's URL.

        Returns:
            An observable of the empty reply.

        Raises:
            InvalidArgumentError: nothing to update, both forms, an unknown key,
                or bad fields.
            SDKClosedError: the SDK was destroyed.

        Example:
            >>> await sdk.update_customer(name="Jane", fields={"plan": "pro"})
            EmptyResult()
        """
        self._check_alive()
        if customer is not None:
            if (name, email, fields, avatar) != (None, None, None, None):
                raise InvalidArgumentError(
                    "pass the customer as a dict or as keywords, not both"
                )
            given = to_model(customer, CustomerUpdate, "customer")
            name, email, fields, avatar = (
                given.name,
                given.email,
                given.fields,
                given.avatar,
            )
        if name is None and email is None and fields is None and avatar is None:
            raise InvalidArgumentError("update_customer needs at least one field")
        session_fields = None
        if fields is not None:
            if not isinstance(fields, Mapping):
                raise InvalidArgumentError("fields must be a mapping of str to str")
            for key, text in fields.items():  # v1's map: named as the user wrote it
                require_str("fields key", key)
                require_text(f"fields[{key!r}]", text)
            session_fields = session_fields_of(
                [{key: text} for key, text in fields.items()]
            )
        return self.call(
            m.UpdateCustomer(
                name=name, email=email, avatar=avatar, session_fields=session_fields
            )
        )

    def update_customer_page(
        self,
        url: str | m.CustomerPage | Mapping[str, Any],
        title: str | None = None,
    ) -> Observable[m.UpdateCustomerPageResult]:
        """Tell LiveChat which page the customer is on.

        Args:
            url: the page's URL; or the whole page, as the JS SDK's object
                (``{"url": "https://...", "title": "Pricing"}``) or a
                :class:`~rxlivechat.protocol.methods.CustomerPage`.
            title: the page's title (only with a ``str`` url).

        Returns:
            An observable of the reply
            (:class:`~rxlivechat.protocol.methods.UpdateCustomerPageResult`).

        Raises:
            InvalidArgumentError: a bad URL or title, or a title given twice.
            SDKClosedError: the SDK was destroyed.

        Example:
            >>> await sdk.update_customer_page(
            ...     "https://shop.example.com/pricing", "Pricing"
            ... )
        """
        self._check_alive()
        if not isinstance(url, str):
            if title is not None:
                raise InvalidArgumentError("pass the title inside the page, not both")
            page = to_model(url, m.CustomerPage, "page")
            url, title = page.url, page.title
        return self.call(m.UpdateCustomerPage(url=url, title=title))

    def update_last_seen_timestamp(
        self,
        chat_id: str,
        timestamp: datetime.datetime | float | None = None,
    ) -> Observable[LastSeenTimestamp]:
        """Mark the chat's events as seen up to ``timestamp`` (default: now).

        The v3.6 form is
        :meth:`~rxlivechat.methods.declared.DeclaredActions.mark_events_as_seen`.

        Args:
            chat_id: the chat.
            timestamp: an aware ``datetime``, or epoch milliseconds (v1);
                ``None`` is now.

        Returns:
            An observable of :class:`~rxlivechat.results.LastSeenTimestamp`,
            the time sent.

        Raises:
            InvalidArgumentError: a bad id, or a naive or bad timestamp.
            SDKClosedError: the SDK was destroyed.

        Example:
            >>> seen = await sdk.update_last_seen_timestamp(chat.id)
            >>> seen.timestamp
            datetime.datetime(2026, 12, 2, 12, 0, tzinfo=datetime.timezone.utc)
        """
        seen = to_datetime(timestamp)
        return self._reshaped(
            self.mark_events_as_seen(chat_id, seen),
            lambda _: LastSeenTimestamp(timestamp=seen),
        )


def _file_event(url: str, custom_id: str | None) -> Event:
    return File(url=url, custom_id=custom_id)


def _sent_event(push: Push[Any]) -> Event | None:
    """Our copy of a sent event, from the ``incoming_event`` push it caused."""
    payload = push.payload
    if isinstance(payload, p.IncomingEvent):
        return ev.with_thread(payload.event, payload.thread_id)
    return None
