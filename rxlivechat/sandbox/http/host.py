"""What the transports need of the sandbox: a narrow protocol the Sandbox meets.

The HTTP modules type against :class:`Host`, never against the
:class:`~rxlivechat.sandbox.Sandbox` itself, so no module under ``http/``
imports the facade that builds them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from typing import Any, Protocol

from ..actions import Handlers, Outgoing
from ..faults import FaultPlan, RequestLog
from ..ids import Clock, IdFactory
from ..records import CustomerRecord
from ..store import SandboxState
from ..tokens import TokenRegistry
from ..uploads import Uploads
from .connection import Connection, Connections

__all__ = ["Host"]


class Host(Protocol):
    """The state, the settings and the delivery the transports share."""

    store: SandboxState
    handlers: Handlers
    tokens: TokenRegistry
    faults: FaultPlan
    uploads: Uploads
    requests: RequestLog
    ids: IdFactory
    clock: Clock
    sockets: Connections
    stopping: asyncio.Event
    port: int
    tls: bool
    login_timeout: float
    ping_timeout: float
    pending_requests_limit: int
    request_timeout: float
    max_upload_bytes: int
    allowed_origins: frozenset[str]
    http_body_timeout: float
    send_timeout: float
    max_frame_bytes: int
    max_idle_connections: int

    @property
    def organization_id(self) -> str:
        """The organization the sandbox serves."""
        ...

    @property
    def api_url(self) -> str:
        """The API base URL."""
        ...

    async def deliver(
        self,
        pushes: Iterable[Outgoing],
        *,
        requester: Connection | None = None,
        request_id: str | None = None,
        action: str | None = None,
    ) -> None:
        """Send pushes to their customers' sockets and agents' inboxes."""
        ...

    def new_customer(self, customer_id: str | None = None) -> CustomerRecord:
        """The customer with this id, created if unknown (a new id: ``None``)."""
        ...

    def spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        """Run a coroutine as a tracked background task."""
        ...
