"""The customer's connection, and the state the pushes keep up to date.

One task connects, logs in, reads, pings and reconnects:

.. code-block:: text

    run ─► token ─► socket ─► login ─► list_chats ─► "connected"/"connection_restored"
     ▲                          │        └─► recover missed events ─► ping every 15 s
     └── backoff ◄── "connection_lost" ◄── the socket closes, or a ping goes unanswered
     (ReconnectPolicy)

Rules:

1. One task owns the connection (:meth:`Connection.start`); on each socket one
   reader task feeds every frame to the hot stream. Nothing else reads the socket.
2. A closed socket ends the login (or the ping loop) and vice versa: the two tasks
   of a socket's life are raced, and the loser is cancelled.
3. A ``customer_disconnected`` reason either reconnects, refreshes the token then
   reconnects, or stops for good (docs/reconnect.md has the table).
4. Timers are asyncio timers on the SDK's loop.
5. Cancellation is never swallowed: cancelling the connection task (``stop()``, or
   the loop ending) ends it at once, closing its socket on the way out. Child tasks
   are awaited with ``asyncio.wait``, which raises only this task's cancellation.
6. Nothing here holds the SDK strongly (its callbacks arrive as weak references),
   so an SDK dropped while connected can be garbage-collected.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl as ssl_
from collections.abc import Callable
from typing import Any

import aiohttp
import msgspec

from . import events as ev
from ._backoff import ReconnectPolicy
from ._requests import Requests
from ._transport import Socket, connect, rtm_url
from .auth import CustomerTokenProvider, Token, TokenProvider
from .exceptions import (
    AuthenticationError,
    InvalidArgumentError,
    LiveChatError,
    ProtocolError,
    SDKClosedError,
    ServerError,
)
from .protocol import methods as m, pushes as p
from .protocol.connection import Session
from .protocol.frames import Frame, Push
from .recovery import EventLedger, missed_events
from .results import chats_summary_item
from .stream import HotStream

__all__ = [
    "PING_INTERVAL",
    "RECONNECT_REASONS",
    "REFRESH_TOKEN_REASONS",
    "Connection",
]

log = logging.getLogger("rxlivechat")

PING_INTERVAL = 15.0
"""Seconds between RTM pings (digest §1.3: the server drops a socket after ~30 s)."""

# customer_disconnected reasons (digest §3.1, §8): what the SDK does about each.
RECONNECT_REASONS = frozenset(
    {
        "connection_timeout",
        "connection_evicted",
        "internal_error",
        "service_temporarily_unavailable",
        "too_many_unauthorized_connections",
        "misdirected_connection",
        "connection_lost",
    }
)
REFRESH_TOKEN_REASONS = frozenset({"access_token_expired", "access_token_revoked"})
"""Reasons after which the SDK fetches a new token, then reconnects."""
# Any reason in neither set stops the SDK for good (banned, license not found,
# too many connections, unsupported version, logged out remotely, ...).

FATAL_LOGIN_ERRORS = frozenset(
    {
        "customer_banned",
        "license_expired",
        "license_not_found",
        "wrong_product_version",
        "unsupported_version",
    }
)
"""Login errors that no retry can mend: the SDK stops for good."""

Emit = Callable[[str, Any], None]


class Connection:
    """Connects, logs in, reads, pings and reconnects; keeps what pushes tell.

    Args:
        api_url: the API's base URL (``http(s)://``; the socket is ``ws(s)://``).
        accounts_url: the Accounts API's base URL (customer tokens).
        organization_id: the LiveChat organization.
        client_id: the application's client id (for the token request).
        login: the login request, less its token and side storage.
        token_provider: an async callable returning a :class:`Token`; ``None``
            fetches customer tokens from ``accounts_url``.
        requests: the request multiplexer to attach each socket to.
        session: the Sans-I/O session state.
        frames: the hot stream every decoded frame goes to.
        emit: called with ``(event_name, payload)`` for the SDK's event stream.
        connect_timeout: seconds to open a socket.
        reconnect_delay: ``(base, cap)`` seconds of the reconnect backoff.
        reconnects_per_minute: the storm bound (see :class:`ReconnectPolicy`).
        ssl: the TLS context; ``None`` verifies with the system's authorities.
    """

    def __init__(
        self,
        *,
        api_url: str,
        accounts_url: str,
        organization_id: str,
        client_id: str,
        login: m.Login,
        token_provider: TokenProvider | None,
        requests: Requests,
        session: Session,
        frames: HotStream[Frame],
        emit: Emit,
        connect_timeout: float,
        reconnect_delay: tuple[float, float],
        reconnects_per_minute: int = 20,
        ssl: ssl_.SSLContext | None = None,
    ) -> None:
        self._api_url = api_url
        self._accounts_url = accounts_url
        self._organization_id = organization_id
        self._client_id = client_id
        self._login_template = login
        self._token_provider = token_provider
        self._own_provider = token_provider is None
        self._requests = requests
        self._session = session
        self._frames = frames
        self._emit = emit
        self._connect_timeout = connect_timeout
        self._reconnect_delay = reconnect_delay
        self._reconnects_per_minute = reconnects_per_minute
        try:  # refuse bad settings now, not in the connection task
            ReconnectPolicy(*reconnect_delay, per_minute=reconnects_per_minute)
        except ValueError as exc:
            raise InvalidArgumentError(str(exc)) from None
        self._ssl = ssl

        self.connected = asyncio.Event()
        """Set while the customer is logged in on an open socket."""
        self.customer_id: str | None = None
        """The customer's id, once logged in."""
        self.active_chats: dict[str, bool] = {}
        """Chat id → whether it has an active thread, as far as the pushes tell."""
        self._side_storage: dict[str, str] = {}
        self._ledger = EventLedger()
        self._recovering = False
        self._held: list[Push[Any]] = []
        self._http: aiohttp.ClientSession | None = None
        self._cookies: aiohttp.CookieJar | None = None
        self._runner: asyncio.Task[None] | None = None
        self._stopping = False

    # Public methods -----------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the connection task runs and was not told to stop."""
        return (
            self._runner is not None and not self._runner.done() and not self._stopping
        )

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The connection task, while it runs (it ends when the SDK stops)."""
        return self._runner if self.running else None

    def start(self) -> None:
        """Start the connection task, unless it runs already.

        A task still closing after :meth:`stop` is waited for first.
        """
        if not self.running:
            self._stopping = False
            previous = self._runner
            self._runner = asyncio.get_running_loop().create_task(
                self._run(previous), name="rxlivechat-connection"
            )

    def stop(self) -> asyncio.Task[None] | None:
        """Stop now: no reconnect; the task closes its socket as it ends.

        Returns:
            The task, to wait for its end (``asyncio.wait``), or ``None``.
        """
        self._stopping = True
        self.connected.clear()
        if self._runner is not None:
            self._runner.cancel()
        return self._runner

    def abandon(self) -> None:
        """Cancel the connection task from any thread (its owner was collected).

        Unlike :meth:`stop`, the task then also fails pending requests and closes
        the HTTP session, as when the loop ends.
        """
        runner = self._runner
        if runner is None or runner.done():
            return
        with contextlib.suppress(RuntimeError):  # the loop is closed: nothing runs
            runner.get_loop().call_soon_threadsafe(runner.cancel)

    async def close_http(self) -> None:
        """Close the HTTP session (tokens, Web API, uploads); reopened on demand."""
        http, self._http = self._http, None
        if self._own_provider:
            self._token_provider = None  # it holds the session: made anew with it
        if http is not None:
            await http.close()

    def http(self) -> aiohttp.ClientSession:
        """The HTTP session; its cookie jar keeps the customer's identity."""
        if self._http is None:
            if self._cookies is None:  # kept across sessions: the identity lives here
                # unsafe=True: keep cookies from IP hosts too (a sandbox on 127.0.0.1).
                self._cookies = aiohttp.CookieJar(unsafe=True)
            # ssl=True: verify certificates (lc-sdk-python turns that off).
            connector = aiohttp.TCPConnector(ssl=self._ssl or True)
            self._http = aiohttp.ClientSession(
                cookie_jar=self._cookies, connector=connector
            )
        return self._http

    async def token(self) -> Token:
        """A valid customer token, from the provider (cached by the default one)."""
        if self._token_provider is None:
            self._token_provider = CustomerTokenProvider(
                self.http(),
                accounts_url=self._accounts_url,
                client_id=self._client_id,
                organization_id=self._organization_id,
            )
        token = await self._token_provider()
        if isinstance(token, str):  # a provider that hands out bare tokens
            return Token(access_token=token)
        return token

    # The connection task ------------------------------------------------------------

    async def _run(self, previous: asyncio.Task[None] | None) -> None:
        """Connect, log in, read until the socket drops; again, with backoff."""
        if previous is not None:
            await asyncio.wait({previous})  # one socket at a time
        loop = asyncio.get_running_loop()
        policy = ReconnectPolicy(
            *self._reconnect_delay, per_minute=self._reconnects_per_minute
        )
        was_connected = False
        try:
            while True:
                stop_reason: ev.Disconnected | None = None
                try:
                    stop_reason = await self._socket_life(was_connected)
                except _Stop as stop:
                    stop_reason = stop.reason
                except LiveChatError as exc:
                    log.info("connection attempt failed: %s", exc)
                    self._emit("error", exc)
                except Exception as exc:  # a bug: report it, and keep the SDK alive
                    log.exception("unexpected error in the connection loop")
                    self._emit("error", exc)
                finally:
                    logged_in = self.connected.is_set()
                    self.connected.clear()
                    if logged_in:
                        was_connected = True
                        self._emit("connection_lost", None)
                if stop_reason is not None:
                    self._stopping = True
                    self._requests.halt(
                        SDKClosedError(
                            f"disconnected for good ({stop_reason.reason}); "
                            "call connect() to try again"
                        )
                    )
                    self._emit("disconnected", stop_reason)
                    return
                delay = policy.next_delay(loop.time(), logged_in=logged_in)
                await asyncio.sleep(delay)
        except asyncio.CancelledError:
            if self._runner is asyncio.current_task() and not self._stopping:
                # Cancelled from outside (the loop is ending, or the SDK was
                # collected): nothing will reconnect, so settle and close now.
                self._stopping = True
                self._requests.halt(SDKClosedError("the connection task was cancelled"))
                await self.close_http()
            raise

    async def _socket_life(self, restoring: bool) -> ev.Disconnected | None:
        """One socket's life. Returns a reason to stop for good, or ``None``."""
        token = await self.token()
        socket = await connect(
            self.http(),
            rtm_url(self._api_url, self._organization_id),
            timeout=self._connect_timeout,
        )
        try:
            return await self._use(socket, token, restoring)
        finally:
            await socket.close()

    async def _use(
        self, socket: Socket, token: Token, restoring: bool
    ) -> ev.Disconnected | None:
        """Read ``socket`` and log in on it, until either ends."""
        self._session.connection_made()
        self._requests.attach(socket)
        loop = asyncio.get_running_loop()
        reader = loop.create_task(self._read(socket), name="rxlivechat-reader")
        life = loop.create_task(self._logged_in(token, restoring))
        try:
            await asyncio.wait({reader, life}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            # Whichever ends first ends the other: a closed socket cancels a
            # pending login; a failed login closes the socket. asyncio.wait raises
            # only if this task is cancelled, never for the children.
            reader.cancel()
            life.cancel()
            try:
                await asyncio.wait({reader, life})
            finally:
                self._requests.detach()
        error = None if life.cancelled() else life.exception()
        if error is not None:
            raise error
        return None if reader.cancelled() else reader.result()

    async def _logged_in(self, token: Token, restoring: bool) -> None:
        """Log in, announce the connection, recover missed events, then ping."""
        self._recovering = restoring
        self._held.clear()
        try:
            login = await self._login(token)
            self.customer_id = login.customer.id
            self._requests.ready()
            self.connected.set()
            self._emit("customer_id", login.customer.id)
            self._emit("user_data", login.customer)
            summary = await self._requests.ask(m.ListChats(limit=25))
            for chat in summary.chats_summary:
                self.active_chats[chat.id] = chat.active
                if chat.id not in self._ledger.chats:
                    self._ledger.know(chat.id)
                    last = chats_summary_item(chat).last_events_per_type or {}
                    self._ledger.mark_seen(chat.id, last.values())
            connected = ev.Connected(
                chats_summary=[chats_summary_item(c) for c in summary.chats_summary],
                total_chats=summary.total_chats,
                customer_id=login.customer.id,
            )
            self._emit("connection_restored" if restoring else "connected", connected)
            if restoring:
                await self._recover()
        finally:
            self._recovering = False
            self._held.clear()
        await self._ping_loop()

    async def _login(self, token: Token) -> m.LoginResult:
        login = msgspec.structs.replace(
            self._login_template,
            token=token.authorization,
            customer_side_storage=self._side_storage or None,
        )
        try:
            return await self._requests.ask(login, urgent=True)
        except AuthenticationError:
            self._invalidate_token()
            raise
        except ServerError as exc:
            if exc.error_type in FATAL_LOGIN_ERRORS:
                raise _Stop(ev.Disconnected(reason=exc.error_type)) from exc
            raise

    async def _recover(self) -> None:
        """Emit the events missed while disconnected, then the held live ones."""
        for chat_id in self._ledger.chats:
            since = self._ledger.newest(chat_id)
            missed = await missed_events(self._requests.ask, chat_id, since)
            for thread_id, event in missed:
                if self._ledger.admit(chat_id, event):
                    new = ev.NewEvent(
                        chat=chat_id,
                        thread=thread_id,
                        event=ev.with_thread(event, thread_id),
                    )
                    self._emit("new_event", new)
        self._recovering = False
        held, self._held = self._held, []
        for frame in held:
            self._on_push(frame)

    async def _read(self, socket: Socket) -> ev.Disconnected | None:
        """Read until the socket closes; returns a reason to stop for good."""
        stop: ev.Disconnected | None = None
        async for data in socket.messages():
            try:
                frame = self._session.receive(data)
            except ProtocolError as exc:
                log.warning("skipped a malformed frame: %s", exc)
                self._emit("error", exc)
                continue
            # Replies first (one dict lookup), then the hot stream, which only
            # costs something when someone subscribed to sdk.frames.
            self._requests.on_frame(frame)
            if self._frames.observers:
                self._frames.on_next(frame)
            if isinstance(frame, Push):
                reason = self._on_push(frame)
                if reason is not None:
                    stop = reason
        return stop

    def _on_push(self, frame: Push[Any]) -> ev.Disconnected | None:
        """Keep the state up to date and emit the push's SDK events."""
        payload = frame.payload
        if isinstance(payload, p.IncomingEvent):
            if self._recovering:  # held until the missed events are out
                self._held.append(frame)
                return None
            if not self._ledger.admit(payload.chat_id, payload.event):
                return None  # already shown (recovered, or a duplicate)
        elif isinstance(payload, p.IncomingChat):
            self.active_chats[payload.chat.id] = True
            thread = payload.chat.thread
            self._ledger.know(payload.chat.id)
            self._ledger.mark_seen(payload.chat.id, (thread and thread.events) or ())
        elif isinstance(payload, p.ChatDeactivated):
            self.active_chats[payload.chat_id] = False
        elif isinstance(payload, p.CustomerSideStorageUpdated):
            # Kept for the next login, as the docs ask (digest §2.1, §3).
            self._side_storage = dict(payload.customer_side_storage)
        for name, event in ev.events_of_push(frame):
            self._emit(name, event)
        if isinstance(payload, p.CustomerDisconnected):
            reason = payload.reason
            if reason in REFRESH_TOKEN_REASONS:
                self._invalidate_token()
            elif reason not in RECONNECT_REASONS:
                data = msgspec.to_builtins(payload.data) if payload.data else None
                return ev.Disconnected(reason=reason, data=data)
        return None

    async def _ping_loop(self) -> None:
        """Ping every 15 s; a ping with no reply means a dead socket: drop it."""
        while True:
            await asyncio.sleep(PING_INTERVAL)
            try:
                await self._requests.ask(m.Ping(), urgent=True)
            except LiveChatError as exc:
                log.info("ping failed (%s); dropping the socket", exc)
                return

    # Private methods ----------------------------------------------------------------

    def _invalidate_token(self) -> None:
        invalidate = getattr(self._token_provider, "invalidate", None)
        if callable(invalidate):
            invalidate()


class _Stop(Exception):
    """Raised inside the connection task to stop for good, with the reason."""

    def __init__(self, reason: ev.Disconnected) -> None:
        super().__init__(reason.reason)
        self.reason = reason
