"""The RTM WebSocket: login, ping, one task per request (docs/protocol.md §1.3).

Each RTM request runs in its own task, so up to ``pending_requests_limit``
requests can be pending on one socket; one more is answered
``pending_requests_limit_reached`` at once. Before login only ``login`` and
``ping`` are served; an RFC 6455 ping counts as the protocol's ping.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

from aiohttp import WSCloseCode, WSMessage, WSMsgType, web

from ...exceptions import (
    AuthenticationError,
    AuthorizationError,
    CustomerBannedError,
    ProtocolError,
    ServerError,
    ValidationError,
    server_error,
)
from ...protocol import methods as m
from ...protocol.base import EmptyResult, Method
from ...protocol.codec import decode_request, encode_frame
from ...protocol.frames import API_VERSION, ErrorBody, ErrorResponse, Request, Response
from ..actions import Outgoing
from ..faults import RecordedRequest
from ..tokens import strip_bearer
from ..versions import (
    LEGACY_UNTIL,
    SUPPORTED_VERSIONS,
    Subscription,
    adapt_result,
    missing_action,
    request_version,
)
from .connection import Connection
from .host import Host
from .replies import error_frame, hold, raise_forced

__all__ = ["Rtm"]

logger = logging.getLogger("rxlivechat.sandbox")


class Rtm:
    """The RTM endpoint (``GET /v{version}/customer/rtm/ws``)."""

    def __init__(self, host: Host) -> None:
        self._host = host

    async def serve(self, request: web.Request) -> web.StreamResponse:
        """One RTM WebSocket, from its handshake to its end."""
        host = self._host
        ws = web.WebSocketResponse(
            autoping=False,
            timeout=2.0,
            max_msg_size=host.max_frame_bytes,
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
        conn = Connection(
            ws,
            request,
            version if supported else API_VERSION,
            faults=host.faults,
            send_timeout=host.send_timeout,
            spawn=host.spawn,
        )
        host.sockets.add(conn)
        try:
            if not supported:
                await conn.disconnect(
                    "unsupported_version", code=WSCloseCode.POLICY_VIOLATION
                )
                return ws
            if request.query.get("organization_id") != host.organization_id:
                # Unknown organization: refuse with the §3.1 reason, then close.
                await conn.disconnect(
                    "license_not_found", code=WSCloseCode.POLICY_VIOLATION
                )
                return ws
            conn.arm(host.login_timeout, "connection_timeout")
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
            host.sockets.forget(conn)
        return ws

    async def _on_message(self, conn: Connection, msg: WSMessage) -> None:
        """One message off the socket (or off the link, with latency set)."""
        if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
            await self._on_frame(conn, msg.data)
        elif msg.type is WSMsgType.PING:
            # An RFC 6455 ping counts as the protocol ping (§1.3).
            await conn.pong(msg.data)
            if conn.logged_in and not conn.closing:
                conn.arm(self._host.ping_timeout, "connection_timeout")

    async def _on_frame(self, conn: Connection, data: bytes | str) -> None:
        try:
            req = decode_request(data)
        except (ProtocolError, RecursionError) as error:
            # msgspec raises RecursionError for JSON nested too deep.
            exc = error
            if not isinstance(exc, ProtocolError):
                exc = ProtocolError(str(error))
            self._host.requests.append(
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
        self._host.requests.append(
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
            conn.arm(self._host.ping_timeout, "connection_timeout")
        if conn.pending >= self._host.pending_requests_limit:
            limit = server_error(
                "pending_requests_limit_reached", "Requests limit reached"
            )
            await conn.send(error_frame(req, limit))
            return
        conn.pending += 1
        task = asyncio.ensure_future(self._process(conn, req))
        conn.tasks.add(task)
        task.add_done_callback(conn.tasks.discard)

    async def _process(self, conn: Connection, req: Request[Method[Any]]) -> None:
        pushes: list[Outgoing] = []
        try:
            await hold(self._host, req.action)
            raise_forced(self._host, req.action)
            result, pushes = self._dispatch(conn, req)
            frame = encode_frame(
                Response(action=req.action, payload=result, request_id=req.request_id)
            )
        except ServerError as exc:
            frame = error_frame(req, exc)
        except Exception:
            logger.exception("sandbox: %s failed", req.action)
            frame = error_frame(req, server_error("internal", "Internal server error"))
        try:
            if self._host.faults.loses_reply(req.action):
                # Applied, but the connection drops before the reply (and
                # before the requester's own pushes): the other recipients
                # still get theirs, in a task the cut connection cannot cancel.
                logger.info("sandbox: %s applied; its reply is lost", req.action)
                conn.abort()
                _ = self._host.spawn(self._host.deliver(pushes))
                return
            await conn.send(frame)
        finally:
            conn.pending -= 1
        await self._host.deliver(
            pushes, requester=conn, request_id=req.request_id, action=req.action
        )

    def _dispatch(
        self, conn: Connection, req: Request[Method[Any]]
    ) -> tuple[Any, list[Outgoing]]:
        method = req.payload
        version = request_version(req.version, conn.version)
        missing = missing_action(version, req.action)
        if missing is not None:  # the message names the replacement, if any
            raise ValidationError(f"Unknown action: {missing}")
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
        outcome = self._host.handlers.handle(conn.customer_id, method)
        return adapt_result(req.action, outcome.result, version), outcome.pushes

    def _login(self, conn: Connection, login: m.Login) -> tuple[Any, list[Outgoing]]:
        if conn.customer_id is not None:
            raise ValidationError("Already logged in")
        customer_id = self._host.tokens.check(login.token, self._host.organization_id)
        if customer_id is None:
            raise AuthenticationError("Invalid access token")
        customer = self._host.handlers.login_customer(customer_id)
        if customer.banned:
            raise CustomerBannedError("Customer is banned")
        subscription = Subscription(conn.version, login.pushes)
        outcome = self._host.handlers.handle(customer_id, login)
        conn.customer_id = customer_id
        conn.token = strip_bearer(login.token)
        conn.subscription = subscription
        self._host.sockets.logged_in(conn)
        conn.arm(self._host.ping_timeout, "connection_timeout")
        expires_at = self._host.tokens.expires_at(conn.token)
        if expires_at is not None:
            conn.arm_expiry((expires_at - self._host.clock.now()).total_seconds())
        return outcome.result, outcome.pushes
