"""The engine's connection state: one field, changed only through one table.

Rules:

1. An engine's connection is in exactly one :class:`ConnectionState`, kept in
   one field (:class:`StateMachine`, shared by the parts that act on it).
   Every change goes through :func:`next_state`, which reads
   :data:`TRANSITIONS`; a change the table does not list is a bug and raises
   :class:`IllegalTransition` (tests/engine/test_state.py walks the table).
2. A state says what the engine does with requests, waits and live events; the
   facts that go with it live where they are used: the error requests fail
   with (:class:`~.requests.Requests`), the live events deferred
   (:class:`~.recovery.Chats`), the task and the waiters (:mod:`.connection`).
3. No I/O, no clock, no asyncio: the table is plain data.

.. code-block:: text

    from                                 trigger     to
    IDLE                                 start       CONNECTING
    CONNECTING                           logged_in   RECOVERING
    RECOVERING                           caught_up   CONNECTED
    CONNECTING                           refuse      REFUSED
    CONNECTING, RECOVERING, CONNECTED    dropped     RETRYING
                                         give_up     ENDING
    RETRYING                             retry       CONNECTING
    REFUSED                              token       CONNECTING
                                         retry, dropped, refuse: stays REFUSED
    every state with a task              ended, stop IDLE
    every state but CLOSED               close       CLOSED
    IDLE, CLOSED                         stop        unchanged

A first login with nothing to recover passes RECOVERING at once (``caught_up``
right after ``logged_in``). ``ended``: the connection task finished by itself
(it gave up, or was cancelled from outside), not let go by ``stop``.
"""

from __future__ import annotations

import enum

from ..exceptions import TokenRefusedError

__all__ = [
    "FATAL_LOGIN_ERRORS",
    "RECONNECT_REASONS",
    "REFRESH_TOKEN_REASONS",
    "REGION_REASON",
    "TRANSITIONS",
    "ConnectionState",
    "IllegalTransition",
    "StateMachine",
    "Trigger",
    "next_state",
    "permanent_failure",
]

# customer_disconnected reasons (docs/protocol.md §3.1, §8): what the SDK does
# about each. docs/reconnect.md's table says the same;
# tests/engine/test_disconnect_reasons.py checks it.
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
"""Reasons after which the SDK reconnects (``dropped``)."""
REGION_REASON = "misdirected_connection"
"""The socket reached the wrong region: the SDK moves to ``data.region``'s host
when it knows it (:attr:`.options.Options.region_url`), else it stops (never loops)."""
REFRESH_TOKEN_REASONS = frozenset({"access_token_expired", "access_token_revoked"})
"""Reasons after which the SDK fetches a new token, then reconnects."""
# Any reason in neither set stops the SDK for good (``give_up``: banned, license
# not found, too many connections, unsupported version, logged out remotely...).

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
"""Login errors that no retry can mend: the SDK stops for good (``give_up``)."""


def permanent_failure(exc: Exception) -> bool:
    """Whether a failed connection attempt is a misconfiguration, not a fault.

    A token endpoint refusing with a 4xx (wrong organization or client id) will
    refuse every retry alike (``refuse``); a network error, a 5xx or a 429 may pass.
    """
    return isinstance(exc, TokenRefusedError) and exc.permanent


class ConnectionState(enum.Enum):
    """Where the connection is: what happens to requests and live events."""

    IDLE = "idle"
    """No connection task: never started, stopped, or ended. Requests fail at once."""
    CONNECTING = "connecting"
    """An attempt: token, socket, login. Requests wait."""
    RECOVERING = "recovering"
    """Logged in after a gap: the missed events go out first, live ones wait."""
    CONNECTED = "connected"
    """Logged in and live; pinging."""
    RETRYING = "retrying"
    """An attempt ended; the next waits out the backoff. Requests wait."""
    REFUSED = "refused"
    """Attempts fail so that requests and waits fail at once, naming why (a
    refused token; before the first login, any network failure), until a
    token comes."""
    ENDING = "ending"
    """The connection task stops for good on its own (a disconnection reason
    not to reconnect on, a fatal login error, a store that cannot open)."""
    CLOSED = "closed"
    """Closed for good."""

    @property
    def running(self) -> bool:
        """Whether a connection task is alive (connected or trying to be)."""
        return self is not ConnectionState.IDLE and self is not ConnectionState.CLOSED

    @property
    def logged_in(self) -> bool:
        """Whether the attempt in progress reached its login."""
        return self is ConnectionState.RECOVERING or self is ConnectionState.CONNECTED


class Trigger(enum.Enum):
    """What happens to the connection; each may move it to another state."""

    START = "start"
    """:meth:`~.connection.Connection.start`: the connection task starts."""
    TOKEN = "token"
    """A token came while refused: requests may wait again."""
    LOGGED_IN = "logged_in"
    """The login's reply came (read before the pushes that follow it)."""
    CAUGHT_UP = "caught_up"
    """The missed events are out: live events pass from now on."""
    DROPPED = "dropped"
    """The attempt ended (the socket closed, or a failure): retry."""
    REFUSE = "refuse"
    """The attempt failed so that requests and waits fail at once."""
    RETRY = "retry"
    """The backoff is over: the next attempt starts."""
    GIVE_UP = "give_up"
    """The task stops for good (it settles what waits, then ends)."""
    ENDED = "ended"
    """The connection task finished (on its own, or cancelled from outside)."""
    STOP = "stop"
    """:meth:`~.connection.Connection.stop`: no reconnect; the task is let go."""
    CLOSE = "close"
    """:meth:`~.connection.Connection.close`: for good."""


_RUNNING_ENDS = {
    Trigger.ENDED: ConnectionState.IDLE,
    Trigger.STOP: ConnectionState.IDLE,
    Trigger.CLOSE: ConnectionState.CLOSED,
}
"""What every running state does when its task ends, is stopped or closed."""

TRANSITIONS: dict[ConnectionState, dict[Trigger, ConnectionState]] = {
    ConnectionState.IDLE: {
        Trigger.START: ConnectionState.CONNECTING,
        Trigger.STOP: ConnectionState.IDLE,
        Trigger.CLOSE: ConnectionState.CLOSED,
    },
    ConnectionState.CONNECTING: {
        Trigger.LOGGED_IN: ConnectionState.RECOVERING,
        Trigger.DROPPED: ConnectionState.RETRYING,
        Trigger.REFUSE: ConnectionState.REFUSED,
        Trigger.GIVE_UP: ConnectionState.ENDING,
        **_RUNNING_ENDS,
    },
    # Logged in: only the attempt before a login is refused (a token, a network
    # failure before the first login), never one that got this far.
    ConnectionState.RECOVERING: {
        Trigger.CAUGHT_UP: ConnectionState.CONNECTED,
        Trigger.DROPPED: ConnectionState.RETRYING,
        Trigger.GIVE_UP: ConnectionState.ENDING,
        **_RUNNING_ENDS,
    },
    ConnectionState.CONNECTED: {
        Trigger.DROPPED: ConnectionState.RETRYING,
        Trigger.GIVE_UP: ConnectionState.ENDING,
        **_RUNNING_ENDS,
    },
    ConnectionState.RETRYING: {
        Trigger.RETRY: ConnectionState.CONNECTING,
        **_RUNNING_ENDS,
    },
    # Refused until a token comes: a failure on the way keeps it refused.
    ConnectionState.REFUSED: {
        Trigger.TOKEN: ConnectionState.CONNECTING,
        Trigger.RETRY: ConnectionState.REFUSED,
        Trigger.DROPPED: ConnectionState.REFUSED,
        Trigger.REFUSE: ConnectionState.REFUSED,
        **_RUNNING_ENDS,
    },
    ConnectionState.ENDING: dict(_RUNNING_ENDS),
    ConnectionState.CLOSED: {Trigger.STOP: ConnectionState.CLOSED},
}
"""State → trigger → the next state; a pair not listed is illegal."""


class IllegalTransition(RuntimeError):
    """A trigger the current state does not allow: a bug in the engine."""


def next_state(state: ConnectionState, trigger: Trigger) -> ConnectionState:
    """The state ``trigger`` moves ``state`` to.

    Raises:
        IllegalTransition: the table does not allow ``trigger`` in ``state``.
    """
    try:
        return TRANSITIONS[state][trigger]
    except KeyError:
        raise IllegalTransition(
            f"{trigger.value!r} is not allowed while {state.value}"
        ) from None


class StateMachine:
    """The one field that says where the connection is, and the one way to move it.

    The engine's parts that act on the state (the connection task, the frame
    handler) share this object; none keeps a copy.
    """

    __slots__ = ("state",)

    def __init__(self) -> None:
        self.state = ConnectionState.IDLE
        """The current state; read it freely, change it with :meth:`move`."""

    def move(self, trigger: Trigger) -> ConnectionState:
        """Move as :data:`TRANSITIONS` says; returns the new state.

        Raises:
            IllegalTransition: the table does not allow ``trigger`` now.
        """
        self.state = state = next_state(self.state, trigger)
        return state
