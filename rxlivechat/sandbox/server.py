"""The :class:`Sandbox`: the facade tests and tools hold, over the parts below.

It builds the parts, starts and stops the server, and is what test code calls
(customers, agents, seeded chats, faults, waits). The parts:

* :mod:`.store` (the state) and :mod:`.actions` (what each request does: pure);
* :mod:`.http` (the transports: RTM, Web API, accounts, files, middleware),
  which know the sandbox only as a :class:`~.http.host.Host`;
* :mod:`.agents` and :mod:`.console` (the agents' side), which know it only
  through their own narrow protocols.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
from collections.abc import Awaitable, Callable, Iterable, Sequence
from types import TracebackType
from typing import Any, Literal

from aiohttp import WSCloseCode, web

from ..protocol.base import PushPayload
from ..protocol.frames import API_VERSION
from ..protocol.limits import LIMITS
from ..protocol.pushes import DisconnectionData
from ._tls import SelfSignedCertificate
from .actions import Handlers, Outgoing
from .agents import ScriptedAgent
from .bounds import Bounds
from .console import Console
from .faults import FaultPlan, RequestLog
from .http.connection import Connection, Connections
from .http.replies import HTTP_STATUS
from .http.routes import RTM_PATH, make_app
from .ids import Clock, IdFactory
from .properties import PropertiesSpec, PropertyRegistry
from .records import ChatRecord, CustomerRecord
from .replay import Replay
from .roster import DEFAULT_AGENTS, RosterAgent, RosterGroup, staff
from .security import allowed_origin_set
from .store import SandboxState
from .tokens import IssuedToken, TokenRegistry
from .uploads import Uploads

__all__ = ["HTTP_STATUS", "Connection", "Sandbox"]

logger = logging.getLogger("rxlivechat.sandbox")

LISTEN_BACKLOG = 1024
"""Connections the kernel queues before the sandbox accepts them (capped by
``net.core.somaxconn``)."""


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
        bounds: how much any client can make the sandbox hold: customers,
            chats, events per thread, property sizes, sneak peeks, tokens and
            token grants per second (:class:`~.bounds.Bounds`; its defaults
            are in docs/sandbox-choices.md).
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
        bounds: Bounds | None = None,
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
        self.bounds = bounds or Bounds()
        """How much any client can make the sandbox hold."""
        self.store = SandboxState(
            self.ids, self.clock, organization_id=organization_id, bounds=self.bounds
        )
        """The state (pure; tests may read and change it directly)."""
        staff(self.store, agents, groups)
        self.handlers = Handlers(
            self.store,
            chats_per_customer=chats_per_customer,
            properties=PropertyRegistry(properties),
        )
        """The request handlers (pure)."""
        self.tokens = TokenRegistry(
            self.ids,
            ttl=token_ttl,
            max_tokens=self.bounds.tokens,
            max_identities=self.bounds.customers,
        )
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
        self.sockets = Connections()
        """The RTM sockets, open and closing (see :attr:`connections`)."""
        self.store.online = self._online
        self.stopping = asyncio.Event()
        """Set while the sandbox stops: requests held by a delay end at once."""
        self._agents: dict[str, ScriptedAgent] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self._runner: web.AppRunner | None = None
        self._certificate: SelfSignedCertificate | None = None

    @staticmethod
    def replay(
        cassette: str | os.PathLike[str],
        *,
        strict: bool = True,
        speed: float | Literal["instant"] = 1.0,
    ) -> Replay:
        """A server that plays ``cassette`` back (:class:`~.replay.Replay`).

        ``async with Sandbox.replay("session.jsonl") as replay:`` serves it;
        docs/howto/record-replay.md says how.
        """
        return Replay(cassette, strict=strict, speed=speed)

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
        self.stopping = asyncio.Event()
        app, middleware = make_app(self, self.console.app, self.max_body_bytes)
        runner = web.AppRunner(
            app,
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
        _ = self.spawn(middleware.close_idle_beyond_cap(runner.server))

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
        customer = self.new_customer(entity_id)
        return self.tokens.issue(customer.id, self.organization_id, ttl=ttl)

    def new_customer(self, customer_id: str | None = None) -> CustomerRecord:
        """Create a customer (no token); returns its record (the known one's)."""
        if customer_id is not None and customer_id in self.store.customers:
            return self.store.customers[customer_id]
        return self.store.new_customer(customer_id)

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
            agent = self._agents[record.id] = ScriptedAgent(
                self, record, inbox=self.bounds.agent_inbox
            )
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
        customer = self.new_customer(customer_id)
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
        return [c for c in self.sockets if not c.closing]

    def connections_of(self, customer_id: str) -> list[Connection]:
        """The logged-in connections of a customer."""
        return [c for c in self.sockets.of(customer_id) if not c.closing]

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
        for conn in self.sockets:
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
            for c in self.sockets
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
        await asyncio.gather(*(c.send(raw, binary=binary) for c in self.sockets))

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
        (docs/protocol.md §1.4, :mod:`.echoes`).
        """
        for out in pushes:
            customers = []
            for user_id in sorted(out.to):
                agent = self._agents.get(user_id)
                if agent is not None:
                    agent.receive(out.push)
                else:
                    customers.append(user_id)
            if isinstance(out.push, PushPayload):  # agent-side notices stop here
                await self.sockets.push(
                    out.push,
                    customers,
                    requester=requester,
                    request_id=request_id,
                    action=action,
                )

    def spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        """Run a coroutine as a tracked background task (ended by :meth:`close`)."""
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    def _online(self, customer_id: str) -> bool:
        return bool(self.sockets.of(customer_id))

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

    async def _stop(self, code: int) -> None:
        self.stopping.set()  # wakes requests held by delay_replies()
        for conn in self.sockets:
            conn.cancel_timers()
        await asyncio.gather(
            *(c.close(code=code) for c in self.sockets),
            return_exceptions=True,
        )
        # Give handlers a moment to see the client's close reply, then cut the rest.
        await self._wait_until(lambda: not len(self.sockets), timeout=1.0)
        for conn in self.sockets:
            conn.abort()
        tasks = list(self._background)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
