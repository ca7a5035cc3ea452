"""One RTM socket as the server sees it, and the registry of them all."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator
from typing import Any

from aiohttp import WSCloseCode, WSMessage, WSMsgType, web

from ...protocol.base import PushPayload
from ...protocol.codec import encode_frame
from ...protocol.frames import API_VERSION, Push
from ...protocol.pushes import CustomerDisconnected, DisconnectionData
from ..echoes import carries_request_id
from ..faults import FaultPlan
from ..network import Link
from ..versions import Subscription

__all__ = ["Connection", "Connections"]

logger = logging.getLogger("rxlivechat.sandbox")


class Connection:
    """One RTM WebSocket of a customer, as the server sees it.

    Attributes:
        customer_id: the logged-in customer, ``None`` before ``login``.
        token: the token it logged in with.
        pending: requests received and not answered yet.


    Args:
        ws: the socket.
        request: its handshake (for the transport to abort).
        version: the API version of the socket's path.
        faults: the fault plan (its latency puts a link on the socket).
        send_timeout: seconds a send may wait on a peer that does not read.
        spawn: runs a coroutine as a tracked task (the timers' disconnects).
    """

    def __init__(
        self,
        ws: web.WebSocketResponse,
        request: web.Request,
        version: str = API_VERSION,
        *,
        faults: FaultPlan,
        send_timeout: float,
        spawn: Callable[[Coroutine[Any, Any, None]], object],
    ) -> None:
        self._faults = faults
        self._send_timeout = send_timeout
        self._spawn = spawn
        self.version = version
        """The API version of the socket's path (``/v3.5/`` to ``/v3.7/``)."""
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
            async with asyncio.timeout(self._send_timeout):
                async with self._send_lock:
                    with contextlib.suppress(ConnectionError, RuntimeError):
                        await self._ws.send_frame(*frame)
        except TimeoutError:
            logger.info("sandbox: %r stopped reading; dropped", self)
            self.abort()

    def _delays(self, link: Link[Any] | None) -> bool:
        """Whether a frame takes the link: latency is set, or frames are on it."""
        return any(self._faults.latency) or (link is not None and link.busy)

    def _link(self, deliver: Callable[[Any], Awaitable[None]]) -> Link[Any]:
        def track(task: asyncio.Task[None]) -> None:
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

        return Link(deliver, self._faults.frame_delay, track)

    def wants(self, push: str) -> bool:
        """Whether the client subscribed to this push (docs/protocol.md §1.5)."""
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
            async with asyncio.timeout(self._send_timeout):
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
            delay, self._disconnect_later, reason
        )

    def arm_expiry(self, delay: float) -> None:
        """Disconnect with ``access_token_expired`` after ``delay`` s."""
        if self._expiry is not None:
            self._expiry.cancel()
        self._expiry = asyncio.get_running_loop().call_later(
            max(delay, 0.0), self._disconnect_later, "access_token_expired"
        )

    def cancel_timers(self) -> None:
        """Stop the login/ping and expiry timers."""
        for timer in (self._timer, self._expiry):
            if timer is not None:
                timer.cancel()
        self._timer = self._expiry = None

    # The sandbox ----------------------------------------------------------------------

    def _disconnect_later(self, reason: str) -> None:
        """Timer callback: disconnect with ``reason`` in a task."""
        self._spawn(self.disconnect(reason))


class Connections:
    """The RTM sockets of a sandbox, open and closing, and by logged-in customer."""

    def __init__(self) -> None:
        self._all: set[Connection] = set()
        self._by_customer: dict[str, set[Connection]] = {}

    def __len__(self) -> int:
        return len(self._all)

    def __iter__(self) -> Iterator[Connection]:
        return iter(list(self._all))

    def add(self, conn: Connection) -> None:
        """A new socket (not logged in yet)."""
        self._all.add(conn)

    def logged_in(self, conn: Connection) -> None:
        """``conn`` logged in: its customer's pushes reach it from now on."""
        assert conn.customer_id is not None
        self._by_customer.setdefault(conn.customer_id, set()).add(conn)

    def of(self, customer_id: str) -> list[Connection]:
        """The logged-in sockets of a customer (closing ones too)."""
        return list(self._by_customer.get(customer_id, ()))

    async def push(
        self,
        push: PushPayload,
        customer_ids: Iterable[str],
        *,
        requester: Connection | None = None,
        request_id: str | None = None,
        action: str | None = None,
    ) -> None:
        """Send a push to every socket of these customers that subscribed to it.

        Each copy is stamped with the version its socket gets it in; the
        requester's copy of the push answering ``action`` carries ``request_id``
        (docs/protocol.md §1.4, :mod:`..echoes`).
        """
        plain: dict[str, bytes] = {}  # one encoding per version
        for customer_id in customer_ids:
            for conn in self.of(customer_id):
                version = conn.subscription.version_of(push.action)
                if conn.closing or version is None:
                    continue
                if conn is requester and carries_request_id(action, push.action):
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

    def forget(self, conn: Connection) -> None:
        """The socket ended."""
        self._all.discard(conn)
        if conn.customer_id is not None:
            peers = self._by_customer.get(conn.customer_id)
            if peers is not None:
                peers.discard(conn)
                if not peers:
                    del self._by_customer[conn.customer_id]
