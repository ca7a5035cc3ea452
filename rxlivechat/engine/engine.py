"""The engine: one asyncio object that runs a customer, free of reactivex.

It alone owns the Sans-I/O session (through :class:`~.requests.Requests`), the
socket's life, the token, the Web API client and what the pushes say (active
chats, the event ledger, side storage). It reports upward to one
:class:`Listener`: every decoded frame, and every SDK event by name.

One task connects, logs in, reads, pings and reconnects:

.. code-block:: text

    run ─► token ─► socket ─► login ─► list_chats ─► "connected"/"connection_restored"
     ▲                          │        └─► recover missed events ─► ping every 15 s
     └── backoff ◄── "connection_lost" ◄── the socket closes, or a ping goes unanswered

Rules:

1. One task owns the connection (:meth:`Engine.start`); each socket calls one
   handler (:meth:`Engine._handler`) with every message, from the event loop's
   callback: no reader task. Nothing else reads the socket.
2. A closed socket ends the login (or the ping loop) and vice versa. Both run
   in the connection task: the socket closing cancels it, and that one
   cancellation is counted and undone as ``asyncio.timeout`` does.
3. A ``customer_disconnected`` reason either reconnects, refreshes the token then
   reconnects, or stops for good (docs/reconnect.md has the table).
4. Cancellation is never swallowed: cancelling the task (or the loop ending)
   stops it at once. :meth:`Engine.close` and :meth:`Engine.stop` take effect
   when called and return a task that finishes closing.
5. The engine holds no reference to what listens to it beyond the listener, so
   an SDK dropped without ``destroy()`` can be collected (and then closes it).
6. Timers are asyncio timers on the engine's loop.
7. Requests never wait for a connection that cannot come: before :meth:`start`
   they fail at once (call ``connect()``), and while the attempts fail for a
   permanent reason (:func:`permanent_failure`: a refused token, a fatal login
   error) they fail at once with that error as their ``__cause__``. Before the
   first login (with ``fail_fast``, the default), any network failure does the
   same: requests and ``wait_connected`` fail with :class:`NotConnectedError`
   naming the last attempt's cause (refused, DNS, TLS, an HTTP status) as soon
   as an attempt failed, instead of timing out; after a login, requests wait
   through reconnects, and one that expires unsent says why it was not sent.
8. The life is logged under ``rxlivechat``: INFO for logins, losses, reconnects
   and stops, DEBUG for each step; never a token (``rxlivechat.requests`` logs
   each request at DEBUG).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import ssl as ssl_
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import aiohttp
import msgspec
from msgspec.structs import replace

from .. import events as ev
from ..events import NewEvent
from ..exceptions import (
    AuthenticationError,
    ConnectError,
    ConnectionLost,
    InvalidArgumentError,
    LiveChatError,
    NotConnectedError,
    ProtocolError,
    SDKClosedError,
    ServerError,
    StoreError,
    TokenRefusedError,
    TransportError,
)
from ..protocol import methods as m, pushes as p
from ..protocol.base import Method
from ..protocol.frames import Frame, Push
from ..protocol.pushes import IncomingEvent
from ..protocol.session import Session
from ..protocol.tokens import Token
from ..results import chats_summary_item
from ..stores.base import DEFAULT_KEY, CustomerStore, Identity, Snapshot, Store
from .auth import CustomerTokenProvider, TokenProvider
from .backoff import ReconnectPolicy
from .commits import Commits
from .recovery import EventLedger, missed_events
from .requests import OnError, OnResult, Pending, Requests
from .transport import Socket, connect, rtm_url
from .web import PreparedFile, WebClient

if TYPE_CHECKING:
    from ..telemetry import CustomerTelemetry

__all__ = [
    "FATAL_LOGIN_ERRORS",
    "PING_INTERVAL",
    "RECONNECT_REASONS",
    "REFRESH_TOKEN_REASONS",
    "Engine",
    "Listener",
    "Options",
    "permanent_failure",
    "spawn_held",
]

log = logging.getLogger("rxlivechat")

PING_INTERVAL = 15.0
"""Seconds between RTM pings (digest §1.3: the server drops a socket after ~30 s)."""

# customer_disconnected reasons (digest §3.1, §8): what the SDK does about each.
# docs/reconnect.md's table says the same; tests/engine/test_reasons.py checks it.
RECONNECT_REASONS = frozenset(
    {
        "connection_timeout",
        "connection_evicted",
        "internal_error",
        "service_temporarily_unavailable",
        "too_many_unauthorized_connections",
        "connection_lost",
    }
)
REGION_REASON = "misdirected_connection"
"""The socket reached the wrong region: the SDK moves to ``data.region``'s host
when it knows it (:attr:`Options.region_url`), else it stops (never loops)."""
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
        # customer-sdk docs: a hard limit; the official SDK waits for the user.
        # Retrying would storm an organization already at its cap.
        "users_limit_reached",
    }
)
"""Login errors that no retry can mend: the SDK stops for good."""

DEFAULT_REGION_URL = "https://api-{region}.livechatinc.com"
"""The regional API host the official SDK moves to on ``misdirected_connection``."""

NOT_STARTED = "not connected: call connect() first (init(auto_connect=False) waits)"


def permanent_failure(exc: Exception) -> bool:
    """Whether a failed connection attempt is a misconfiguration, not a fault.

    A token endpoint refusing with a 4xx (wrong organization or client id) will
    refuse every retry alike; a network error, a 5xx or a 429 may pass.
    """
    return isinstance(exc, TokenRefusedError) and exc.permanent


R = TypeVar("R")


class Listener(Protocol):
    """What the engine reports to: the Rx surface implements it."""

    def on_frame(self, frame: Frame) -> None:
        """Every frame the server sent, typed (after its request was settled)."""

    def on_event(self, name: str, payload: Any) -> None:
        """An SDK event: a push's v1 form, or the connection's life.

        Names include ``connected``, ``connection_lost``, ``error`` and every
        push's v1 name (:mod:`rxlivechat.events`).
        """


@dataclasses.dataclass(frozen=True, kw_only=True)
class Options:
    """Everything the engine needs to run one customer.

    Attributes:
        organization_id: the LiveChat organization.
        client_id: the application's client id (for the token request).
        api_url: the API's base URL (``http(s)://``; the socket is ``ws(s)://``).
        region_url: the API's base URL for another region, ``{region}`` in it
            replaced by the ``data.region`` of ``misdirected_connection`` (RTM)
            or ``misdirected_request`` (Web); ``None``: such a customer stops
            with ``disconnected`` naming the region.
        accounts_url: the Accounts API's base URL (customer tokens).
        login: the login request, less its token and side storage.
        token_provider: an async callable returning a :class:`Token`; ``None``
            fetches customer tokens from ``accounts_url``.
        request_timeout: seconds a request (or any HTTP exchange) may take.
        connect_timeout: seconds to open a socket.
        reconnect_delay: ``(base, cap)`` seconds of the reconnect backoff.
        reconnects_per_minute: the storm bound (see :class:`.backoff.ReconnectPolicy`).
        ssl: the TLS context; ``None`` verifies with the system's authorities.
        http_session: an HTTP session shared with other customers (a pool's),
            never closed by the engine; the identity is not in it (see
            :class:`.auth.CustomerTokenProvider`). ``None``: the engine makes
            its own on first use and closes it.
        connect_gate: a semaphore shared with other customers: held from the
            token fetch to the end of the login, so a pool restarting many
            customers logs in at most that many at once.
        telemetry: where to report spans and metrics (:mod:`rxlivechat.telemetry`);
            ``None`` reports nothing and costs nothing.
        store: where the identity, the chats' checkpoints and the side storage
            outlive the process (docs/stores.md); ``None`` keeps nothing.
        customer_key: the customer's name in ``store``.
        auto_commit: commit each ``new_event`` once the listener returned;
            ``False`` waits for :meth:`Engine.commit`.
        fail_fast: until the first login, a failed attempt fails the waiting
            requests (and ``wait_connected``) at once, naming its cause.
    """

    organization_id: str
    client_id: str
    api_url: str
    accounts_url: str
    region_url: str | None = None
    login: m.Login
    token_provider: TokenProvider | None = None
    request_timeout: float = 15.0
    connect_timeout: float = 10.0
    reconnect_delay: tuple[float, float] = (0.5, 30.0)
    reconnects_per_minute: int = 20
    ssl: ssl_.SSLContext | None = None
    http_session: aiohttp.ClientSession | None = None
    connect_gate: asyncio.Semaphore | None = None
    telemetry: CustomerTelemetry | None = None
    store: Store | None = None
    customer_key: str = DEFAULT_KEY
    auto_commit: bool = True
    fail_fast: bool = True


MAX_CHATS = 1_000
"""Chats whose state (active or not, events seen) the engine remembers. Chat ids
come from the server's pushes, so the memory is bounded: the least recently
heard-of chat is forgotten first (it is still recovered by ``list_chats``)."""


class Engine:
    """Runs one customer: token, socket, login, requests, pings, reconnects.

    The Rx surface (:class:`~rxlivechat.sdk.CustomerSDK`) holds one engine and
    uses only this class's public methods and attributes.

    Args:
        options: what to connect to, and how.
        listener: told of every frame and every SDK event.
    """

    # Slots: one engine per customer, and a pool holds thousands (its 31
    # attributes would not fit a dict shared between instances).
    __slots__ = (
        "_backoff",
        "_closed",
        "_closing",
        "_commits",
        "_customer_store",
        "_failure",
        "_gate",
        "_held",
        "_http",
        "_identity",
        "_ledger",
        "_listener",
        "_logged_in_this_attempt",
        "_login_waiters",
        "_recovering",
        "_refusal",
        "_requests",
        "_resuming",
        "_runner",
        "_session",
        "_side_storage",
        "_stop",
        "_stopped_runner",
        "_store_writes",
        "_token_provider",
        "_traced",
        "_web",
        "active_chats",
        "customer_id",
        "identity_cookies",
        "loop",
        "options",
    )

    def __init__(self, options: Options, listener: Listener) -> None:
        self.options = options
        self._listener = listener
        self.loop: asyncio.AbstractEventLoop | None = _running_loop()
        """The loop the engine runs on (set again by :meth:`start`)."""
        self._session: Session[Pending] = Session()
        self._requests = Requests(self._session, timeout=options.request_timeout)
        try:
            self._backoff = ReconnectPolicy(
                *options.reconnect_delay, per_minute=options.reconnects_per_minute
            )
        except ValueError as exc:
            raise InvalidArgumentError(str(exc)) from None
        self._token_provider = options.token_provider
        self._web = WebClient(
            self.http,
            self.token,
            api_url=options.api_url,
            follow_region=self._move_to_region,
            organization_id=options.organization_id,
            timeout=options.request_timeout,
        )
        self.customer_id: str | None = None
        """The customer's id, once logged in."""
        self.identity_cookies: dict[str, str] = {}
        """The accounts cookies that are the customer's identity (the cookie
        grant): the default token provider sends and updates this dict, and
        the store keeps it."""
        self.active_chats: dict[str, bool] = {}
        """Chat id → whether it has an active thread, as far as the pushes tell."""
        self._side_storage: dict[str, str] = {}
        self._ledger = EventLedger(max_chats=MAX_CHATS)
        self._recovering = False
        self._held: list[Push[Any]] = []
        self._http: aiohttp.ClientSession | None = None
        """The engine's own HTTP session, when it has no shared one."""
        self._runner: asyncio.Task[None] | None = None
        self._stopped_runner: asyncio.Task[None] | None = None
        self._closed = False
        self._closing: asyncio.Task[None] | None = None
        self._stop: ev.Disconnected | None = None
        # Dicts used as sets here: empty, a dict costs 64 bytes and a set 216,
        # on every idle customer of a pool.
        # Each wait_connected() and whether it fails fast (on a failed attempt).
        self._login_waiters: dict[asyncio.Future[None], bool] = {}
        self._logged_in_this_attempt = False
        self._gate = _Gate(None, None)
        """This socket's pass through the shared connect gate."""
        self._traced: dict[Pending, Callable[[BaseException | None], None]] = {}
        """Telemetry: the span to end of each request still pending."""
        # Durability (docs/stores.md): the customer's handle in the store, opened
        # on the first start; what it held decides whether the first login resumes.
        self._commits = Commits(auto=options.auto_commit)
        self._customer_store: CustomerStore | None = None
        self._identity: Identity | None = None
        self._resuming = False
        self._store_writes: dict[asyncio.Task[None], None] = {}
        # While attempts fail for a permanent reason (or, before the first
        # login, for any network reason): what requests fail with.
        self._refusal: ConnectError | None = None
        # The last attempt's failure, until a login: what a wait names.
        self._failure: Exception | None = None
        self._requests.halt(SDKClosedError(NOT_STARTED))

    # State --------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether the customer is logged in on an open socket right now."""
        return self._session.logged_in and self.running

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called: the engine is done for good."""
        return self._closed

    @property
    def running(self) -> bool:
        """Whether the connection task is running (connected or trying to be)."""
        return self._runner is not None and not self._runner.done()

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The connection task, while it runs."""
        return self._runner if self.running else None

    @property
    def in_flight(self) -> int:
        """Requests on the socket, not answered yet."""
        return self._requests.in_flight

    @property
    def waiting(self) -> int:
        """Requests waiting for a connection or a free slot."""
        return self._requests.waiting

    # Life ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start connecting (and reconnecting) in the background; no-op if running.

        Raises:
            SDKClosedError: the engine was closed.
        """
        if self.closed:
            raise SDKClosedError("the SDK was destroyed")
        if not self.running:
            self.loop = asyncio.get_running_loop()
            self._requests.resume()
            self._refusal = None
            self._failure = self._requests.not_connected = None
            log.info(
                "connecting to %s (organization %s)",
                self._web.api_url,
                self.options.organization_id,
            )
            self._runner = asyncio.get_running_loop().create_task(
                self._run(previous=self._stopped_runner),
                name="rxlivechat-connection",
            )

    def stop(self, error: LiveChatError) -> asyncio.Task[None] | None:
        """Stop for now: no reconnect; every request fails with ``error``.

        Takes effect at once; the task it returns finishes closing the socket
        (awaiting it is optional). :meth:`start` starts again.
        """
        was_running = self.running
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.cancel()
            self._stopped_runner = runner
        self._requests.halt(error)
        self._wake_waiters(error)
        if was_running:
            log.info("disconnected (manual)")
            self._emit("disconnected", ev.Disconnected(reason="manual"))
        return spawn_held(self._finish(runner), "stop")

    def close(self) -> asyncio.Task[None] | None:
        """Stop for good and release the socket and the HTTP session.

        Takes effect at once (later calls raise :class:`SDKClosedError`); the
        task it returns finishes closing (``None``: no loop runs, so nothing was
        ever opened). Calling it again returns the same task.
        """
        if not self._closed:
            self._closed = True
            stopped = self.stop(SDKClosedError("the SDK was destroyed"))
            self._requests.close()
            self._closing = spawn_held(self._release(stopped), "close")
        return self._closing

    def abandon_unclosed(self) -> None:
        """Close from a finalizer: the loop may be gone, so nothing may raise."""
        if self.closed:
            return
        runner = self._runner
        if runner is None:
            self._closed = True
            return
        loop = runner.get_loop()
        if loop.is_closed():
            self._closed = True
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self.close()
        else:  # collected on another thread: close on the engine's own loop
            loop.call_soon_threadsafe(self.close)

    async def wait_connected(
        self, timeout: float | None = None, *, fail_fast: bool | None = None
    ) -> None:
        """Wait until the customer is logged in (returns at once if it is).

        Args:
            timeout: seconds to wait at most; ``None``: as long as it takes.
            fail_fast: fail as soon as an attempt fails (at once between
                failed attempts), rather than wait for a later one. ``None``:
                the ``fail_fast`` option until the first login, then ``False``.

        Raises:
            NotConnectedError: an attempt failed (with ``fail_fast``), or the
                wait timed out after failed attempts; the last attempt's
                failure is its ``__cause__`` and is named in its message.
            TimeoutError: not connected within ``timeout`` seconds, no attempt
                having failed.
            SDKClosedError: the engine stopped before connecting.
            ConnectError: the attempts fail for a permanent reason (its
                ``__cause__``), such as a token refused for a wrong organization.
        """
        if self.connected:
            return
        if self.closed or not self.running:
            raise SDKClosedError(
                "the SDK was destroyed"
                if self.closed
                else "not connecting: call connect() first"
            )
        if fail_fast is None:
            fail_fast = self.options.fail_fast and self.customer_id is None
        refusal = self._refusal
        if refusal is not None:  # between failed attempts: the last one's cause
            cause = refusal.__cause__
            if fail_fast or (isinstance(cause, Exception) and permanent_failure(cause)):
                raise refusal
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._login_waiters[waiter] = fail_fast
        try:
            async with asyncio.timeout(timeout):
                await waiter
        except NotConnectedError:  # a TimeoutError too: not the wait's own
            raise
        except TimeoutError:
            failure = self._failure
            if failure is None:
                raise TimeoutError(f"not connected within {timeout} s") from None
            error = not_connected(failure, f"not connected within {timeout} s")
            raise error from failure
        finally:
            self._login_waiters.pop(waiter, None)

    # Requests -----------------------------------------------------------------------

    def submit(
        self,
        method: Method[Any],
        on_result: OnResult,
        on_error: OnError,
        *,
        timeout: float | None = None,
    ) -> Pending:
        """Queue ``method`` on the socket; exactly one callback will be called."""
        telemetry = self.options.telemetry
        if telemetry is None:
            return self._requests.submit(method, on_result, on_error, timeout=timeout)
        finish = telemetry.request_started(method.action)
        traced = self._traced
        settled = False
        ticket: Pending | None = None

        def end(error: BaseException | None) -> None:
            nonlocal settled
            settled = True
            if ticket is not None:
                traced.pop(ticket, None)
            finish(error)

        def on_result_traced(result: Any, pending: Pending) -> None:
            end(None)
            on_result(result, pending)

        def on_error_traced(exc: Exception) -> None:
            end(exc)
            on_error(exc)

        pending = self._requests.submit(
            method, on_result_traced, on_error_traced, timeout=timeout
        )
        if not settled:  # it may settle inside submit (a closed engine)
            ticket = pending
            traced[pending] = end
        return pending

    def abandon(self, pending: Pending) -> None:
        """Forget ``pending``: no callback will be called."""
        self._requests.abandon(pending)
        finish = self._traced.pop(pending, None)
        if finish is not None:
            finish(_ABANDONED)

    async def ask(self, method: Method[R]) -> R:
        """Send ``method`` and wait for its result; cancelling abandons it."""
        telemetry = self.options.telemetry
        if telemetry is None:
            return await self._requests.ask(method)
        finish = telemetry.request_started(method.action)
        try:
            result = await self._requests.ask(method)
        except BaseException as exc:
            finish(exc)
            raise
        finish(None)
        return result

    def await_echo(
        self,
        request_id: str,
        match: Callable[[Push[Any]], Any],
        deliver: Callable[[Any], None],
        give_up: Callable[[], None],
    ) -> Callable[[], None]:
        """Wait for the push a request caused, after its reply.

        See :meth:`.requests.Requests.await_echo`.
        """
        return self._requests.await_echo(request_id, match, deliver, give_up)

    async def web_call(self, method: Method[R]) -> R:
        """Send ``method`` over the Web API (HTTP) with the customer's token."""
        return await self._web.call(method)

    async def upload(self, file: PreparedFile, report: Callable[[float], None]) -> str:
        """Upload ``file`` (Web API ``upload_file``); returns its URL."""
        return await self._web.upload(file, report)

    # HTTP and tokens ----------------------------------------------------------------

    def http(self) -> aiohttp.ClientSession:
        """The HTTP session: the shared one, or the engine's own (made now)."""
        shared = self.options.http_session
        if shared is not None:
            return shared
        if self._http is None:
            # ssl=True: verify certificates (lc-sdk-python turns that off).
            # force_close: no idle keep-alive connection per customer; tokens
            # and Web API calls are rare, an idle socket each is not. No jar:
            # the identity is self.identity_cookies.
            connector = aiohttp.TCPConnector(
                ssl=self.options.ssl or True, force_close=True
            )
            self._http = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar()
            )
        return self._http

    async def token(self) -> Token:
        """A valid customer token, from the provider (cached by the default one)."""
        if self._token_provider is None:
            self._token_provider = CustomerTokenProvider(
                self.http,  # asked each time: a closed own session is remade
                accounts_url=self.options.accounts_url,
                client_id=self.options.client_id,
                organization_id=self.options.organization_id,
                timeout=self.options.request_timeout,
                cookies=self.identity_cookies,
            )
        try:
            async with asyncio.timeout(self.options.request_timeout):
                token = await self._token_provider()
        except TimeoutError:
            raise ConnectionLost(
                f"no customer token within {self.options.request_timeout} s"
            ) from None
        if isinstance(token, str):  # a provider that hands out bare tokens
            return Token(access_token=token)
        return token

    # The connection task ------------------------------------------------------------

    async def _run(self, previous: asyncio.Task[None] | None) -> None:
        """Run the connection; a cancellation from outside stops it for now.

        :meth:`stop` and :meth:`close` cancel it too, having settled everything
        first; any other cancellation (the loop ending, a user's ``cancel()``)
        fails what is pending here, since nothing will send it.
        """
        try:
            if previous is not None:  # one socket at a time: let it close first
                await asyncio.wait({previous})
            try:
                await self._open_store()
            except StoreError as exc:
                self._store_failed(exc)
                return
            await self._connect_forever()
        except asyncio.CancelledError:
            if self._current():  # the loop is ending, or a user's cancel()
                error = SDKClosedError(
                    "the connection task was cancelled; call connect() to resume"
                )
                self._requests.halt(error)
                self._wake_waiters(error)
                await self._close_http()
            raise

    async def _connect_forever(self) -> None:
        """Connect, log in, read until the socket drops; again, with backoff."""
        loop = asyncio.get_running_loop()
        restoring = False
        while True:
            reason: ev.Disconnected | None = None
            cause: BaseException | None = None
            try:
                reason = await self._socket_life(restoring)
            except _Stop as stop:
                reason, cause = stop.reason, stop.__cause__
            except LiveChatError as exc:
                log.info("connection attempt failed: %s", exc)
                self._emit("error", exc)
                self._attempt_failed(exc)
            except Exception as exc:  # a bug: report it, and keep the SDK alive
                log.exception("unexpected error in the connection loop")
                self._emit("error", exc)
            restoring = restoring or self.customer_id is not None
            if reason is not None:
                log.info("disconnected for good (%s)", reason.reason)
                error = SDKClosedError(
                    f"disconnected for good ({reason.reason}); "
                    "call connect() to try again"
                )
                error.__cause__ = cause  # the login error that stopped it, if any
                self._requests.halt(error)
                waiters = SDKClosedError(f"disconnected ({reason.reason})")
                waiters.__cause__ = cause
                self._wake_waiters(waiters)
                self._emit("disconnected", reason)
                return
            delay = self._backoff.next_delay(
                loop.time(), logged_in=self._logged_in_this_attempt
            )
            log.info("reconnecting in %.2f s", delay)
            await asyncio.sleep(delay)

    async def _socket_life(self, restoring: bool) -> ev.Disconnected | None:
        """One socket's life. Returns a reason to stop for good, or ``None``."""
        self._logged_in_this_attempt = False
        gate = _Gate(self.options.connect_gate, self.options.telemetry)
        await gate.enter()
        try:
            log.debug("fetching a customer token")
            token = await self.token()
            log.debug("customer token fetched (expires at %s)", token.expires_at)
            if self._refusal is not None:  # it has passed: requests may wait again
                self._refusal = None
                self._requests.resume()
            url = rtm_url(self._web.api_url, self.options.organization_id)
            log.debug("opening the socket: %s", url)
            socket = await connect(
                url, timeout=self.options.connect_timeout, ssl=self.options.ssl
            )
        except BaseException:
            gate.leave()
            raise
        log.debug("socket open; logging in")
        self._requests.connection_made(socket)
        socket.listen(self._handler())
        self._gate = gate  # left by _announce(), once logged in
        # The login and then the pings run in this task. A socket that closes
        # first cancels it (the way asyncio.timeout does: counted, undone here),
        # so a socket's life costs no task and no wait of its own.
        task = asyncio.current_task()
        assert task is not None
        cancelling = task.cancelling()
        living, dropped = True, False

        def drop(_: object) -> None:
            nonlocal dropped
            if living:
                dropped = True
                task.cancel()

        socket.done.add_done_callback(drop)
        try:
            await self._logged_in(token, socket, restoring)  # until a ping fails
        except asyncio.CancelledError:
            if not dropped or task.uncancel() > cancelling:
                raise  # cancelled from outside too: stop, after the cleanup
        finally:
            living = False
            socket.done.remove_done_callback(drop)
            gate.leave()
            was_logged_in = self._session.logged_in
            self._requests.connection_lost()
            if was_logged_in and self._current():
                log.info("connection lost")
                self._emit("connection_lost", None)
            try:
                await socket.close()  # at once if a failed ping aborted it
            finally:
                # Read always: a failure never read is logged as unhandled.
                failed = socket.done.exception() if socket.done.done() else None
        if failed is not None:
            raise failed
        stop, self._stop = self._stop, None
        return stop

    async def _logged_in(self, token: Token, socket: Socket, restoring: bool) -> None:
        """Log in, announce the connection, recover missed events, then ping."""
        # Hold live events from the login on: missed ones are emitted first.
        resuming = self._resuming
        self._recovering = restoring or resuming
        self._held.clear()
        self._announce(await self._login(token))
        await self._keep_identity(self.customer_id or "")
        # Pings go on during the recovery, which may be long.
        pinger = asyncio.get_running_loop().create_task(
            self._ping_loop(socket), name="rxlivechat-ping"
        )
        try:
            await self._chats_summary(restoring, resuming)
            if (restoring or resuming) and await self._recover():
                await self._flush_replay()
            self._resuming = False
            self._recovering = False
            held, self._held = self._held, []
            for frame in held:
                self._on_push(frame)
            del held
        finally:
            self._recovering = False
            self._held.clear()
            alive = not pinger.done()  # done: a ping went unanswered
            pinger.cancel()
            await asyncio.wait({pinger})
            del pinger  # a finished task keeps its coroutine and its exception
        if alive:  # ping from here on in this task: a task less per customer
            await self._ping_loop(socket)  # returns when a ping goes unanswered

    def _announce(self, login: m.LoginResult) -> None:
        """Logged in: say who the customer is."""
        self._gate.leave()  # let the next customer log in
        self._logged_in_this_attempt = True
        self._failure = self._requests.not_connected = None
        log.info("logged in as customer %s", login.customer.id)
        self.customer_id = login.customer.id
        self._emit("customer_id", login.customer.id)
        self._emit("user_data", login.customer)

    async def _chats_summary(self, restoring: bool, resuming: bool) -> None:
        """Learn the customer's chats, then announce the connection.

        A function of its own, so the socket's long-lived task keeps none of
        the summary alive while it pings. When ``resuming`` a stored customer,
        a chat with no checkpoint had nothing committed: it is replayed whole.
        """
        summary = await self._requests.ask(m.ListChats(limit=25))
        for chat in summary.chats_summary:
            self._remember_chat(chat.id, chat.active)
            if not self._ledger.knows(chat.id):
                self._ledger.know(chat.id)
                if not resuming:
                    last = chats_summary_item(chat).last_events_per_type or {}
                    self._ledger.mark_seen(chat.id, last.values())
        connected = ev.Connected(
            chats_summary=[chats_summary_item(c) for c in summary.chats_summary],
            total_chats=summary.total_chats,
            customer_id=self.customer_id or "",
        )
        self._emit("connection_restored" if restoring else "connected", connected)
        self._wake_waiters(None)

    async def _login(self, token: Token) -> m.LoginResult:
        login = msgspec.structs.replace(
            self.options.login,
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

    async def _recover(self) -> int:
        """Emit the events missed while disconnected, chat by chat.

        A chat whose walk fails with a server error is skipped and reported (an
        ``error`` event), so one broken chat cannot stop every reconnect.

        Returns:
            How many events it emitted.
        """
        emitted = 0
        for chat_id in self._ledger.chats:
            since = self._ledger.newest(chat_id)
            try:
                missed = await missed_events(self._requests.ask, chat_id, since)
            except (ServerError, ProtocolError) as exc:
                log.warning("skipped recovering chat %s: %s", chat_id, exc)
                self._emit("error", exc)
                continue
            for thread_id, event in missed:
                if self._ledger.admit(chat_id, event):
                    new = ev.NewEvent(
                        chat=chat_id,
                        thread=thread_id,
                        event=ev.with_thread(event, thread_id),
                    )
                    self._emit("new_event", new)
                    emitted += 1
        return emitted

    def _handler(self) -> Callable[[bytes], None]:
        """The socket's message handler: decode, report, act on pushes.

        A push that ends the session for good (``customer_disconnected`` for
        a reason not to reconnect on) is kept in ``_stop`` for the socket's end.
        """
        self._stop = None
        receive = self._requests.receive
        on_frame = self._listener.on_frame
        on_push = self._on_push

        def handle(data: bytes) -> None:
            try:
                frame, _ = receive(data)
            except ProtocolError as exc:
                log.warning("skipped a malformed frame: %s", exc)
                self._emit("error", exc)
                return
            on_frame(frame)
            if isinstance(frame, Push) and (reason := on_push(frame)) is not None:
                self._stop = reason

        return handle

    def _on_push(self, frame: Push[Any]) -> ev.Disconnected | None:
        """Keep the state up to date and emit the push's SDK events."""
        payload = frame.payload
        if isinstance(payload, IncomingEvent):  # the hot path: one event
            if self._recovering:  # held until the missed events are out
                self._held.append(frame)
            elif self._ledger.admit(payload.chat_id, payload.event):
                thread_id = payload.thread_id
                event = payload.event
                if event.thread_id != thread_id:  # the wire event has none
                    event = replace(event, thread_id=thread_id)
                if self.options.telemetry is not None:
                    self.options.telemetry.event("new_event")
                self._listener.on_event(
                    "new_event",
                    NewEvent(chat=payload.chat_id, thread=thread_id, event=event),
                )
                # Every subscriber returned: handed out (committed if auto).
                commits = self._commits
                if commits.store is not None or not commits.auto:  # else a no-op
                    commits.handed_out(payload.chat_id, thread_id, event)
            return None  # else already shown (recovered, or a duplicate)
        if isinstance(payload, p.IncomingChat):
            self._remember_chat(payload.chat.id, True)
            thread = payload.chat.thread
            self._ledger.know(payload.chat.id)
            self._ledger.mark_seen(payload.chat.id, (thread and thread.events) or ())
        elif isinstance(payload, p.ChatDeactivated):
            self._remember_chat(payload.chat_id, False)
        elif isinstance(payload, p.CustomerSideStorageUpdated):
            # Kept for the next login, as the docs ask (digest §2.1, §3).
            self._side_storage = dict(payload.customer_side_storage)
            self._write_store(self._save_side_storage(self._side_storage))
        for name, event in ev.events_of_push(frame):
            self._emit(name, event)
        if isinstance(payload, p.CustomerDisconnected):
            reason = payload.reason
            data = msgspec.to_builtins(payload.data) if payload.data else None
            if reason in REFRESH_TOKEN_REASONS:
                self._invalidate_token()
            elif reason == REGION_REASON:
                region = (data or {}).get("region")
                if self._move_to_region(region) is None:
                    return ev.Disconnected(reason=reason, data=data)
            elif reason not in RECONNECT_REASONS:
                return ev.Disconnected(reason=reason, data=data)
        return None

    def _move_to_region(self, region: object) -> str | None:
        """Use ``region``'s API host from now on; ``None`` if none is known.

        Never the host in use: a second misdirection there stops the SDK
        instead of looping.
        """
        pattern = self.options.region_url
        if pattern is None or not isinstance(region, str) or not region:
            log.warning(
                "misdirected: the organization is in region %r, and no region_url "
                "says where that is (api_url %s)",
                region,
                self._web.api_url,
            )
            return None
        target = pattern.format(region=region)
        if target.rstrip("/") == self._web.api_url.rstrip("/"):
            log.warning("misdirected again at %s (region %r): stopping", target, region)
            return None
        log.info("moving to region %r: %s", region, target)
        self._web.api_url = target  # the socket's URL too, from the next attempt
        return target

    async def _ping_loop(self, socket: Socket) -> None:
        """Ping every 15 s; a ping with no reply means a dead socket: return.

        The socket is aborted first: a closing handshake would wait for a peer
        that is not there, and requests waiting meanwhile would wait too. During
        the recovery, the abort also ends the walk waiting on that socket.
        """
        while True:
            await asyncio.sleep(PING_INTERVAL)
            try:
                await self._requests.ask(m.Ping(), urgent=True)
            except LiveChatError as exc:
                log.info("ping failed (%s); aborting the socket", exc)
                socket.abort()
                return

    # Durability (docs/stores.md) -----------------------------------------------------

    @property
    def uncommitted(self) -> int:
        """Events handed out and not committed yet (``auto_commit=False``)."""
        return self._commits.pending

    @property
    def commits(self) -> Commits:
        """The events handed out and when each is written (handlers hold them)."""
        return self._commits

    def commit(self, chat_id: str, event_id: str) -> bool:
        """Mark a handed-out event handled; see :meth:`.commits.Commits.commit`."""
        return self._commits.commit(chat_id, event_id)

    async def flush(self) -> None:
        """Return once every commit written so far is durable in the store."""
        if self._customer_store is not None:
            await self._customer_store.flush()

    async def _flush_replay(self) -> None:
        """Write the replay's commits now, before live events are handed out.

        A restart replays in one burst; left to the next batch, its commits
        would wait a flush interval, and a process killed meanwhile (often
        soon after a restart) replays the same window again, life after life.
        """
        if self._customer_store is None:
            return
        try:  # bounded: a store that hangs must not hold live events for ever
            async with asyncio.timeout(self.options.request_timeout):
                await self._customer_store.flush()
        except TimeoutError:  # still buffered: the writer goes on
            log.warning("the replay's commits are not written yet (a slow store)")
        except StoreError as exc:  # still buffered: the writer retries
            log.warning("cannot write the replay's commits: %s", exc)
            self._emit("error", exc)

    async def _open_store(self) -> None:
        """Open the customer's store once per engine, and resume from it."""
        store = self.options.store
        if store is None or self._customer_store is not None:
            return
        customer = store.customer(
            self.options.organization_id, self.options.customer_key
        )
        await customer.open()
        self._customer_store = customer  # closed by close(), even if load() fails
        try:
            snapshot = await customer.load()
        except StoreError:
            self._customer_store = None
            await customer.close()
            raise
        self._commits.store = customer
        customer.on_write_error(self._store_write_failed)
        self._resume(snapshot)

    def _store_write_failed(self, error: StoreError) -> None:
        """A background write failed (the store logged it): an ``error`` event."""
        self._emit("error", error)

    def _resume(self, snapshot: Snapshot) -> None:
        """Carry on from a snapshot: same customer, side storage, checkpoints."""
        identity = snapshot.identity
        if (
            identity is not None
            and identity.organization_id == self.options.organization_id
        ):
            self._identity = identity
            # Before the first token fetch: the cookie grant then gives back
            # the same customer.
            self.identity_cookies.update(identity.cookies)
            self._resuming = True
        for checkpoint in snapshot.checkpoints.values():
            self._ledger.seed(checkpoint)
            self._resuming = True
        if snapshot.side_storage and not self._side_storage:
            self._side_storage = dict(snapshot.side_storage)

    async def _keep_identity(self, customer_id: str) -> None:
        """Store who the customer is (id and the accounts cookies) when it changed."""
        saved = self._identity
        if saved is not None and saved.customer_id != customer_id:
            error = StoreError(
                f"the stored identity (customer {saved.customer_id}) was not "
                f"accepted; logged in as a new customer, {customer_id}"
            )
            log.warning("%s", error)
            self._emit("error", error)
        if self._customer_store is None:
            return
        identity = Identity(
            customer_id=customer_id,
            organization_id=self.options.organization_id,
            client_id=self.options.client_id,
            cookies=dict(self.identity_cookies),
        )
        if identity != saved:
            try:
                await self._customer_store.save_identity(identity)
            except StoreError as exc:
                log.warning("cannot save the identity: %s", exc)
                self._emit("error", exc)
                return
            self._identity = identity

    async def _save_side_storage(self, storage: dict[str, str]) -> None:
        if self._customer_store is not None:
            await self._customer_store.save_side_storage(storage)

    def _write_store(self, write: Awaitable[None]) -> None:
        """Run a store write in the background; its failure is an ``error`` event."""

        async def reported() -> None:
            try:
                await write
            except StoreError as exc:
                log.warning("a store write failed: %s", exc)
                self._emit("error", exc)

        task = asyncio.get_running_loop().create_task(reported())
        self._store_writes[task] = None
        task.add_done_callback(self._store_writes.pop)

    def _store_failed(self, error: StoreError) -> None:
        """The store cannot be opened: stop, and tell whoever waits why."""
        log.error("cannot open the store: %s", error)
        self._emit("error", error)
        self._requests.halt(error)
        self._wake_waiters(error)
        self._emit("disconnected", ev.Disconnected(reason="store_error"))

    async def _close_store(self) -> None:
        if self._store_writes:
            await asyncio.wait(set(self._store_writes))
        customer, self._customer_store = self._customer_store, None
        self._commits.store = None
        self._commits.forget()  # not committed: replayed by the next life
        if customer is not None:
            await customer.close()

    # Private methods ----------------------------------------------------------------

    def _current(self) -> bool:
        """Whether this is the engine's connection task.

        A task :meth:`stop` let go is not: it ends quietly.
        """
        return self._runner is not None and asyncio.current_task() is self._runner

    def _emit(self, name: str, payload: Any) -> None:
        if not self.closed or name == "disconnected":
            telemetry = self.options.telemetry
            if telemetry is not None:
                telemetry.event(name)
            self._listener.on_event(name, payload)
            if name == "new_event":  # every subscriber returned: handed out
                self._commits.handed_out(payload.chat, payload.thread, payload.event)

    def remember_chat(self, chat_id: str, active: bool) -> None:
        """Record what a method learned of a chat (bounded by ``MAX_CHATS``)."""
        self._remember_chat(chat_id, active)

    def _remember_chat(self, chat_id: str, active: bool) -> None:
        chats = self.active_chats
        chats.pop(chat_id, None)
        chats[chat_id] = active
        if len(chats) > MAX_CHATS:
            del chats[next(iter(chats))]

    def _attempt_failed(self, cause: LiveChatError) -> None:
        """Tell whoever asked to be told why the attempt failed (rule 7)."""
        if permanent_failure(cause):
            self._failure = self._requests.not_connected = cause
            self._refuse_requests(cause)
        elif isinstance(cause, TransportError):  # a login's error is the server's
            self._failure = self._requests.not_connected = cause
            if self.options.fail_fast and self.customer_id is None:
                self._refuse_requests(cause, every_waiter=False)
            else:
                self._wake_waiters(not_connected(cause), fail_fast_only=True)

    def _refuse_requests(
        self, cause: LiveChatError, *, every_waiter: bool = True
    ) -> None:
        """Fail waiting and new requests at once, until an attempt gets further."""
        error = not_connected(cause)
        self._refusal = error
        self._requests.halt(error)
        self._wake_waiters(error, fail_fast_only=not every_waiter)

    def _wake_waiters(
        self, error: LiveChatError | None, *, fail_fast_only: bool = False
    ) -> None:
        waiters = self._login_waiters
        for waiter, fail_fast in list(waiters.items()):
            if fail_fast_only and not fail_fast:
                continue
            del waiters[waiter]
            if not waiter.done():
                if error is None:
                    waiter.set_result(None)
                else:
                    waiter.set_exception(error)

    @staticmethod
    async def _finish(runner: asyncio.Task[None] | None) -> None:
        if runner is not None:  # its socket closes as it ends
            await asyncio.wait({runner})

    async def _release(self, stopped: Awaitable[None] | None) -> None:
        try:
            if stopped is not None:
                await stopped
        finally:
            try:
                await self._close_store()
            finally:
                await self._close_http()

    async def _close_http(self) -> None:
        if self._http is not None:
            http, self._http = self._http, None
            await http.close()

    def _invalidate_token(self) -> None:
        invalidate = getattr(self._token_provider, "invalidate", None)
        if callable(invalidate):
            invalidate()


def not_connected(
    cause: BaseException, what: str = "not connected"
) -> NotConnectedError:
    """The error of a wait or a request that no connection could serve."""
    error = NotConnectedError(f"{what}: {' '.join(str(cause).split())}")
    error.__cause__ = cause
    return error


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


_HELD: set[asyncio.Task[Any]] = set()
"""Closing tasks nobody may await: held here until done (the loop keeps only
weak references to its tasks)."""


def spawn_held(work: Awaitable[None], what: str) -> asyncio.Task[None] | None:
    """Run ``work`` as a task held until done, its errors logged.

    Returns ``None`` (and runs nothing) when no loop is running: then nothing was
    ever opened that needs closing.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        if asyncio.iscoroutine(work):
            work.close()
        return None

    async def logged() -> None:
        try:
            await work
        except Exception:  # nobody may be awaiting: never leave it unretrieved
            log.exception("error while the SDK was closing (%s)", what)

    task = loop.create_task(logged(), name=f"rxlivechat-{what}")
    _HELD.add(task)
    task.add_done_callback(_HELD.discard)
    return task


class Abandoned(Exception):
    """The outcome of a request whose caller stopped waiting (telemetry)."""


_ABANDONED = Abandoned("abandoned by its caller")


class _Gate:
    """One pass through the shared connect gate: entered once, left once."""

    __slots__ = ("_held", "_semaphore", "_telemetry")

    def __init__(
        self, semaphore: asyncio.Semaphore | None, telemetry: CustomerTelemetry | None
    ) -> None:
        self._semaphore = semaphore
        self._telemetry = telemetry
        self._held = False

    async def enter(self) -> None:
        if self._semaphore is None:
            return
        if self._telemetry is None:
            await self._semaphore.acquire()
        else:
            started = asyncio.get_running_loop().time()
            await self._semaphore.acquire()
            waited = asyncio.get_running_loop().time() - started
            self._telemetry.queue_waited("connect", waited)
        self._held = True

    def leave(self) -> None:
        if self._held:
            self._held = False
            assert self._semaphore is not None
            self._semaphore.release()


class _Stop(Exception):
    """Raised inside the connection task to stop for good, with the reason."""

    def __init__(self, reason: ev.Disconnected) -> None:
        super().__init__(reason.reason)
        self.reason = reason
