"""The customer's side of one RTM session, with no I/O and no clock.

Rules:

1. All session state lives here, once: the connection state (logged in or not),
   the request ids, and the one table of requests in flight. Each entry is the
   caller's *ticket* for that request (the engine's ``Pending``; anything with a
   ``result_type``), so a reply decodes into the right result type and comes
   back with the ticket it settles. Futures, timers and sockets live in the
   engine, which is this object's only driver.
2. This file never awaits, never reads a clock and never touches a socket.

The state machine (docs/protocol.md §1.3):

.. code-block:: text

    NOT_CONNECTED ──connection_made()──► CONNECTED ──login reply (success)──► LOGGED_IN
          ▲                                  │                                   │
          └──────── connection_lost() ◄──────┴───────────────────────────────────┘
    any state ──close()──► CLOSED (final)

Before login only ``login`` and ``ping`` may be sent. After ``connection_lost()``
every ticket in flight is returned to the caller to settle, and ids keep counting
up, so a late reply from an old socket can never match a new request.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from ..exceptions import ProtocolError, SDKClosedError
from .base import Method, Ticket
from .codec import decode_frame, encode_request
from .frames import Frame, Push, Response

__all__ = ["Session", "State", "Ticket"]


T = TypeVar("T", bound=Ticket)


class State(enum.Enum):
    """Where a session is in its life."""

    NOT_CONNECTED = "not_connected"
    CONNECTED = "connected"
    LOGGED_IN = "logged_in"
    CLOSED = "closed"


_ALLOWED_BEFORE_LOGIN = frozenset({"login", "ping"})


class Session(Generic[T]):
    """Request ids, the requests in flight and the login state of an RTM session.

    Example:
        >>> from rxlivechat.protocol.methods import Ping
        >>> session = Session()
        >>> session.connection_made()
        >>> request_id, data = session.send(Ping(), Ping)
        >>> data
        b'{"request_id":"1","action":"ping","payload":{}}'
    """

    def __init__(self, *, id_prefix: str = "") -> None:
        self.state = State.NOT_CONNECTED
        """The current :class:`State`."""
        self._id_prefix = id_prefix
        self._ids = itertools.count(1)
        self._in_flight: dict[str, T] = {}

    # Public methods -----------------------------------------------------------------

    @property
    def in_flight(self) -> Mapping[str, T]:
        """Request id → ticket, for requests sent and not yet answered."""
        return self._in_flight

    @property
    def logged_in(self) -> bool:
        """Whether the login succeeded on the open socket."""
        return self.state is State.LOGGED_IN

    def connection_made(self) -> None:
        """Record that a socket is open.

        After calling this method: send a ``Login`` within 30 s.
        """
        self._require_open()
        self.state = State.CONNECTED

    def send(self, method: Method[Any], ticket: T) -> tuple[str, bytes]:
        """Allocate a request id for ``method`` and encode its frame.

        Args:
            method: the request's payload.
            ticket: kept until the reply; it names the reply's result type and
                comes back from :meth:`receive` with the reply.

        Returns:
            ``(request_id, data)``. After calling this method: send ``data`` as one
            TEXT message, and expect the reply under ``request_id``.

        Raises:
            SDKClosedError: the session was closed.
            ProtocolError: no socket is open, or the action needs a login first.
        """
        if self.state is not State.LOGGED_IN:  # the checks, off the hot path
            self._require_open()
            if self.state is State.NOT_CONNECTED:
                raise ProtocolError(f"cannot send {method.action!r}: not connected")
            if method.action not in _ALLOWED_BEFORE_LOGIN:
                raise ProtocolError(f"cannot send {method.action!r} before login")
        request_id = f"{self._id_prefix}{next(self._ids)}"
        data = encode_request(method, request_id)
        self._in_flight[request_id] = ticket
        return request_id, data

    def receive(self, data: bytes | str) -> tuple[Frame, T | None]:
        """Decode one message from the server and update the state.

        Returns:
            The typed frame, and the ticket of the request it concerns: for a
            reply, the request it settles (no longer in flight); for a push
            carrying one of our request ids (our copy of what we caused), that
            request, still in flight; otherwise ``None``.

        Raises:
            ProtocolError: the message is not a valid frame; the state is unchanged.
        """
        frame = decode_frame(data, self._in_flight)
        request_id = frame.request_id
        if request_id is None:
            return frame, None
        if isinstance(frame, Push):
            return frame, self._in_flight.get(request_id)
        ticket = self._in_flight.pop(request_id, None)
        if (
            ticket is not None
            and frame.action == "login"
            and isinstance(frame, Response)
            and self.state is State.CONNECTED
        ):
            self.state = State.LOGGED_IN
        return frame, ticket

    def abandon(self, request_id: str) -> None:
        """Forget a request whose reply is no longer wanted."""
        self._in_flight.pop(request_id, None)

    def connection_lost(self) -> list[T]:
        """Record that the socket is gone.

        Returns:
            The tickets of the requests still in flight, in the order they were
            sent; the caller must settle each of them (retry or fail), since no
            reply will come.
        """
        lost = list(self._in_flight.values())
        self._in_flight.clear()
        if self.state is not State.CLOSED:
            self.state = State.NOT_CONNECTED
        return lost

    def close(self) -> list[T]:
        """Close the session for good.

        Returns:
            The tickets of the requests still in flight, to be settled.
        """
        lost = self.connection_lost()
        self.state = State.CLOSED
        return lost

    # Private methods ----------------------------------------------------------------

    def _require_open(self) -> None:
        if self.state is State.CLOSED:
            raise SDKClosedError("the session is closed")
