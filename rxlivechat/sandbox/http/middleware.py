"""What every HTTP request goes through, and a cap on idle connections.

Host and origin checks, CORS, the simulated latency and refusals.

The chain is applied by :meth:`Middleware.wrap` around each route's handler,
not registered as aiohttp middlewares: aiohttp caches built middleware chains
in a module-level ``lru_cache`` keyed by the handler and the app, which would
keep every closed sandbox (and its whole store) alive for the process's life.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ...exceptions import AuthorizationError, server_error
from ..security import host_allowed, normalize_origin, own_origins
from .host import Host
from .replies import error_response

__all__ = ["CORS_PREFLIGHT", "Handler", "Middleware", "no_sniffing"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CORS_PREFLIGHT = {
    "Access-Control-Allow-Methods": "GET, POST, DELETE",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Max-Age": "600",
}


class Middleware:
    """The sandbox's aiohttp middlewares (:attr:`all`, outermost first)."""

    def __init__(self, host: Host) -> None:
        self._host = host
        self._in_request: dict[asyncio.BaseTransport, int] = {}
        """Transports with a request in a handler (WebSockets stay in one)."""

    def wrap(self, handler: Handler) -> Handler:
        """``handler`` behind the checks, the latency and the refusals."""

        async def refused(request: web.Request) -> web.StreamResponse:
            return await self.refuse(request, handler)

        async def delayed(request: web.Request) -> web.StreamResponse:
            return await self.latency(request, refused)

        async def guarded(request: web.Request) -> web.StreamResponse:
            return await self.guard(request, delayed)

        return guarded

    async def guard(
        self,
        request: web.Request,
        handler: Handler,
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
        handler: Handler,
    ) -> web.StreamResponse:
        """Serve only requests that name the sandbox, from pages it trusts.

        Pages of the configured widget origins also get CORS answers, so a
        widget in the browser can fetch tokens and call the Web API.
        """
        if not host_allowed(request.headers.get("Host"), self._host.port):
            return error_response(AuthorizationError("Unknown Host"))
        origin = request.headers.get("Origin")
        if origin is None:
            return await handler(request)
        origin = normalize_origin(origin)
        if (
            origin
            not in own_origins(self._host.port, tls=self._host.tls)
            | self._host.allowed_origins
        ):
            return error_response(AuthorizationError("Origin not allowed"))
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
        if origin in self._host.allowed_origins and not response.prepared:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
            response.headers["Vary"] = "Origin"
        return response

    async def close_idle_beyond_cap(self, server: web.Server) -> None:
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
            excess = len(idle) - self._host.max_idle_connections
            for handler in sorted(idle, key=opened.__getitem__)[: max(excess, 0)]:
                handler.force_close()

    async def latency(
        self,
        request: web.Request,
        handler: Handler,
    ) -> web.StreamResponse:
        """Hold HTTP requests, and their answers, for the latency (if set)."""
        if any(self._host.faults.latency):
            await asyncio.sleep(self._host.faults.frame_delay())
        response = await handler(request)
        # (A WebSocket's answer went out at its handshake: it is prepared.)
        if any(self._host.faults.latency) and not response.prepared:
            await asyncio.sleep(self._host.faults.frame_delay())
        return response

    async def refuse(
        self,
        request: web.Request,
        handler: Handler,
    ) -> web.StreamResponse:
        """Answer 503 while ``refuse_connections`` holds."""
        if self._host.faults.refusing:
            return error_response(
                server_error("service_unavailable", "Service unavailable")
            )
        return await handler(request)


async def no_sniffing(request: web.Request, response: web.StreamResponse) -> None:
    """Browsers must take every response for the type it declares."""
    response.headers["X-Content-Type-Options"] = "nosniff"
