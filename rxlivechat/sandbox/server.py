"""The sandbox server: aiohttp.web glue around the pure store and handlers.

What it serves (all on one ``127.0.0.1`` port):

==============================================  ===================================
``GET /v3.6/customer/rtm/ws?organization_id=``  the RTM WebSocket (digest §1.3)
``POST|GET /v3.6/customer/action/<action>``     the Web API (JSON body; GET: query)
``/v3.5/customer/...``                          the same in v3.5 (:mod:`.versions`)
``POST /v2/customer/token``                     customer tokens (digest §7)
``DELETE /v2/customer/token``                   revoke the Bearer token
``GET /api/file/lc/att/<org>/<key>/<name>``     files uploaded with ``upload_file``
``GET /console/``                               the agent console (:mod:`.console`)
==============================================  ===================================

Rules:

1. All protocol decisions live in :mod:`.handlers` (pure); this module only
   moves bytes, keeps timers (login, ping, token expiry) and applies faults.
2. Frames are built from the shared types (:mod:`rxlivechat.protocol.frames`)
   and encoded by :mod:`rxlivechat.protocol.codec`; nothing here writes JSON
   by hand.
3. Each RTM request runs in its own task, so up to
   ``pending_requests_limit`` requests can be pending on one socket; one more
   is answered ``pending_requests_limit_reached`` at once.
4. Every task this module starts is tracked and ended by :meth:`Sandbox.close`.
5. Nothing an outsider sends can pin a resource for long (:mod:`.security`
   for who may connect): idle and half-open HTTP connections are closed after
   ``http_idle_timeout``, a body that stalls after ``http_body_timeout``, a
   socket whose peer stops reading after ``send_timeout``; bodies, frames, the
   request log and the uploads all have size limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import ssl
from collections.abc import Awaitable, Callable, Iterable, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import quote

import msgspec
from aiohttp import BodyPartReader, WSCloseCode, WSMessage, WSMsgType, web

from ..exceptions import (
    AuthenticationError,
    AuthorizationError,
    CustomerBannedError,
    EntityTooLargeError,
    LicenseNotFoundError,
    NotFoundError,
    ProtocolError,
    ServerError,
    ServerRequestTimeoutError,
    ServiceUnavailableError,
    UnsupportedVersionError,
    ValidationError,
    server_error,
)
from ..protocol import methods as m
from ..protocol.base import METHODS, EmptyResult, Method, PushPayload
from ..protocol.codec import decode, decode_request, encode, encode_frame
from ..protocol.frames import (
    API_VERSION,
    ErrorBody,
    ErrorResponse,
    Push,
    Request,
    Response,
    WebError,
)
from ..protocol.limits import LIMITS
from ..protocol.pushes import CustomerDisconnected, DisconnectionData
from ..protocol.tokens import OAuthError
from ._tls import SelfSignedCertificate
from .actions import Handlers, Outgoing
from .agents import ScriptedAgent
from .console import CONSOLE_PATH, Console
from .echoes import carries_request_id
from .faults import FaultPlan, RecordedRequest, RequestLog
from .ids import Clock, IdFactory
from .network import Link
from .properties import PropertiesSpec, PropertyRegistry
from .roster import DEFAULT_AGENTS, RosterAgent, RosterGroup, staff
from .security import (
    allowed_origin_set,
    file_headers,
    host_allowed,
    normalize_origin,
    own_origins,
    upload_content_type,
)
from .store import ChatRecord, CustomerRecord, Store, StoredFile
from .tokens import IssuedToken, TokenRegistry, strip_bearer
from .uploads import Uploads
from .versions import (
    LEGACY_UNTIL,
    SUPPORTED_VERSIONS,
    Subscription,
    adapt_result,
    knows_action,
    request_version,
)

__all__ = ["HTTP_STATUS", "Sandbox"]

logger = logging.getLogger("rxlivechat.sandbox")

HTTP_STATUS: dict[str, int] = {
    "validation": 400,
    "chat_inactive": 400,
    "chat_anonymized": 400,
    "limit_reached": 400,
    "chat_limit_reached": 400,
    "chat_already_active": 400,
    "customer_session_fields_limit_reached": 400,
    "group_offline": 400,
    "group_unavailable": 400,
    "groups_offline": 400,
    "not_allowed": 400,
    "unsupported_version": 400,
    "authentication": 401,
    "license_expired": 402,
    "authorization": 403,
    "customer_banned": 403,
    "wrong_product_version": 403,
    "users_limit_reached": 403,
    "not_found": 404,
    "license_not_found": 404,
    "group_not_found": 404,
    "greeting_not_found": 404,
    "entity_too_large": 413,
    "misdirected_request": 421,
    "too_many_requests": 429,
    "pending_requests_limit_reached": 429,
    "internal": 500,
    "service_unavailable": 503,
    "request_timeout": 504,
}
"""The HTTP status the Web API answers each error type with (the docs give none)."""

RTM_PATH = f"/v{API_VERSION}/customer/rtm/ws"
# Every version is routed; an unsupported one is refused with unsupported_version.
_RTM_ROUTE = "/v{version}/customer/rtm/ws"
_WEB_ROUTE = "/v{version}/customer/action/{action}"
TOKEN_PATH = "/v2/customer/token"
FILES_PATH = "/api/file/lc/att"
LISTEN_BACKLOG = 1024
"""Connections the kernel queues before the sandbox accepts them (capped by
``net.core.somaxconn``)."""
IDENTITY_COOKIE_AGE = 2 * 365 * 24 * 3600  # the Accounts API's cookies: 2 years
CORS_PREFLIGHT = {
    "Access-Control-Allow-Methods": "GET, POST, DELETE",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Max-Age": "600",
}

# Web actions that need no customer token (digest §1.2; the widget configuration
# reads are made before a customer exists, so the sandbox lets them through too).
_ANONYMOUS = frozenset(
    {
        "list_license_properties",
        "list_group_properties",
        "get_dynamic_configuration",
        "get_configuration",
        "get_localization",
    }
)


# The docs mark `version` required here, but it only names a cached copy: the
# sandbox serves its current configuration whatever is asked, and without one.
_VERSIONED_READS = frozenset({"get_configuration", "get_localization"})


class _TokenRequest(msgspec.Struct, kw_only=True):
    grant_type: str = ""
    client_id: str | None = None
    organization_id: str | None = None
    response_type: str | None = None
    entity_id: str | None = None
    redirect_uri: str | None = None
    code: str | None = None
    expires_in: int | None = None


# Connections ----------------------------------------------------------------------


class Connection:
    """One RTM WebSocket of a customer, as the server sees it.

    Attributes:
        customer_id: the logged-in customer, ``None`` before ``login``.
        token: the token it logged in with.
        pending: requests received and not answered yet.
    """

    def __init__(
        self,
        sandbox: Sandbox,
        ws: web.WebSocketResponse,
        request: web.Request,
        version: str = API_VERSION,
    ) -> None:
        self._sandbox = sandbox
        self.version = version
        """The API version of the socket's path (``/v3.5/`` or ``/v3.6/``)."""
        self._ws = ws
        self._transport = request.transport
        self.customer_id: str | None = None
        self.token: str | None = None
        self.pending = 0
        self.subscription = Subscription(version)
        """The pushes the client gets, and their versions (set at login)."""
        self.tasks: set[asyncio.Task[None]] = set()
        """The connection's own tasks: its requests and its links."""
        self._send_lock = asyncio.Lock()
        # The simulated network (Sandbox.latency), made on first use.
        self._inbound: Link[WSMessage] | None = None
        self._outbound: Link[tuple[bytes, WSMsgType]] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._expiry: asyncio.TimerHandle | None = None
        self.closing = False

    def __repr__(self) -> str:
        return f"<Connection customer={self.customer_id} pending={self.pending}>"

    @property
    def logged_in(self) -> bool:
        """Whether ``login`` succeeded on this socket."""
        return self.customer_id is not None

    # Public methods -----------------------------------------------------------------

    async def send(self, data: bytes, *, binary: bool = False) -> None:
        """Send one message (TEXT unless ``binary``); a closed socket drops it.

        A peer that stops reading holds sends back (TCP backpressure); one
        that lets a send wait ``send_timeout`` seconds is dropped. With
        latency set, the message is put on the link and this returns at once.
        """
        await self._send((data, WSMsgType.BINARY if binary else WSMsgType.TEXT))

    async def pong(self, data: bytes) -> None:
        """Answer an RFC 6455 ping (behind the messages already sent)."""
        await self._send((data, WSMsgType.PONG))

    def receive(
        self, message: WSMessage, handle: Callable[[WSMessage], Awaitable[None]]
    ) -> bool:
        """Put a received message on the link when latency is set.

        Returns:
            Whether the link took it (it reaches ``handle`` later); ``False``:
            handle it now.
        """
        if not self._delays(self._inbound):
            return False
        if self._inbound is None:
            self._inbound = self._link(handle)
        self._inbound.put(message)
        return True

    async def _send(self, frame: tuple[bytes, WSMsgType]) -> None:
        if self._ws.closed:
            return
        if self._delays(self._outbound):
            if self._outbound is None:
                self._outbound = self._link(self._write)
            self._outbound.put(frame)
            return
        await self._write(frame)

    async def _write(self, frame: tuple[bytes, WSMsgType]) -> None:
        try:
            async with asyncio.timeout(self._sandbox.send_timeout):
                async with self._send_lock:
                    with contextlib.suppress(ConnectionError, RuntimeError):
                        await self._ws.send_frame(*frame)
        except TimeoutError:
            logger.info("sandbox: %r stopped reading; dropped", self)
            self.abort()

    def _delays(self, link: Link[Any] | None) -> bool:
        """Whether a frame takes the link: latency is set, or frames are on it."""
        return any(self._sandbox.faults.latency) or (link is not None and link.busy)

    def _link(self, deliver: Callable[[Any], Awaitable[None]]) -> Link[Any]:
        def track(task: asyncio.Task[None]) -> None:
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

        return Link(deliver, self._sandbox.faults.frame_delay, track)

    def wants(self, push: str) -> bool:
        """Whether the client subscribed to this push (digest §1.5)."""
        return self.subscription.version_of(push) is not None

    async def disconnect(
        self,
        reason: str,
        data: DisconnectionData | None = None,
        *,
        code: int = WSCloseCode.OK,
    ) -> None:
        """Push ``customer_disconnected {reason}``, then close the socket."""
        if self.closing:
            return
        self.closing = True
        self.cancel_timers()
        push = CustomerDisconnected(reason=reason, data=data)
        await self.send(
            encode_frame(Push(action=push.action, payload=push, version=self.version))
        )
        await self.close(code=code, message=reason)

    async def close(self, *, code: int = WSCloseCode.OK, message: str = "") -> None:
        """Close the socket with a close frame (after the messages on the link)."""
        self.closing = True
        self.cancel_timers()
        try:
            async with asyncio.timeout(self._sandbox.send_timeout):
                if self._outbound is not None:
                    await self._outbound.drain()
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await self._ws.close(code=code, message=message.encode())
        except TimeoutError:
            self.abort()

    def abort(self) -> None:
        """Drop the TCP connection now: no close frame, no push.

        Messages still on the simulated link, either way, are lost with it.
        """
        self.closing = True
        self.cancel_timers()
        for link in (self._inbound, self._outbound):
            if link is not None:
                link.close()
        if self._transport is not None:
            self._transport.abort()

    def arm(self, delay: float, reason: str) -> None:
        """(Re)start the login or ping timer: after ``delay`` s, disconnect."""
        if self._timer is not None:
            self._timer.cancel()
        if self.closing:
            return
        self._timer = asyncio.get_running_loop().call_later(
            delay, self._sandbox.spawn_disconnect, self, reason
        )

    def arm_expiry(self, delay: float) -> None:
        """Disconnect with ``access_token_expired`` after ``delay`` s."""
        if self._expiry is not None:
            self._expiry.cancel()
        self._expiry = asyncio.get_running_loop().call_later(
            max(delay, 0.0),
            self._sandbox.spawn_disconnect,
            self,
            "access_token_expired",
        )

    def cancel_timers(self) -> None:
        """Stop the login/ping and expiry timers."""
        for timer in (self._timer, self._expiry):
            if timer is not None:
                timer.cancel()
        self._timer = self._expiry = None


# The sandbox ----------------------------------------------------------------------


class Sandbox:
    """A LiveChat-compatible Customer Chat API server on loopback.

    Use it as an async context manager::

        async with Sandbox() as sandbox:
            token = await sandbox.create_customer_token()
            ...

    Args:
        host: the address to bind (loopback only).
        port: the port; 0 picks a free one (kept across :meth:`restart`).
        login_timeout: seconds a new socket has to ``login`` (LiveChat: 30).
        ping_timeout: seconds without a ping after which a logged-in socket is
            dropped with ``customer_disconnected {reason: connection_timeout}``.
        token_ttl: lifetime of issued tokens in seconds (LiveChat: 28 800).
        tls: serve ``https``/``wss`` with a throwaway certificate.
        seed: seeds ids and other random choices (reproducible runs).
        organization_id: the organization's id (a seeded UUID when ``None``).
        chats_per_customer: chats ``start_chat`` allows per customer (1).
        properties: properties the license has besides LiveChat's default ones
            and the reference's ``test`` namespace, as an app registers them:
            ``{namespace: {name: "int" | PropertyDefinition}}`` (a bare type is
            readable and writable by customers in chats, threads and events).
            Writing an unregistered property is refused (``validation``).
        pending_requests_limit: requests in flight per socket (10).
        request_timeout: a reply delayed this long (by a fault) is answered
            ``request_timeout`` instead (LiveChat: 15 s).
        max_upload_bytes: ``upload_file`` limit (10 MB).
        agents: the agents online from the start (names or
            :class:`~.roster.RosterAgent`); one by default, ``[]`` for none.
        groups: the groups (:class:`~.roster.RosterGroup`); the default group
            0 is kept unless given.
        allowed_origins: browser origins (besides the sandbox's own) whose
            pages may call the sandbox, e.g. ``["http://localhost:3000"]``.
        http_idle_timeout: seconds an HTTP connection may sit without a whole
            request (silent, half-sent headers, idle keep-alive) before it is
            closed.
        http_body_timeout: seconds a request body may take to arrive (for
            uploads: between two chunks).
        send_timeout: seconds a send to a WebSocket may wait on a peer that
            does not read before the socket is dropped.
        max_frame_bytes: the largest RTM message accepted (1 MiB); a larger
            one closes the socket with 1009.
        max_body_bytes: the largest Web API or token request body (1 MiB);
            larger ones are answered 413 (uploads: ``max_upload_bytes``).
        upload_budget_bytes: bytes of uploaded files kept in all (100 MiB);
            the oldest are forgotten first and their URLs answer 404.
        request_log_entries: requests kept in :attr:`requests` (10 000).
        request_log_bytes: payload bytes kept in :attr:`requests` (16 MiB).
        max_idle_connections: HTTP connections kept without a request in
            progress (256); beyond that the oldest are closed, so a flood of
            silent connections cannot use up the process's file descriptors.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        login_timeout: float = 30.0,
        ping_timeout: float = 30.0,
        token_ttl: float = 28800,
        tls: bool = False,
        seed: int | str | None = None,
        organization_id: str | None = None,
        chats_per_customer: int = 1,
        properties: PropertiesSpec | None = None,
        pending_requests_limit: int = 10,
        request_timeout: float = 15.0,
        max_upload_bytes: int = LIMITS.upload_bytes,
        agents: Iterable[str | RosterAgent] = DEFAULT_AGENTS,
        groups: Iterable[RosterGroup] = (),
        allowed_origins: Sequence[str] = (),
        http_idle_timeout: float = 30.0,
        http_body_timeout: float = 30.0,
        send_timeout: float = 10.0,
        max_frame_bytes: int = 1024 * 1024,
        max_body_bytes: int = 1024 * 1024,
        upload_budget_bytes: int = 100 * 1024 * 1024,
        request_log_entries: int = 10_000,
        request_log_bytes: int = 16 * 1024 * 1024,
        max_idle_connections: int = 256,
    ) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the sandbox binds loopback addresses only")
        if upload_budget_bytes < max_upload_bytes:
            raise ValueError("upload_budget_bytes must hold one maximal upload")
        self.host = host
        self.port = port
        self.login_timeout = login_timeout
        """Seconds a new socket has to log in."""
        self.ping_timeout = ping_timeout
        """Seconds a logged-in socket may go without a ping."""
        self.tls = tls
        self.pending_requests_limit = pending_requests_limit
        self.request_timeout = request_timeout
        self.max_upload_bytes = max_upload_bytes
        self.allowed_origins = allowed_origin_set(allowed_origins)
        """Browser origins allowed besides the sandbox's own."""
        self.http_idle_timeout = http_idle_timeout
        self.http_body_timeout = http_body_timeout
        self.send_timeout = send_timeout
        self.max_frame_bytes = max_frame_bytes
        self.max_body_bytes = max_body_bytes
        self.max_idle_connections = max_idle_connections
        self.ids = IdFactory(seed)
        self.clock = Clock()
        self.store = Store(self.ids, self.clock, organization_id=organization_id)
        """The state (pure; tests may read and change it directly)."""
        staff(self.store, agents, groups)
        self.handlers = Handlers(
            self.store,
            chats_per_customer=chats_per_customer,
            properties=PropertyRegistry(properties),
        )
        """The request handlers (pure)."""
        self.tokens = TokenRegistry(self.ids, ttl=token_ttl)
        """Issued customer tokens."""
        self.faults = FaultPlan(seed=seed)
        """Injected faults; the fault methods below are shortcuts to it."""
        self.uploads = Uploads(self.store.files, upload_budget_bytes)
        """Uploaded files, within ``upload_budget_bytes``."""
        self.requests = RequestLog(
            max_entries=request_log_entries, max_bytes=request_log_bytes
        )
        """The requests received, oldest first, bounded (see :meth:`count`)."""
        self.console = Console(self)
        """The agent console, a web page at ``/console/`` (see :mod:`.console`)."""
        self._agents: dict[str, ScriptedAgent] = {}
        self._connections: set[Connection] = set()
        self._by_customer: dict[str, set[Connection]] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()
        self._certificate: SelfSignedCertificate | None = None
        self._in_request: dict[asyncio.BaseTransport, int] = {}
        """Transports with a request in a handler (WebSockets stay in one)."""

    # Lifecycle ----------------------------------------------------------------------

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        """Start serving (a free port is chosen when ``port`` is 0)."""
        if self.tls and self._certificate is None:
            self._certificate = await asyncio.to_thread(SelfSignedCertificate)
        self._stopping = asyncio.Event()
        runner = web.AppRunner(
            self._make_app(),
            access_log=None,
            handle_signals=False,
            shutdown_timeout=1.0,
            # Since aiohttp 3.14.5 this also closes a connection that has not
            # sent a whole request this long after it opened (silent or
            # half-sent headers), not only an idle keep-alive one.
            keepalive_timeout=self.http_idle_timeout,
            # A stalled body gets 408, then at most this long to go away.
            lingering_time=min(10.0, self.http_body_timeout),
        )
        await runner.setup()
        site = web.TCPSite(
            runner,
            self.host,
            self.port,
            ssl_context=(
                self._certificate.server_context() if self._certificate else None
            ),
            reuse_address=True,
            # Room for a burst of connects (1,000 customers at once): past
            # aiohttp's 128 the kernel drops SYNs, and each client so dropped
            # waits a one-second retransmit.
            backlog=LISTEN_BACKLOG,
        )
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        address = runner.addresses[0]
        self.port = int(address[1])
        assert runner.server is not None
        _ = self.spawn(self._close_idle_beyond_cap(runner.server))

    async def close(self) -> None:
        """Close every socket, end every task, stop serving, remove the certificate."""
        await self._stop(WSCloseCode.GOING_AWAY)
        if self._certificate is not None:
            self._certificate.cleanup()
            self._certificate = None

    async def restart(self) -> None:
        """Close every socket (code 1012) and serve again on the same port.

        State (customers, chats, tokens) is kept; connections are not.
        """
        await self._stop(WSCloseCode.SERVICE_RESTART)
        await self.start()

    # URLs ---------------------------------------------------------------------------

    @property
    def netloc(self) -> str:
        """``host:port``: what lc-sdk-python takes as its ``base_url``."""
        return f"{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """The API base URL, e.g. ``http://127.0.0.1:8080``."""
        return f"{'https' if self.tls else 'http'}://{self.netloc}"

    @property
    def accounts_url(self) -> str:
        """The Accounts API base URL (the same server)."""
        return self.api_url

    @property
    def ws_url(self) -> str:
        """The RTM WebSocket URL with the organization id."""
        scheme = "wss" if self.tls else "ws"
        return (
            f"{scheme}://{self.netloc}{RTM_PATH}?organization_id={self.organization_id}"
        )

    @property
    def organization_id(self) -> str:
        """The organization the sandbox serves."""
        return self.store.organization_id

    def action_url(self, action: str) -> str:
        """The Web API URL of an action, with the organization id."""
        return (
            f"{self.api_url}/v{API_VERSION}/customer/action/{action}"
            f"?organization_id={self.organization_id}"
        )

    def ssl_context_for_clients(self) -> ssl.SSLContext:
        """An SSL context that trusts the sandbox's certificate (TLS mode only).

        Raises:
            RuntimeError: the sandbox does not run with ``tls=True`` (or has not
                started yet).
        """
        if self._certificate is None:
            raise RuntimeError("the sandbox is not serving TLS")
        return self._certificate.client_context()

    @property
    def ca_file(self) -> str:
        """Path of the CA certificate (PEM) in TLS mode (for ``verify=`` options)."""
        if self._certificate is None:
            raise RuntimeError("the sandbox is not serving TLS")
        return str(self._certificate.ca_file)

    # Customers, agents, data ----------------------------------------------------------

    async def create_customer_token(
        self, entity_id: str | None = None, *, ttl: float | None = None
    ) -> IssuedToken:
        """Issue a customer token, as ``POST /v2/customer/token`` would.

        Args:
            entity_id: an existing (or new) customer id; a new customer when
                ``None``.
            ttl: lifetime in seconds (the sandbox's ``token_ttl`` by default).

        Returns:
            ``access_token``, ``entity_id``, ``expires_in``, ``token_type``,
            ``organization_id``.
        """
        customer = self._customer(entity_id)
        return self.tokens.issue(customer.id, self.organization_id, ttl=ttl)

    def new_customer(self, customer_id: str | None = None) -> CustomerRecord:
        """Create a customer (no token); returns its record."""
        return self._customer(customer_id)

    def agent(self, name: str, **details: Any) -> ScriptedAgent:
        """The scripted agent called ``name`` (created on first use).

        Args:
            name: the display name.
            **details: on creation: ``job_title``, ``avatar``, ``is_bot``,
                ``group_ids``.
        """
        record = self.store.agent_named(name)
        if record is None:
            record = self.store.new_agent(name, **details)
        agent = self._agents.get(record.id)
        if agent is None:
            agent = self._agents[record.id] = ScriptedAgent(self, record)
            # A new agent finds the active chats of its groups it is not in yet,
            # as if they had been waiting in the queue (see next_chat).
            for chat in self.store.chats.values():
                groups = set(chat.access.group_ids)
                reachable = 0 in groups or bool(groups & set(record.group_ids))
                if chat.active and reachable and record.id not in chat.present:
                    agent.waiting(chat.id)
        return agent

    def seed_chat(
        self,
        customer_id: str | None = None,
        *,
        threads: int = 1,
        events_per_thread: int = 1,
        chat_id: str | None = None,
        thread_ids: list[str] | None = None,
        agent: ScriptedAgent | None = None,
        active: bool = False,
    ) -> str:
        """Build a chat history directly (no sockets, no pushes); returns its id.

        Args:
            customer_id: the chat's customer (a new one when ``None``).
            threads: number of threads (closed, except the last with ``active``).
            events_per_thread: message events per thread.
            chat_id: the id to use; a new one when ``None``.
            thread_ids: ids for the first threads.
            agent: an agent who is in the chat and wrote every other message.
            active: leave the last thread open.
        """
        customer = self._customer(customer_id)
        chat: ChatRecord = self.store.seed_chat(
            customer.id,
            threads=threads,
            events_per_thread=events_per_thread,
            chat_id=chat_id,
            thread_ids=thread_ids,
            agent=None if agent is None else self.store.agents[agent.id],
            active=active,
        )
        return chat.id

    async def set_group_status(self, group_id: int, status: str) -> None:
        """Set a group ``online``/``online_for_queue``/``offline`` (pushes it)."""
        await self.deliver(self.handlers.set_group_status(group_id, status))

    async def set_queue_position(
        self, chat_id: str, position: int, wait_time: int = 60
    ) -> None:
        """Queue a chat's open thread: ``queue_position_updated``.

        Args:
            chat_id: the chat.
            position: its place in the queue (1 is next).
            wait_time: the estimated wait in seconds.
        """
        await self.deliver(
            self.handlers.set_queue_position(chat_id, position, wait_time)
        )

    async def multicast(self, content: Any, author_id: str | None = None) -> None:
        """Send ``incoming_multicast`` to every connected customer."""
        await self.deliver(self.handlers.multicast(content, author_id))

    def count(self, action: str | None = None, *, transport: str | None = None) -> int:
        """How many requests of ``action`` (and ``transport``) were received."""
        return self.requests.count(action, transport=transport)

    @property
    def connections(self) -> list[Connection]:
        """The open RTM connections."""
        return [c for c in self._connections if not c.closing]

    def connections_of(self, customer_id: str) -> list[Connection]:
        """The logged-in connections of a customer."""
        return [c for c in self._by_customer.get(customer_id, ()) if not c.closing]

    async def wait_for_login(
        self, customer_id: str | None = None, *, count: int = 1, timeout: float = 5.0
    ) -> None:
        """Wait until ``count`` sockets (of ``customer_id``, if given) are logged in.

        Raises:
            TimeoutError: not in time.
        """

        def enough() -> bool:
            live = [
                c
                for c in self.connections
                if c.logged_in and customer_id in (None, c.customer_id)
            ]
            return len(live) >= count

        if not await self._wait_until(enough, timeout=timeout):
            raise TimeoutError(f"fewer than {count} logged-in sockets")

    # Faults -------------------------------------------------------------------------

    async def drop_connections(self) -> None:
        """Drop every customer socket now: no close frame, no push."""
        for conn in list(self._connections):
            conn.abort()
        await asyncio.sleep(0)

    async def disconnect_customers(
        self,
        reason: str,
        data: DisconnectionData | None = None,
        *,
        customer_id: str | None = None,
    ) -> None:
        """Push ``customer_disconnected {reason, data}``, then close.

        Every socket, or only ``customer_id``'s.
        """
        targets = [
            c
            for c in list(self._connections)
            if customer_id is None or c.customer_id == customer_id
        ]
        await asyncio.gather(*(c.disconnect(reason, data) for c in targets))

    def delay_replies(self, seconds: float, action: str | None = None) -> None:
        """Handle requests of ``action`` (all when ``None``) ``seconds`` late; 0 clears.

        A delay of ``request_timeout`` or more is answered ``request_timeout``.
        """
        self.faults.delay(seconds, action)

    def fail_next(
        self, action: str, error_type: str, count: int = 1, message: str | None = None
    ) -> None:
        """Answer the next ``count`` requests of ``action`` with ``error_type``."""
        self.faults.fail(action, error_type, count, message)

    def latency(self, seconds: float, *, jitter: float = 0.0) -> None:
        """Put a network between the sandbox and its clients; 0 clears.

        Every RTM message, each way, arrives ``seconds`` late (plus up to
        ``jitter`` more, at random: seeded with ``seed``), in the order it was
        sent on its connection; HTTP requests and their answers are as late.
        Each connection waits on its own: other connections and the event loop
        are not held up. A connection that drops loses what was on the way.

        Raises:
            ValueError: a negative or non-finite figure.
        """
        self.faults.set_latency(seconds, jitter)

    def lose_replies(
        self, action: str | None = None, *, probability: float = 1.0
    ) -> None:
        """Apply RTM requests of ``action`` (all when ``None``), then lose the reply.

        With ``probability`` (each request rolls, seeded with ``seed``), the
        request is applied (its pushes reach the other recipients), then its
        connection drops before the reply, as when a network fails at the
        wrong moment: the client cannot know whether it was applied. An
        action's own setting wins over the one for all; probability 0 clears.

        Raises:
            ValueError: ``probability`` outside [0, 1], or ``action`` is not an
                RTM action.
        """
        self.faults.lose_replies(action, probability)

    async def send_raw(self, data: bytes | str, *, binary: bool = False) -> None:
        """Send raw data to every customer socket (malformed frames, for tests).

        Args:
            data: sent as one TEXT message (bytes as they are, even invalid UTF-8).
            binary: send a BINARY message instead.
        """
        raw = data.encode() if isinstance(data, str) else data
        await asyncio.gather(
            *(c.send(raw, binary=binary) for c in list(self._connections))
        )

    def refuse_connections(self, seconds: float) -> None:
        """Answer new WebSocket handshakes and HTTP requests 503 for ``seconds``."""
        self.faults.refuse(seconds)

    # Delivery -----------------------------------------------------------------------

    async def deliver(
        self,
        pushes: Iterable[Outgoing],
        *,
        requester: Connection | None = None,
        request_id: str | None = None,
        action: str | None = None,
    ) -> None:
        """Send pushes to their customers' connections and agents' inboxes.

        Each is stamped with the version the connection gets it in; the
        requester's copy of the push answering ``action`` carries ``request_id``
        (digest §1.4, :mod:`.echoes`).
        """
        for out in pushes:
            push = out.push
            plain: dict[str, bytes] = {}
            for user_id in sorted(out.to):
                agent = self._agents.get(user_id)
                if agent is not None:
                    agent.receive(push)
                    continue
                if not isinstance(push, PushPayload):
                    continue  # agent-side notices never reach customers
                for conn in list(self._by_customer.get(user_id, ())):
                    version = conn.subscription.version_of(push.action)
                    if conn.closing or version is None:
                        continue
                    echo = conn is requester and carries_request_id(action, push.action)
                    if echo:
                        data = encode_frame(
                            Push(
                                action=push.action,
                                payload=push,
                                request_id=request_id,
                                version=version,
                            )
                        )
                    else:
                        if version not in plain:
                            plain[version] = encode_frame(
                                Push(action=push.action, payload=push, version=version)
                            )
                        data = plain[version]
                    await conn.send(data)

    def spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        """Run a coroutine as a tracked background task (ended by :meth:`close`)."""
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    def spawn_disconnect(self, conn: Connection, reason: str) -> None:
        """Timer callback: disconnect ``conn`` with ``reason`` in a task."""
        _ = self.spawn(conn.disconnect(reason))

    # The app ------------------------------------------------------------------------

    async def _wait_until(
        self, condition: Callable[[], bool], *, timeout: float
    ) -> bool:
        """Poll ``condition`` (state changes in other tasks); False on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.005)
        return True

    def _make_app(self) -> web.Application:
        app = web.Application(
            middlewares=[
                self._guard_middleware,
                self._latency_middleware,
                self._refuse_middleware,
            ],
            client_max_size=self.max_body_bytes,
        )
        app.on_response_prepare.append(_no_sniffing)
        app.router.add_get(_RTM_ROUTE, self._rtm)
        app.router.add_route("*", _WEB_ROUTE, self._web)
        app.router.add_post(TOKEN_PATH, self._token)
        app.router.add_delete(TOKEN_PATH, self._revoke)
        app.router.add_post(
            "/v2/customer/{organization_id}/{group_id}/token", self._token
        )
        app.router.add_get(FILES_PATH + "/{org}/{key}/{name}", self._file)
        app.add_subapp(CONSOLE_PATH, self.console.app())
        return app

    @web.middleware
    async def _guard_middleware(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        """Note the request as in progress (see the idle cap), then check it."""
        transport = request.transport
        if transport is None:  # the client is already gone
            return await handler(request)
        self._in_request[transport] = self._in_request.get(transport, 0) + 1
        try:
            return await self._guarded(request, handler)
        finally:
            if (left := self._in_request.pop(transport) - 1) > 0:
                self._in_request[transport] = left

    async def _guarded(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        """Serve only requests that name the sandbox, from pages it trusts.

        Pages of the configured widget origins also get CORS answers, so a
        widget in the browser can fetch tokens and call the Web API.
        """
        if not host_allowed(request.headers.get("Host"), self.port):
            return _error_response(AuthorizationError("Unknown Host"))
        origin = request.headers.get("Origin")
        if origin is None:
            return await handler(request)
        origin = normalize_origin(origin)
        if origin not in own_origins(self.port, tls=self.tls) | self.allowed_origins:
            return _error_response(AuthorizationError("Origin not allowed"))
        preflight = (
            request.method == "OPTIONS"
            and "Access-Control-Request-Method" in request.headers
        )
        if preflight:
            response: web.StreamResponse = web.Response(
                status=204, headers=CORS_PREFLIGHT
            )
        else:
            response = await handler(request)
        if origin in self.allowed_origins and not response.prepared:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
            response.headers["Vary"] = "Origin"
        return response

    async def _close_idle_beyond_cap(self, server: web.Server) -> None:
        """Keep at most ``max_idle_connections`` connections outside a request.

        Timeouts bound how long a silent connection lives; this bounds how
        many there are, oldest closed first.
        """
        opened: dict[Any, float] = {}
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(0.25)
            handlers = server.connections
            now = loop.time()
            opened = {h: opened.get(h, now) for h in handlers}
            idle = [h for h in handlers if h.transport not in self._in_request]
            excess = len(idle) - self.max_idle_connections
            for handler in sorted(idle, key=opened.__getitem__)[: max(excess, 0)]:
                handler.force_close()

    @web.middleware
    async def _latency_middleware(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        """Hold HTTP requests, and their answers, for the latency (if set)."""
        if any(self.faults.latency):
            await asyncio.sleep(self.faults.frame_delay())
        response = await handler(request)
        # (A WebSocket's answer went out at its handshake: it is prepared.)
        if any(self.faults.latency) and not response.prepared:
            await asyncio.sleep(self.faults.frame_delay())
        return response

    @web.middleware
    async def _refuse_middleware(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        if self.faults.refusing:
            return _error_response(
                server_error("service_unavailable", "Service unavailable")
            )
        return await handler(request)

    async def _stop(self, code: int) -> None:
        self._stopping.set()  # wakes requests held by delay_replies()
        for conn in list(self._connections):
            conn.cancel_timers()
        await asyncio.gather(
            *(c.close(code=code) for c in list(self._connections)),
            return_exceptions=True,
        )
        # Give handlers a moment to see the client's close reply, then cut the rest.
        await self._wait_until(lambda: not self._connections, timeout=1.0)
        for conn in list(self._connections):
            conn.abort()
        tasks = list(self._background)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    # RTM ----------------------------------------------------------------------------

    async def _rtm(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(
            autoping=False,
            timeout=2.0,
            max_msg_size=self.max_frame_bytes,
            decode_text=False,
        )
        version = request.match_info["version"]
        supported = version in SUPPORTED_VERSIONS
        if version in LEGACY_UNTIL:
            ws.headers["Legacy"] = LEGACY_UNTIL[version]
        try:
            await ws.prepare(request)
        except ConnectionResetError:  # the client left (say, during the latency)
            return ws
        conn = Connection(self, ws, request, version if supported else API_VERSION)
        self._connections.add(conn)
        try:
            if not supported:
                await conn.disconnect(
                    "unsupported_version", code=WSCloseCode.POLICY_VIOLATION
                )
                return ws
            if request.query.get("organization_id") != self.organization_id:
                # Unknown organization: refuse with the §3.1 reason, then close.
                await conn.disconnect(
                    "license_not_found", code=WSCloseCode.POLICY_VIOLATION
                )
                return ws
            conn.arm(self.login_timeout, "connection_timeout")
            handle = functools.partial(self._on_message, conn)
            async for msg in ws:
                if not conn.receive(msg, handle):
                    await handle(msg)
        finally:
            conn.closing = True
            conn.cancel_timers()
            for task in list(conn.tasks):
                task.cancel()
            await asyncio.gather(*conn.tasks, return_exceptions=True)
            self._forget(conn)
        return ws

    async def _on_message(self, conn: Connection, msg: WSMessage) -> None:
        """One message off the socket (or off the link, with latency set)."""
        if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
            await self._on_frame(conn, msg.data)
        elif msg.type is WSMsgType.PING:
            # An RFC 6455 ping counts as the protocol ping (§1.3).
            await conn.pong(msg.data)
            if conn.logged_in and not conn.closing:
                conn.arm(self.ping_timeout, "connection_timeout")

    def _forget(self, conn: Connection) -> None:
        self._connections.discard(conn)
        if conn.customer_id is not None:
            peers = self._by_customer.get(conn.customer_id)
            if peers is not None:
                peers.discard(conn)
                if not peers:
                    del self._by_customer[conn.customer_id]

    async def _on_frame(self, conn: Connection, data: bytes | str) -> None:
        try:
            req = decode_request(data)
        except (ProtocolError, RecursionError) as error:
            # msgspec raises RecursionError for JSON nested too deep.
            exc = error
            if not isinstance(exc, ProtocolError):
                exc = ProtocolError(str(error))
            self.requests.append(
                RecordedRequest(
                    "rtm", exc.action or "", None, conn.customer_id, exc.request_id
                )
            )
            await conn.send(
                encode_frame(
                    ErrorResponse(
                        action=exc.action or "",
                        error=ErrorBody(type="validation", message=str(exc)),
                        request_id=exc.request_id,
                    )
                )
            )
            return
        # Before login only login and ping are served: anything else is
        # recorded without its payload (an outsider's flood must not fill memory).
        refused = not conn.logged_in and req.action not in ("login", "ping")
        self.requests.append(
            RecordedRequest(
                "rtm",
                req.action,
                None if refused else req.payload,
                conn.customer_id,
                req.request_id,
                size=len(data),
            )
        )
        if req.action == "ping" and conn.logged_in and not conn.closing:
            conn.arm(self.ping_timeout, "connection_timeout")
        if conn.pending >= self.pending_requests_limit:
            await self._reply_error(
                conn,
                req,
                server_error(
                    "pending_requests_limit_reached", "Requests limit reached"
                ),
            )
            return
        conn.pending += 1
        task = asyncio.ensure_future(self._process(conn, req))
        conn.tasks.add(task)
        task.add_done_callback(conn.tasks.discard)

    async def _process(self, conn: Connection, req: Request[Method[Any]]) -> None:
        pushes: list[Outgoing] = []
        try:
            await self._apply_delay(req.action)
            forced = self.faults.take_failure(req.action)
            if forced is not None:
                raise server_error(*forced)
            result, pushes = self._dispatch_rtm(conn, req)
            frame = encode_frame(
                Response(action=req.action, payload=result, request_id=req.request_id)
            )
        except ServerError as exc:
            frame = _error_frame(req, exc)
        except Exception:
            logger.exception("sandbox: %s failed", req.action)
            frame = _error_frame(req, server_error("internal", "Internal server error"))
        try:
            if self.faults.loses_reply(req.action):
                # Applied, but the connection drops before the reply (and
                # before the requester's own pushes): the other recipients
                # still get theirs, in a task the cut connection cannot cancel.
                logger.info("sandbox: %s applied; its reply is lost", req.action)
                conn.abort()
                _ = self.spawn(self.deliver(pushes))
                return
            await conn.send(frame)
        finally:
            conn.pending -= 1
        await self.deliver(
            pushes, requester=conn, request_id=req.request_id, action=req.action
        )

    async def _apply_delay(self, action: str) -> None:
        delay = self.faults.delay_for(action)
        if delay <= 0:
            return
        try:  # sleep, but end at once when the sandbox stops (nothing left behind)
            await asyncio.wait_for(
                self._stopping.wait(), min(delay, self.request_timeout)
            )
        except TimeoutError:
            if delay >= self.request_timeout:
                raise ServerRequestTimeoutError("Request timed out") from None
            return
        raise ServiceUnavailableError("the sandbox is shutting down")

    def _dispatch_rtm(
        self, conn: Connection, req: Request[Method[Any]]
    ) -> tuple[Any, list[Outgoing]]:
        method = req.payload
        version = request_version(req.version, conn.version)
        if not knows_action(version, req.action):
            raise ValidationError(f"Unknown action: {req.action}")
        if not type(method).rtm:
            raise ValidationError(f"Action {req.action} is not available on RTM")
        if conn.closing:
            raise server_error("service_unavailable", "Connection is closing")
        if isinstance(method, m.Login):
            return self._login(conn, method)
        if isinstance(method, m.Ping):
            return EmptyResult(), []
        if conn.customer_id is None:
            # Only login and ping before login (§10); the type is (inferred).
            raise AuthorizationError("Not logged in")
        outcome = self.handlers.handle(conn.customer_id, method)
        return adapt_result(req.action, outcome.result, version), outcome.pushes

    def _login(self, conn: Connection, login: m.Login) -> tuple[Any, list[Outgoing]]:
        if conn.customer_id is not None:
            raise ValidationError("Already logged in")
        customer_id = self.tokens.check(login.token, self.organization_id)
        if customer_id is None:
            raise AuthenticationError("Invalid access token")
        customer = self.handlers.login_customer(customer_id)
        if customer.banned:
            raise CustomerBannedError("Customer is banned")
        subscription = Subscription(conn.version, login.pushes)
        outcome = self.handlers.handle(customer_id, login)
        conn.customer_id = customer_id
        conn.token = strip_bearer(login.token)
        conn.subscription = subscription
        self._by_customer.setdefault(customer_id, set()).add(conn)
        conn.arm(self.ping_timeout, "connection_timeout")
        expires_at = self.tokens.expires_at(conn.token)
        if expires_at is not None:
            conn.arm_expiry((expires_at - self.clock.now()).total_seconds())
        return outcome.result, outcome.pushes

    async def _reply_error(
        self, conn: Connection, req: Request[Method[Any]], exc: ServerError
    ) -> None:
        await conn.send(_error_frame(req, exc))

    # Web API ------------------------------------------------------------------------

    async def _web(self, request: web.Request) -> web.StreamResponse:
        version = request.match_info["version"]
        response = await self._web_action(request, version)
        if version in LEGACY_UNTIL:
            response.headers["Legacy"] = LEGACY_UNTIL[version]
        return response

    async def _web_action(
        self, request: web.Request, version: str
    ) -> web.StreamResponse:
        action = request.match_info["action"]
        method_type = METHODS.get(action)
        customer_id: str | None = None
        try:
            if version not in SUPPORTED_VERSIONS:
                self.requests.append(RecordedRequest("web", action, None, None))
                raise UnsupportedVersionError("Cannot call unsupported API versions.")
            if (
                method_type is None
                or method_type.web is None
                or not knows_action(version, action)
            ):
                self.requests.append(RecordedRequest("web", action, None, None))
                # The Web API's error list has no not_found (customer-chat-api
                # index.mdx, "Possible errors"): validation, as over RTM.
                raise ValidationError(f"Unknown action: {action}")
            if request.method != method_type.web:
                self.requests.append(RecordedRequest("web", action, None, None))
                raise ValidationError(f"Use {method_type.web} for {action}")
            if request.query.get("organization_id") != self.organization_id:
                self.requests.append(RecordedRequest("web", action, None, None))
                raise LicenseNotFoundError("License not found")
            customer_id = self._web_customer(request, action)
            if action == "upload_file":
                self.requests.append(RecordedRequest("web", action, None, customer_id))
                await self._apply_delay(action)
                self._raise_forced(action)
                assert customer_id is not None
                result: Any = await self._upload(request, customer_id)
                return _json_response(result)
            payload, size = await self._web_payload(request, method_type)
            self.requests.append(
                RecordedRequest("web", action, payload, customer_id, size=size)
            )
            await self._apply_delay(action)
            self._raise_forced(action)
            outcome = self.handlers.handle(customer_id, payload)
        except ServerError as exc:
            return _error_response(exc)
        await self.deliver(outcome.pushes)
        return _json_response(adapt_result(action, outcome.result, version))

    def _web_customer(self, request: web.Request, action: str) -> str | None:
        header = request.headers.get("Authorization")
        customer_id = None
        if header:
            customer_id = self.tokens.check(header, self.organization_id)
        if customer_id is None and action not in _ANONYMOUS:
            raise AuthenticationError("Invalid access token")
        if customer_id is not None:
            customer = self.handlers.login_customer(customer_id)
            if customer.banned:
                raise CustomerBannedError("Customer is banned")
        return customer_id

    async def _web_payload(
        self, request: web.Request, method_type: type[Method[Any]]
    ) -> tuple[Method[Any], int]:
        """The request's method and its size in bytes."""
        if request.method == "GET":
            params = {k: v for k, v in request.query.items() if k != "organization_id"}
            if method_type.action in _VERSIONED_READS:
                params.setdefault("version", "latest")
            try:
                method: Method[Any] = msgspec.convert(params, method_type, strict=False)
                return method, len(request.query_string)
            except msgspec.ValidationError as exc:
                raise ValidationError(str(exc)) from None
        body = await self._read_body(request)
        try:
            return decode(body or b"{}", method_type), len(body)
        except (ProtocolError, RecursionError) as exc:
            raise ValidationError(str(exc)) from None

    async def _read_body(self, request: web.Request) -> bytes:
        """The whole body, within ``max_body_bytes`` and ``http_body_timeout``.

        Raises:
            web.HTTPRequestEntityTooLarge: the body is over the limit (413).
            web.HTTPRequestTimeout: it stalled; the connection is closed (408).
        """
        try:
            async with asyncio.timeout(self.http_body_timeout):
                return await request.read()
        except TimeoutError:
            raise _timed_out(request) from None

    def _raise_forced(self, action: str) -> None:
        forced = self.faults.take_failure(action)
        if forced is not None:
            raise server_error(*forced)

    async def _upload(
        self, request: web.Request, customer_id: str
    ) -> m.UploadFileResult:
        try:  # no gap of http_body_timeout between two reads
            async with asyncio.timeout(self.http_body_timeout) as deadline:
                stored = await self._read_upload(request, customer_id, deadline)
        except TimeoutError:
            raise _timed_out(request) from None
        except ValueError as exc:  # aiohttp: a malformed multipart body
            raise ValidationError(f"Malformed multipart body: {exc}") from None
        url = (
            f"{self.api_url}{FILES_PATH}/{self.organization_id}/{stored.key}/"
            f"{quote(stored.name)}"
        )
        try:
            self.uploads.add(url, stored)
        except ValueError:  # larger than the whole budget
            raise EntityTooLargeError("Upload limit exceeded (10MB).") from None
        return m.UploadFileResult(url=url)

    async def _read_upload(
        self, request: web.Request, customer_id: str, deadline: asyncio.Timeout
    ) -> StoredFile:
        def progress() -> None:
            loop = asyncio.get_running_loop()
            deadline.reschedule(loop.time() + self.http_body_timeout)

        if not request.content_type.startswith("multipart/"):
            raise ValidationError("upload_file needs multipart/form-data")
        if (request.content_length or 0) > self.max_upload_bytes + 64 * 1024:
            await _drain(request, self.max_upload_bytes, progress)
            raise EntityTooLargeError("Upload limit exceeded (10MB).")
        reader = await request.multipart()
        stored: StoredFile | None = None
        while (part := await reader.next()) is not None:
            progress()
            if stored is not None or getattr(part, "name", None) != "file":
                await part.release()
                continue
            if not isinstance(part, BodyPartReader):
                raise ValidationError("The file part cannot be multipart itself")
            name = part.filename or "file"
            try:
                content_type = upload_content_type(
                    part.headers.get("Content-Type"), name
                )
            except ValueError as exc:
                await _drain(request, self.max_upload_bytes, progress)
                raise ValidationError(str(exc)) from None
            data = bytearray()
            while chunk := await part.read_chunk(64 * 1024):
                progress()
                data += chunk
                if len(data) > self.max_upload_bytes:
                    await _drain(request, self.max_upload_bytes, progress)
                    raise EntityTooLargeError("Upload limit exceeded (10MB).")
            stored = StoredFile(
                key=self.ids.file_key(),
                name=name,
                content_type=content_type,
                data=bytes(data),
                customer_id=customer_id,
            )
        if stored is None:
            raise ValidationError("upload_file needs a multipart part named 'file'")
        return stored

    async def _file(self, request: web.Request) -> web.StreamResponse:
        stored = None
        if request.match_info["org"] == self.organization_id:
            stored = self.uploads.find(
                request.match_info["key"], request.match_info["name"]
            )
        if stored is None:  # unknown, foreign, or evicted to keep the budget
            return _error_response(NotFoundError("File not found"))
        content_type, headers = file_headers(stored.content_type, stored.name)
        response = web.Response(body=stored.data, headers=headers)
        response.headers["Content-Type"] = content_type
        return response

    # Accounts -----------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.StreamResponse:
        body = await self._read_body(request)
        try:
            if request.content_type == "application/x-www-form-urlencoded":
                form = await request.post()
                token_request = msgspec.convert(
                    {k: v for k, v in form.items() if isinstance(v, str)},
                    _TokenRequest,
                    strict=False,
                )
            else:
                token_request = msgspec.json.decode(body or b"{}", type=_TokenRequest)
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as exc:
            return _oauth_error("invalid_request", str(exc))
        organization_id = request.match_info.get(
            "organization_id", token_request.organization_id
        )
        self.requests.append(
            RecordedRequest(
                "accounts",
                token_request.grant_type,
                token_request,
                None,
                size=len(body),
            )
        )
        if not token_request.client_id:
            return _oauth_error("invalid_request", "client_id is required")
        ttl = token_request.expires_in
        if ttl is not None and not 1 <= ttl <= self.tokens.max_ttl:
            return _oauth_error(
                "invalid_request",
                f"expires_in must be 1 to {self.tokens.max_ttl} seconds",
            )
        if token_request.grant_type == "cookie":
            if organization_id != self.organization_id:
                return _oauth_error("invalid_request", "unknown organization_id")
            # The customer id is no secret (it is in every chat): the identity
            # also needs its secret cookie, else this is a new customer.
            cookie_id = request.cookies.get("__lc_cid")
            known = self.tokens.check_identity(
                cookie_id, request.cookies.get("__lc_cst")
            )
            customer = self._customer(cookie_id if known else None)
        elif token_request.grant_type == "agent_token":
            agent_token = request.headers.get("Authorization", "")
            if self.tokens.check_agent(agent_token) is None:
                return _oauth_error(
                    "unauthorized", "a sandbox agent's token is required", status=401
                )
            if organization_id not in (None, self.organization_id):
                return _oauth_error("invalid_request", "unknown organization_id")
            entity_id = token_request.entity_id
            if entity_id is not None and entity_id not in self.store.customers:
                return _oauth_error("invalid_request", "entity_id not found")
            customer = self._customer(entity_id)
        else:
            return _oauth_error(
                "unsupported_grant_type",
                f"grant_type {token_request.grant_type!r} is not supported",
            )
        issued = self.tokens.issue(
            customer.id,
            self.organization_id,
            ttl=ttl,
            client_id=(
                token_request.client_id
                if token_request.grant_type == "agent_token"
                else None
            ),
        )
        response = _json_response(issued)
        if token_request.grant_type == "cookie":
            # Both renewed on every call (digest §7); Secure only over TLS.
            for name, value in (
                ("__lc_cid", customer.id),
                ("__lc_cst", self.tokens.identity_secret(customer.id)),
            ):
                response.set_cookie(
                    name,
                    value,
                    httponly=True,
                    secure=self.tls,
                    max_age=IDENTITY_COOKIE_AGE,
                )
        return response

    async def _revoke(self, request: web.Request) -> web.StreamResponse:
        token = strip_bearer(request.headers.get("Authorization", ""))
        if not self.tokens.revoke(token):
            return _oauth_error("invalid_request", "unknown token", status=401)
        for conn in list(self._connections):
            if conn.token == token:
                self.spawn_disconnect(conn, "access_token_revoked")
        return web.Response(status=204)

    # Helpers ------------------------------------------------------------------------

    def _customer(self, customer_id: str | None) -> CustomerRecord:
        if customer_id is not None and customer_id in self.store.customers:
            return self.store.customers[customer_id]
        return self.store.new_customer(customer_id)


def _error_frame(req: Request[Method[Any]], exc: ServerError) -> bytes:
    return encode_frame(
        ErrorResponse(
            action=req.action,
            error=ErrorBody(type=exc.error_type, message=exc.message, data=exc.data),
            request_id=req.request_id,
        )
    )


def _json_response(value: Any, *, status: int = 200) -> web.Response:
    return web.Response(
        body=encode(value), status=status, content_type="application/json"
    )


def _error_response(exc: ServerError) -> web.Response:
    body = WebError(ErrorBody(type=exc.error_type, message=exc.message, data=exc.data))
    return _json_response(body, status=HTTP_STATUS.get(exc.error_type, 400))


def _oauth_error(kind: str, description: str, *, status: int = 400) -> web.Response:
    return _json_response(OAuthError(kind, description), status=status)


async def _drain(
    request: web.Request, limit: int, progress: Callable[[], None]
) -> None:
    """Read and drop up to ``limit`` more bytes, so the client sees the reply.

    A body longer than that is left to aiohttp's lingering close.
    """
    while limit > 0 and (chunk := await request.content.readany()):
        limit -= len(chunk)
        progress()


def _timed_out(request: web.Request) -> web.HTTPRequestTimeout:
    """408 for a body that stalled; the connection is not reused."""
    logger.info("sandbox: a request body to %s stalled", request.path)
    answer = web.HTTPRequestTimeout(text="The request body stalled")
    answer.force_close()
    return answer


async def _no_sniffing(request: web.Request, response: web.StreamResponse) -> None:
    """Browsers must take every response for the type it declares."""
    response.headers["X-Content-Type-Options"] = "nosniff"
