"""The customer's side of one RTM session, with no I/O and no clock.

Rules:

1. All session state lives here: the connection state, the request ids, and which
   method each pending request was sent as (so its reply decodes into the right
   result type). Futures, timers and sockets live in the SDK, which drives this.
2. This file never awaits, never reads a clock and never touches a socket.

The state machine (digest §1.3):

.. code-block:: text

    NOT_CONNECTED ──connection_made()──► CONNECTED ──login reply (success)──► LOGGED_IN
          ▲                                  │                                   │
          └──────── connection_lost() ◄──────┴───────────────────────────────────┘
    any state ──close()──► CLOSED (final)

Before login only ``login`` and ``ping`` may be sent. After ``connection_lost()``
every pending request is returned to the caller to settle, and ids keep counting
up, so a late reply from an old socket can never match a new request.
"""

from __future__ import annotations

import enum
import itertools
from typing import Any

from ..exceptions import ProtocolError, SDKClosedError
from .base import Method
from .codec import decode_frame, encode_request
from .frames import Frame, Push, Response

__all__ = ["Session", "State"]


class State(enum.Enum):
    """Where a session is in its life."""

    NOT_CONNECTED = "not_connected"
    CONNECTED = "connected"
    LOGGED_IN = "logged_in"
    CLOSED = "closed"


_ALLOWED_BEFORE_LOGIN = frozenset({"login", "ping"})


class Session:
    """Request ids, pending requests and login state of a customer RTM session.

    Example:
        >>> from rxlivechat.protocol.methods import Ping
        >>> session = Session()
        >>> session.connection_made()
        >>> request_id, data = session.send(Ping())
        >>> data
        b'{"request_id":"1","action":"ping","payload":{}}'
    """

    def __init__(self, *, id_prefix: str = "") -> None:
        self.state = State.NOT_CONNECTED
        """The current :class:`State`."""
        self._id_prefix = id_prefix
        self._ids = itertools.count(1)
        self._pending: dict[str, type[Method[Any]]] = {}

    # Public methods -----------------------------------------------------------------

    @property
    def pending(self) -> dict[str, type[Method[Any]]]:
        """Request id → method class, for requests sent and not yet answered."""
        return self._pending

    def connection_made(self) -> None:
        """Record that a socket is open.

        After calling this method: send a ``Login`` within 30 s.
        """
        self._require_open()
        self.state = State.CONNECTED

    def send(self, method: Method[Any]) -> tuple[str, bytes]:
        """Allocate a request id for ``method`` and encode its frame.

        Returns:
            ``(request_id, data)``. After calling this method: send ``data`` as one
            TEXT message, and expect the reply under ``request_id``.

        Raises:
            SDKClosedError: the session was closed.
            ProtocolError: no socket is open, or the action needs a login first.
        """
        self._require_open()
        if self.state is State.NOT_CONNECTED:
            raise ProtocolError(f"cannot send {method.action!r}: not connected")
        if self.state is State.CONNECTED and method.action not in _ALLOWED_BEFORE_LOGIN:
            raise ProtocolError(f"cannot send {method.action!r} before login")
        request_id = f"{self._id_prefix}{next(self._ids)}"
        data = encode_request(method, request_id)
        self._pending[request_id] = type(method)
        return request_id, data

    def receive(self, data: bytes | str) -> Frame:
        """Decode one message from the server and update the state.

        Returns:
            The typed frame. A reply to a pending request is no longer pending.

        Raises:
            ProtocolError: the message is not a valid frame; the state is unchanged.
        """
        frame = decode_frame(data, self._pending)
        # A push may carry our request id too (our copy of what we caused); only
        # a response settles the request.
        if frame.request_id is not None and not isinstance(frame, Push):
            method = self._pending.pop(frame.request_id, None)
            if (
                method is not None
                and method.action == "login"
                and isinstance(frame, Response)
                and self.state is State.CONNECTED
            ):
                self.state = State.LOGGED_IN
        return frame

    def abandon(self, request_id: str) -> None:
        """Forget a pending request whose reply is no longer wanted."""
        self._pending.pop(request_id, None)

    def connection_lost(self) -> list[str]:
        """Record that the socket is gone.

        Returns:
            The ids of the requests that were still pending; the caller must settle
            each of them (retry or fail), since no reply will come.
        """
        lost = list(self._pending)
        self._pending.clear()
        if self.state is not State.CLOSED:
            self.state = State.NOT_CONNECTED
        return lost

    def close(self) -> list[str]:
        """Close the session for good.

        Returns:
            The ids of the requests that were still pending, to be settled.
        """
        lost = self.connection_lost()
        self.state = State.CLOSED
        return lost

    # Private methods ----------------------------------------------------------------

    def _require_open(self) -> None:
        if self.state is State.CLOSED:
            raise SDKClosedError("the session is closed")
