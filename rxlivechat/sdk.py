"""The customer SDK: one hot stream in, methods as operators out.

.. code-block:: text

    socket ─► Session.receive ─┬─► Requests.on_frame (by request id) ─► methods
         (Connection's reader) ├─► sdk.frames (hot: every frame, typed)
                               └─► events_of_push ─► the SDK's event stream

Rules:

1. One task owns the connection (:class:`~rxlivechat._connection.Connection`): it
   connects, logs in, reads, pings, and reconnects. Nothing else reads the socket.
2. The frame and event streams live as long as the SDK: a dropped socket is an
   event (``connection_lost``), never ``on_error``/``on_completed``. Only
   :meth:`CustomerSDK.destroy` completes them.
3. Every method validates its input and raises :class:`InvalidArgumentError`
   before anything is sent, then returns a cold observable: subscribing sends the
   request, disposing abandons it. Every observable is awaitable.
4. All timers run on the SDK's asyncio loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import ssl as ssl_
from collections.abc import Awaitable, Callable, Generator, Iterable, Mapping
from types import TracebackType
from typing import Any, Literal, TypeVar

import aiohttp
import msgspec
from reactivex import Observable, abc
from reactivex.disposable import Disposable, SerialDisposable
from reactivex.internal.exceptions import SequenceContainsNoElementsError

from . import events as ev
from ._connection import Connection
from ._requests import Pending, Requests
from ._throttle import Throttle
from ._validate import (
    convert,
    require_event,
    require_range,
    require_str,
    require_type,
    to_datetime,
    validate,
)
from ._web import WebClient
from .actions import CustomerActions
from .auth import Token, TokenProvider
from .exceptions import (
    ConnectError,
    InvalidArgumentError,
    SDKClosedError,
)
from .history import EVENTS_PER_PAGE, ChatHistory
from .protocol import methods as m, pushes as p
from .protocol.base import EmptyResult, Method
from .protocol.connection import Session
from .protocol.frames import Frame, Push
from .protocol.models import (
    Access,
    Agent,
    Chat,
    Event,
    File,
    Postback,
    Properties,
    Thread,
)
from .results import (
    ChatsSummary,
    ChatThread,
    CloseThreadResult,
    LastSeenTimestamp,
    RateChatResult,
    ThreadsSummary,
    ThreadSummaryItem,
    chats_summary_item,
    thread_order,
)
from .stream import HotStream
from .upload import FileSource, FileUpload

__all__ = ["CustomerSDK", "init"]

log = logging.getLogger("rxlivechat")

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_API_URL = "https://api.livechatinc.com"
DEFAULT_ACCOUNTS_URL = "https://accounts.livechat.com"


class CustomerSDK(CustomerActions, Observable[tuple[str, Any]]):
    """A LiveChat customer: connection, methods and the event stream.

    The object is itself an ``Observable`` of ``(event_name, payload)`` tuples,
    hot and shared, alive until :meth:`destroy`:

    .. code-block:: text

        sdk  --("connected", Connected)--("new_event", NewEvent)--("user_is_typing", ..)

    Example:
        >>> sdk = rxlivechat.init(organization_id=..., client_id=...)  # doctest: +SKIP
        >>> sdk.pipe(ops.filter(lambda e: e[0] == "new_event")).subscribe(print)
        >>> chat = await sdk.start_chat([Message(text="Hello")])

    Use :func:`init` to make one.

    Args:
        organization_id: the LiveChat organization.
        client_id: your application's client id (for customer tokens).
        api_url: the Customer Chat API's base URL (``http(s)``; the socket uses
            ``ws(s)``); a sandbox's ``api_url`` in tests.
        accounts_url: the Accounts API's base URL (customer tokens).
        group_id: the group to chat with (sent at login).
        page: the page the customer is on, ``{"url", "title"}`` (sent at login).
        referrer: the page's referrer (sent at login).
        customer: customer data sent at login: ``name``, ``email``,
            ``session_fields``...
        token_provider: an async callable returning a :class:`Token`; replaces
            the built-in customer token fetch (bring tokens from your backend).
        request_timeout: seconds a request may wait, for a connection and a reply.
        connect_timeout: seconds to open the WebSocket.
        sneak_peek_interval: the sneak-peek throttle's interval in seconds.
        reconnect_delay: ``(base, cap)`` in seconds of the reconnect backoff.
        application: the ``application`` reported at login.
        ssl: the TLS context for ``https``/``wss``; ``None`` verifies against
            the system's certificate authorities (never turned off by default).
    """

    def __init__(
        self,
        *,
        organization_id: str,
        client_id: str,
        api_url: str = DEFAULT_API_URL,
        accounts_url: str = DEFAULT_ACCOUNTS_URL,
        group_id: int | None = None,
        page: m.CustomerPage | Mapping[str, str] | None = None,
        referrer: str | None = None,
        customer: m.LoginCustomer | Mapping[str, Any] | None = None,
        token_provider: TokenProvider | None = None,
        request_timeout: float = 15.0,
        connect_timeout: float = 10.0,
        sneak_peek_interval: float = 2.0,
        reconnect_delay: tuple[float, float] = (0.5, 30.0),
        application: m.Application | None = None,
        ssl: ssl_.SSLContext | None = None,
    ) -> None:
        super().__init__()
        require_str("organization_id", organization_id)
        require_str("client_id", client_id)
        if request_timeout <= 0:
            raise InvalidArgumentError("request_timeout must be positive")
        self.organization_id = organization_id
        self.client_id = client_id
        self.api_url = api_url
        self.accounts_url = accounts_url
        self._sneak_peek_interval = sneak_peek_interval

        self._session = Session()
        self._requests = Requests(self._session, timeout=request_timeout)
        self._frames: HotStream[Frame] = HotStream(self._report_subscriber_error)
        self._events: HotStream[tuple[str, Any]] = HotStream(
            self._report_subscriber_error
        )
        self._connection = Connection(
            api_url=api_url,
            accounts_url=accounts_url,
            organization_id=organization_id,
            client_id=client_id,
            login=m.Login(
                token="",
                customer=convert(customer, m.LoginCustomer, "customer"),
                customer_page=convert(page, m.CustomerPage, "page"),
                group_id=group_id,
                referrer=referrer,
                application=application or m.Application(name="rxlivechat"),
            ),
            token_provider=token_provider,
            requests=self._requests,
            session=self._session,
            frames=self._frames,
            emit=self._emit,
            connect_timeout=connect_timeout,
            reconnect_delay=reconnect_delay,
            ssl=ssl,
        )
        self._web = WebClient(
            self._connection.http,
            self._connection.token,
            api_url=api_url,
            organization_id=organization_id,
        )
        self._listeners: dict[tuple[str, Callable[..., Any]], list[abc.DisposableBase]]
        self._listeners = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._destroyed = False
        self._sneak_peeks: dict[str, Throttle[str]] = {}
        self.frames: Observable[Frame] = self._frames
        """Every frame the server sends, typed: the one hot stream."""

    # Observable -------------------------------------------------------------------

    def _subscribe_core(
        self,
        observer: abc.ObserverBase[tuple[str, Any]],
        scheduler: abc.SchedulerBase | None = None,
    ) -> abc.DisposableBase:
        return self._events.subscribe(observer, scheduler=scheduler)

    # Connection -------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether the customer is logged in on an open socket right now."""
        return self._connection.connected.is_set()

    @property
    def customer_id(self) -> str | None:
        """The customer's id, once logged in."""
        return self._connection.customer_id

    @property
    def _active_chats(self) -> dict[str, bool]:
        return self._connection.active_chats

    def connect(self) -> None:
        """Start connecting (and reconnecting) in the background.

        ``init()`` calls this unless ``auto_connect=False``. Calling it while the
        SDK is already connecting does nothing.
        """
        self._check_alive()
        if not self._connection.running:
            self._requests.resume()
            self._connection.start()

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until the customer is logged in (returns at once if it is).

        Raises:
            TimeoutError: not connected within ``timeout`` seconds.
            SDKClosedError: the SDK stopped for good before connecting.
        """
        self._check_alive()
        waiter = asyncio.ensure_future(self._connection.connected.wait())
        watch: set[asyncio.Future[Any]] = {waiter}
        task = self._connection.task
        if task is not None:
            watch.add(task)
        try:
            done, _ = await asyncio.wait(
                watch, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            waiter.cancel()
        # Logged in at that moment: success, even if the socket dropped since.
        if waiter in done:
            return
        if task is not None and task in done:
            raise SDKClosedError("the SDK stopped before it could connect")
        raise TimeoutError(f"not connected within {timeout} s")

    async def disconnect(self) -> None:
        """Close the connection; no reconnect. Every pending request fails.

        ``connect()`` starts again.
        """
        await self._connection.stop()
        self._requests.halt(
            SDKClosedError("disconnected by disconnect(); call connect() to resume")
        )
        self._cancel_timers()

    async def destroy(self) -> None:
        """Disconnect, complete the event streams and remove every listener.

        Any later call raises :class:`SDKClosedError`.
        """
        if self._destroyed:
            return
        await self.disconnect()
        self._destroyed = True
        self._session.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        self._requests.halt(SDKClosedError("the SDK was destroyed"))
        for subscriptions in self._listeners.values():
            for subscription in subscriptions:
                subscription.dispose()
        self._listeners.clear()
        self._events.on_completed()
        self._frames.on_completed()
        await self._connection.close()

    async def __aenter__(self) -> CustomerSDK:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.destroy()

    # Listeners (the seed's on / once / off) ------------------------------------------

    def on(self, name: str, fn: Callable[[Any], Any]) -> abc.DisposableBase:
        """Call ``fn(payload)`` on every ``name`` event; returns the subscription."""
        self._check_alive()
        subscription = self._events.subscribe(
            lambda item: fn(item[1]) if item[0] == name else None
        )
        self._listeners.setdefault((name, fn), []).append(subscription)
        return subscription

    def once(self, name: str, fn: Callable[[Any], Any]) -> abc.DisposableBase:
        """Call ``fn(payload)`` on the next ``name`` event only."""
        self._check_alive()
        holder = SerialDisposable()

        def deliver(item: tuple[str, Any]) -> None:
            if item[0] == name and not holder.is_disposed:
                holder.dispose()
                self._forget_listener(name, fn, holder)
                fn(item[1])

        holder.disposable = self._events.subscribe(deliver)
        self._listeners.setdefault((name, fn), []).append(holder)
        return holder

    def off(self, name: str, fn: Callable[[Any], Any]) -> None:
        """Remove the listeners ``fn`` added for ``name`` by :meth:`on`/:meth:`once`."""
        for subscription in self._listeners.pop((name, fn), []):
            subscription.dispose()

    # The generic method -----------------------------------------------------------

    def call(self, method: Method[R]) -> Observable[R]:
        """Send any v3.6 RTM action; a cold, awaitable observable of its result.

        .. code-block:: text

            call(ListThreads(...))   subscribe ─► request ──reply──► --result|

        Args:
            method: the action's payload, e.g. ``ListThreads(chat_id="PJ0MRSHTDG")``.

        Returns:
            An observable that sends the request on each subscription and emits the
            typed result, or errors with the :class:`ServerError` subclass of the
            server's error type.
        """
        self._check_alive()
        validate(method)
        return self._call(method, lambda result, _: result)

    def web_call(self, method: Method[R]) -> Observable[R]:
        """Send any v3.6 action over the Web API (HTTP) with the customer's token.

        For actions the API serves only over HTTP (``get_configuration``,
        ``check_goals``...); a cold, awaitable observable of the typed result.
        """
        self._check_alive()
        validate(method)
        if method.web is None:
            raise InvalidArgumentError(f"{method.action!r} has no Web API form")
        return self._from_coroutine(lambda: self._web.call(method))

    # Seed methods -----------------------------------------------------------------

    def close_thread(self, chat_id: str) -> Observable[CloseThreadResult]:
        """Close the chat's active thread (``deactivate_chat``)."""
        self._check_alive()
        require_str("chat_id", chat_id)
        return self._call(
            m.DeactivateChat(id=chat_id), lambda _, __: CloseThreadResult(success=True)
        )

    def get_chats_summary(
        self, offset: int = 0, limit: int = 10
    ) -> Observable[ChatsSummary]:
        """A page of the customer's chats, newest first (v1 offset paging).

        v3.6 pages by cursor only; pages are walked as far as ``offset`` needs.
        """
        self._check_alive()
        require_range("offset", offset, 0, None)
        require_range("limit", limit, 1, 25)

        async def run() -> ChatsSummary:
            # v3.6 has no offset: walk the cursor, newest first, only until the
            # window [offset, offset + limit) is in hand. The first request fixes
            # the page size for the whole walk (later ones send only page_id),
            # so ask for the whole window at once when it fits in one page.
            wanted = offset + limit
            request = m.ListChats(limit=min(wanted, 25))  # 25: list_chats' maximum
            chats: list[Any] = []
            total = 0
            while True:
                page = await self._ask(request)
                total = page.total_chats
                chats.extend(page.chats_summary)
                if len(chats) >= wanted or page.next_page_id is None:
                    break
                request = m.ListChats(page_id=page.next_page_id)
            for summary in chats[offset : offset + limit]:
                self._active_chats[summary.id] = summary.active
            return ChatsSummary(
                chats_summary=[
                    chats_summary_item(c) for c in chats[offset : offset + limit]
                ],
                total_chats=total,
            )

        return self._from_coroutine(run)

    def get_chat_threads(
        self, chat_id: str, thread_ids: Iterable[str]
    ) -> Observable[list[ChatThread]]:
        """The given threads of a chat, with their events (one ``get_chat`` each)."""
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
        self, chat_id: str, offset: int = 0, limit: int = 25
    ) -> Observable[ThreadsSummary]:
        """A page of a chat's threads, oldest first: id, order, total events."""
        self._check_alive()
        require_str("chat_id", chat_id)
        require_range("offset", offset, 0, None)
        require_range("limit", limit, 1, 1000)

        async def run() -> ThreadsSummary:
            # No v3.6 equivalent: walk list_threads oldest first, only until the
            # window [offset, offset + limit) is in hand. Pages carry every event
            # of their threads, so ask for no more threads than the window needs
            # (at most 100, the maximum); the first request fixes the page size.
            wanted = offset + limit
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
                    or offset >= total  # the window starts past the last thread
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
                    for t in threads[offset : offset + limit]
                ],
                total_threads=total,
            )

        return self._from_coroutine(run)

    def get_predicted_agent(self, group_id: int | None = None) -> Observable[Agent]:
        """The agent the chat would most likely be routed to."""
        self._check_alive()
        if group_id is not None:
            require_range("group_id", group_id, 0, None)
        return self._call(
            m.GetPredictedAgent(group_id=group_id), lambda result, _: result.agent
        )

    def rate_chat(
        self,
        chat_id: str,
        score: Literal[0, 1, "good", "bad"],
        comment: str | None = None,
    ) -> Observable[RateChatResult]:
        """Rate the chat's latest thread: 1/"good" or 0/"bad", with a comment."""
        self._check_alive()
        require_str("chat_id", chat_id)
        value = _SCORES.get(score)
        if value is None or isinstance(score, bool):
            raise InvalidArgumentError(
                f"score must be 0, 1, 'good' or 'bad', not {score!r}"
            )
        if comment is not None:
            require_type("comment", comment, str)
        rating: dict[str, Any] = {"score": value}
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

    def send_event(
        self, chat_id: str, event: Event, attach_to_last_thread: bool = False
    ) -> Observable[Event]:
        """Send an event; emits it complete (id, author, created_at, thread)."""
        self._check_alive()
        require_str("chat_id", chat_id)
        require_event(event)
        method = m.SendEvent(
            chat_id=chat_id,
            event=event,
            attach_to_last_thread=attach_to_last_thread or None,
        )
        validate(method)

        def echoed(push: Push[Any]) -> Event | None:
            payload = push.payload
            if isinstance(payload, p.IncomingEvent):
                return ev.with_thread(payload.event, payload.thread_id)
            return None

        def read_back(result: m.SendEventResult) -> Observable[Event]:
            async def run() -> Event:
                chat = await self._ask(m.GetChat(chat_id=chat_id))
                for found in (chat.thread and chat.thread.events) or ():
                    if found.id == result.event_id and chat.thread:
                        return ev.with_thread(found, chat.thread.id)
                return msgspec.structs.replace(
                    event, id=result.event_id, author_id=self.customer_id
                )

            return self._from_coroutine(run)

        return self._call_echoed(method, echoed, read_back)

    def send_file(
        self,
        chat_id: str,
        file: FileSource,
        custom_id: str | None = None,
        on_progress: Callable[[float], None] | None = None,
        *,
        name: str | None = None,
        content_type: str | None = None,
    ) -> FileUpload:
        """Upload a file (≤ 10 MB) and send it to the chat as a ``file`` event.

        Returns:
            A :class:`FileUpload`: an awaitable observable of the result with
            ``.progress`` (an observable of 0..1) and ``.cancel()``.
        """
        self._check_alive()
        require_str("chat_id", chat_id)
        from .upload import prepare_file

        prepared = prepare_file(file, name=name, content_type=content_type)

        async def send(url: str) -> None:
            await self._ask(
                m.SendEvent(chat_id=chat_id, event=_file_event(url, custom_id))
            )

        return FileUpload(
            self._upload_context,
            prepared,
            send,
            on_progress=on_progress,
        )

    def send_postback(
        self,
        chat_id: str,
        thread_id: str,
        event_id: str,
        postback_id: str,
        toggled: bool = True,
    ) -> Observable[EmptyResult]:
        """Send a rich message button's postback."""
        self._check_alive()
        for key, value in (
            ("chat_id", chat_id),
            ("thread_id", thread_id),
            ("event_id", event_id),
            ("postback_id", postback_id),
        ):
            require_str(key, value)
        require_type("toggled", toggled, bool)
        return self._call(
            m.SendRichMessagePostback(
                chat_id=chat_id,
                thread_id=thread_id,
                event_id=event_id,
                postback=Postback(id=postback_id, toggled=toggled),
            ),
            lambda result, _: result,
        )

    def set_sneak_peek(self, chat_id: str, text: str) -> None:
        """Show the agents what the customer is typing.

        Sent only while the chat is active, at most once per 2 s per chat; the
        latest text is always delivered (leading and trailing edge).
        """
        self._check_alive()
        require_str("chat_id", chat_id)
        require_type("text", text, str)
        throttle = self._sneak_peeks.get(chat_id)
        if throttle is None:

            def send(text: str) -> None:
                if not self._active_chats.get(chat_id, False):
                    return  # only while the chat is active
                self._call(
                    m.SendSneakPeek(chat_id=chat_id, sneak_peek_text=text),
                    lambda _, __: None,
                ).subscribe(on_error=lambda exc: log.info("sneak peek failed: %s", exc))

            throttle = Throttle(send, self._sneak_peek_interval)
            self._sneak_peeks[chat_id] = throttle
        throttle.offer(text)

    def start_chat(
        self,
        events: Iterable[Event] = (),
        access: Access | None = None,
        properties: Properties | None = None,
        *,
        continuous: bool | None = None,
        active: bool | None = None,
    ) -> Observable[Chat]:
        """Start a chat, optionally with initial events; emits the chat."""
        self._check_alive()
        initial = list(events)
        for event in initial:
            require_event(event)
        spec = m.StartChatSpec(
            access=access,
            properties=properties,
            thread=m.ThreadSpec(events=initial) if initial else None,
        )
        method = m.StartChat(chat=spec, continuous=continuous, active=active)
        validate(method)

        def echoed(push: Push[Any]) -> Chat | None:
            payload = push.payload
            return payload.chat if isinstance(payload, p.IncomingChat) else None

        def read_back(result: m.StartChatResult) -> Observable[Chat]:
            self._active_chats[result.chat_id] = True
            return self._call(m.GetChat(chat_id=result.chat_id), lambda c, _: c)

        return self._call_echoed(method, echoed, read_back)

    def update_chat_properties(
        self, chat_id: str, properties: Properties
    ) -> Observable[EmptyResult]:
        """Set chat properties: ``{"namespace": {"name": value}}``."""
        self._check_alive()
        require_str("chat_id", chat_id)
        return self.call(m.UpdateChatProperties(id=chat_id, properties=properties))

    def update_chat_thread_properties(
        self, chat_id: str, thread_id: str, properties: Properties
    ) -> Observable[EmptyResult]:
        """Set thread properties: ``{"namespace": {"name": value}}``."""
        self._check_alive()
        require_str("chat_id", chat_id)
        require_str("thread_id", thread_id)
        return self.call(
            m.UpdateThreadProperties(
                chat_id=chat_id, thread_id=thread_id, properties=properties
            )
        )

    def update_customer(
        self,
        *,
        name: str | None = None,
        email: str | None = None,
        fields: Mapping[str, str] | None = None,
        avatar: str | None = None,
    ) -> Observable[EmptyResult]:
        """Update the customer's name, e-mail, avatar and session fields.

        ``fields`` is v1's map; it is sent as v3.6's ordered ``session_fields``.
        """
        self._check_alive()
        if name is None and email is None and fields is None and avatar is None:
            raise InvalidArgumentError("update_customer needs at least one field")
        session_fields = None
        if fields is not None:
            if not isinstance(fields, Mapping):
                raise InvalidArgumentError("fields must be a mapping of str to str")
            if len(fields) > 100:
                raise InvalidArgumentError("at most 100 session fields")
            session_fields = [{str(k): v} for k, v in fields.items()]
        return self.call(
            m.UpdateCustomer(
                name=name, email=email, avatar=avatar, session_fields=session_fields
            )
        )

    def update_customer_page(
        self, url: str, title: str | None = None
    ) -> Observable[m.UpdateCustomerPageResult]:
        """Tell LiveChat which page the customer is on."""
        self._check_alive()
        require_str("url", url)
        return self.call(m.UpdateCustomerPage(url=url, title=title))

    def update_last_seen_timestamp(
        self,
        chat_id: str,
        timestamp: datetime.datetime | float | None = None,
    ) -> Observable[LastSeenTimestamp]:
        """Mark the chat's events as seen up to ``timestamp`` (default: now).

        ``timestamp`` may be an aware ``datetime`` or epoch milliseconds (v1).
        """
        self._check_alive()
        require_str("chat_id", chat_id)
        seen = to_datetime(timestamp)
        return self._call(
            m.MarkEventsAsSeen(chat_id=chat_id, seen_up_to=seen),
            lambda _, __: LastSeenTimestamp(timestamp=seen),
        )

    def get_chat_history(
        self, chat_id: str, *, events_per_page: int = EVENTS_PER_PAGE
    ) -> ChatHistory:
        """The chat's history, newest first: see :class:`ChatHistory`.

        Args:
            chat_id: the chat.
            events_per_page: how many events (at least) each page asks for, 1-100.
        """
        self._check_alive()
        require_str("chat_id", chat_id)
        return ChatHistory(self, chat_id, events_per_page=events_per_page)

    # Internals: requests ----------------------------------------------------------

    def _call(
        self, method: Method[Any], shape: Callable[[Any, Pending], T]
    ) -> Observable[T]:
        """A cold observable of one request, its result passed through ``shape``."""

        def subscribe(
            observer: abc.ObserverBase[T], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            if self._destroyed:
                observer.on_error(SDKClosedError("the SDK was destroyed"))
                return Disposable()

            def on_result(result: Any, pending: Pending) -> None:
                try:
                    value = shape(result, pending)
                except Exception as exc:
                    observer.on_error(exc)
                    return
                observer.on_next(value)
                observer.on_completed()

            pending = self._requests.submit(method, on_result, observer.on_error)
            return Disposable(lambda: self._requests.abandon(pending))

        return _Call(subscribe)

    def _call_echoed(
        self,
        method: Method[R],
        match: Callable[[Push[Any]], T | None],
        read_back: Callable[[R], Observable[T]],
    ) -> Observable[T]:
        """A request whose value is the push it causes (our copy carries its id).

        .. code-block:: text

            send_event ─► reply {event_id} ─┬─ incoming_event (ours) ─► --event|
                                            └─ none within ECHO_WAIT  ─► read_back

        The push may come before or after the reply; ``match`` turns it into the
        value. Without it, ``read_back(result)`` supplies the value.
        """

        def subscribe(
            observer: abc.ObserverBase[T], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            if self._destroyed:
                observer.on_error(SDKClosedError("the SDK was destroyed"))
                return Disposable()
            serial = SerialDisposable()

            def deliver(value: T) -> None:
                observer.on_next(value)
                observer.on_completed()

            def on_result(result: R, pending: Pending) -> None:
                for push in pending.pushes:
                    value = match(push)
                    if value is not None:
                        deliver(value)
                        return

                def give_up() -> None:
                    serial.disposable = read_back(result).subscribe(
                        observer, scheduler=scheduler
                    )

                assert pending.request_id is not None
                cancel = self._requests.await_echo(
                    pending.request_id, match, deliver, give_up
                )
                serial.disposable = Disposable(cancel)

            pending = self._requests.submit(method, on_result, observer.on_error)
            serial.disposable = Disposable(lambda: self._requests.abandon(pending))
            return serial

        return _Call(subscribe)

    async def _ask(self, method: Method[R]) -> R:
        """Send ``method`` and wait for its result (for multi-step methods)."""
        return await self._requests.ask(method)

    def _from_coroutine(self, factory: Callable[[], Awaitable[T]]) -> Observable[T]:
        """A cold observable that runs ``factory()`` per subscription."""

        def subscribe(
            observer: abc.ObserverBase[T], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            if self._destroyed:
                observer.on_error(SDKClosedError("the SDK was destroyed"))
                return Disposable()
            task = self._spawn(factory())
            disposed = False

            def settle(task: asyncio.Task[T]) -> None:
                if disposed:
                    return
                if task.cancelled():  # by destroy(), not by the subscriber
                    observer.on_error(SDKClosedError("the SDK was destroyed"))
                    return
                exc = task.exception()
                if exc is not None:
                    observer.on_error(_as_exception(exc))
                else:
                    observer.on_next(task.result())
                    observer.on_completed()

            task.add_done_callback(settle)

            def cancel() -> None:
                nonlocal disposed
                disposed = True
                task.cancel()

            return Disposable(cancel)

        return _Call(subscribe)

    def _spawn(self, coro: Awaitable[T]) -> asyncio.Task[T]:
        task: asyncio.Task[T] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # Internals: plumbing ---------------------------------------------------------

    def _upload_context(
        self,
    ) -> tuple[aiohttp.ClientSession, Callable[[], Awaitable[Token]], str, str]:
        connection = self._connection
        return (connection.http(), connection.token, self.api_url, self.organization_id)

    def _cancel_timers(self) -> None:
        for throttle in self._sneak_peeks.values():
            throttle.cancel()
        self._sneak_peeks.clear()

    # Internals: events ------------------------------------------------------------

    def _emit(self, name: str, payload: Any) -> None:
        if not self._destroyed:
            self._events.on_next((name, payload))

    def _report_subscriber_error(self, exc: Exception) -> None:
        log.error("a subscriber raised: %r", exc, exc_info=exc)
        if not self._destroyed:
            # Delivered by plain Subject logic: an error handler that raises
            # again is only logged, never re-reported (no loops).
            for observer in self._events.observers.copy():
                with contextlib.suppress(Exception):
                    observer.on_next(("error", exc))

    def _forget_listener(
        self, name: str, fn: Callable[..., Any], subscription: abc.DisposableBase
    ) -> None:
        subscriptions = self._listeners.get((name, fn), [])
        if subscription in subscriptions:
            subscriptions.remove(subscription)
        if not subscriptions:
            self._listeners.pop((name, fn), None)

    def _check_alive(self) -> None:
        if self._destroyed:
            raise SDKClosedError("the SDK was destroyed")


_SCORES: dict[Any, int] = {"good": 1, "bad": 0, 1: 1, 0: 0}


class _Call(Observable[T]):
    """A method's cold observable, with a fast ``await``.

    ``Observable.__await__`` goes through ``to_future``, the trampoline scheduler
    and an auto-detach observer; this calls the subscribe function directly with
    an observer that settles a future. Same result: the last value, the error, or
    ``SequenceContainsNoElementsError``; the subscription is disposed when the
    future is done (so cancelling the awaiting task abandons the request).
    """

    def __await__(self) -> Generator[Any, None, T]:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        subscription = self._subscribe_core(_FutureObserver(future), None)
        future.add_done_callback(lambda _: subscription.dispose())
        return future.__await__()


class _FutureObserver(abc.ObserverBase[T]):
    __slots__ = ("_future", "_has_value", "_value")

    def __init__(self, future: asyncio.Future[T]) -> None:
        self._future = future
        self._has_value = False
        self._value: Any = None

    def on_next(self, value: T) -> None:
        self._value = value
        self._has_value = True

    def on_error(self, error: Exception) -> None:
        if not self._future.done():
            self._future.set_exception(error)

    def on_completed(self) -> None:
        if self._future.done():
            return
        if self._has_value:
            self._future.set_result(self._value)
        else:
            self._future.set_exception(SequenceContainsNoElementsError())


def init(*, auto_connect: bool = True, **options: Any) -> CustomerSDK:
    """Create a :class:`CustomerSDK` and start connecting (like the JS ``init``).

    Must be called with an asyncio loop running (in ``async def``, or in Jupyter).

    Args:
        auto_connect: ``False`` waits for :meth:`CustomerSDK.connect`.
        **options: the keyword arguments of :class:`CustomerSDK`.
    """
    sdk = CustomerSDK(**options)
    if auto_connect:
        sdk.connect()
    return sdk


# Shaping -----------------------------------------------------------------------------


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


def _file_event(url: str, custom_id: str | None) -> Event:
    return File(url=url, custom_id=custom_id)


def _as_exception(exc: BaseException) -> Exception:
    return exc if isinstance(exc, Exception) else ConnectError(repr(exc))
