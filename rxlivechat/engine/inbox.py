"""One frame in: decode, report, and act on what a push says.

The socket calls :meth:`Inbox.handle` with every message, from the event loop's
callback (no reader task). A reply settles its request in
:class:`~.requests.Requests`; every frame then goes to the listener; a push
updates what the engine knows (the chats, the side storage) and becomes SDK
events. While the connection recovers (:attr:`.state.ConnectionState.RECOVERING`),
live ``incoming_event`` pushes wait in :class:`~.recovery.Chats` until the
missed events are out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from .. import events as ev
from ..events import new_event
from ..exceptions import ProtocolError
from ..protocol import pushes as p
from ..protocol.frames import Push
from ..protocol.pushes import IncomingEvent
from .access import Access
from .commits import Durable
from .options import Listener
from .recovery import Chats
from .requests import Requests
from .state import (
    RECONNECT_REASONS,
    REFRESH_TOKEN_REASONS,
    REGION_REASON,
    ConnectionState,
    StateMachine,
)

if TYPE_CHECKING:
    from ..telemetry import CustomerTelemetry

__all__ = ["Inbox"]

log = logging.getLogger("rxlivechat")

_RECOVERING = ConnectionState.RECOVERING  # a global is quicker than Enum.X


class Inbox:
    """Handles every message of the customer's socket.

    Args:
        requests: decodes each message and settles the request it answers.
        listener: told of every frame, and of each ``new_event``.
        machine: the connection's state (read: is it recovering?).
        chats: what is known of the chats, and where deferred live events wait.
        durable: the commits, and the side storage.
        access: the token and the API host (``customer_disconnected`` may
            change either).
        telemetry: counts ``new_event``; ``None``: nothing is counted.
        emit: emits any other SDK event (the engine's, which drops them once
            it is closed).
    """

    __slots__ = (
        "_access",
        "_chats",
        "_commits",
        "_durable",
        "_emit",
        "_ledger",
        "_machine",
        "_on_event",
        "_on_frame",
        "_receive",
        "_telemetry",
        "dismissal",
    )

    def __init__(
        self,
        requests: Requests,
        listener: Listener,
        machine: StateMachine,
        chats: Chats,
        durable: Durable,
        access: Access,
        telemetry: CustomerTelemetry | None,
        emit: Callable[[str, Any], None],
    ) -> None:
        self._receive = requests.receive
        self._on_frame = listener.on_frame
        self._on_event = listener.on_event
        self._machine = machine
        self._chats = chats
        self._durable = durable
        # The hot path's own references (each object is made once per engine).
        self._ledger = chats.ledger
        self._commits = durable.commits
        self._access = access
        self._telemetry = telemetry
        self._emit = emit
        self.dismissal: ev.Disconnected | None = None
        """Set by a push that ends the session for good (``customer_disconnected``
        for a reason not to reconnect on): read when the socket ends."""

    def handle(self, data: bytes) -> None:
        """Decode one message, report it, act on it (the socket's handler)."""
        try:
            frame, _ = self._receive(data)
        except ProtocolError as exc:
            log.warning("skipped a malformed frame: %s", exc)
            self._emit("error", exc)
            return
        self._on_frame(frame)
        if isinstance(frame, Push) and (reason := self.push(frame)) is not None:
            self.dismissal = reason

    def push(self, frame: Push[Any]) -> ev.Disconnected | None:
        """Keep the state up to date and emit the push's SDK events.

        Returns:
            The reason to stop for good, for a ``customer_disconnected`` that
            says so; else ``None``.
        """
        payload = frame.payload
        if isinstance(payload, IncomingEvent):  # the hot path: one event
            if self._machine.state is _RECOVERING:  # until the missed are out
                self._chats.defer(frame)
            elif self._ledger.admit(payload.chat_id, payload.event):
                new = new_event(payload.chat_id, payload.thread_id, payload.event)
                if self._telemetry is not None:
                    self._telemetry.event("new_event")
                self._on_event("new_event", new)
                # Every subscriber returned: handed out (committed if auto).
                commits = self._commits
                if commits.store is not None or not commits.auto:  # else a no-op
                    commits.handed_out(new.chat, new.thread, new.event)
            return None  # else already shown (recovered, or a duplicate)
        chats = self._chats
        if isinstance(payload, p.IncomingChat):
            thread = payload.chat.thread
            chats.incoming_chat(payload.chat.id, (thread and thread.events) or ())
        elif isinstance(payload, p.ChatDeactivated):
            chats.remember(payload.chat_id, False)
        elif isinstance(payload, p.CustomerSideStorageUpdated):
            # Kept for the next login, as the docs ask (docs/protocol.md §2.1, §3).
            self._durable.keep_side_storage(payload.customer_side_storage)
        for name, event in ev.events_of_push(frame):
            self._emit(name, event)
        if isinstance(payload, p.CustomerDisconnected):
            return self._disconnected(payload)
        return None

    def _disconnected(self, payload: p.CustomerDisconnected) -> ev.Disconnected | None:
        """Act on a disconnection reason (docs/reconnect.md has the table)."""
        reason = payload.reason
        data = msgspec.to_builtins(payload.data) if payload.data else None
        if reason in REFRESH_TOKEN_REASONS:
            self._access.invalidate_token()
        elif reason == REGION_REASON:
            region = (data or {}).get("region")
            if self._access.move_to_region(region) is None:
                return ev.Disconnected(reason=reason, data=data)
        elif reason not in RECONNECT_REASONS:
            return ev.Disconnected(reason=reason, data=data)
        return None
