"""The engine: one asyncio object that runs a customer, free of reactivex.

:class:`Engine` is the one object the Rx surface holds per customer. It reports
upward to one :class:`~.options.Listener` (every decoded frame, every SDK event
by name) and is a :class:`~.connection.Connection` (the task that connects,
logs in, reads, pings and reconnects) with the calls the SDK makes. Each fact
it keeps has one owner:

========================  ==============================================
what                      owner
========================  ==============================================
where the connection is   :class:`~.state.StateMachine` (one field)
the connection task       :class:`~.connection.Connection`
one frame in              :class:`~.inbox.Inbox`
requests, the session     :class:`~.requests.Requests`
the chats, the recovery   :class:`~.recovery.Chats`
what outlives the process :class:`~.commits.Durable`
HTTP, token, API host     :class:`~.access.Access`
========================  ==============================================
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import aiohttp

from ..protocol.base import Method
from ..protocol.frames import Push
from .auth import TokenProvider
from .closing import spawn_held
from .commits import Commits
from .connection import Connection
from .options import DEFAULT_REGION_URL, Listener, Options
from .pending import OnError, OnResult, Pending
from .recovery import MAX_CHATS
from .state import (
    FATAL_LOGIN_ERRORS,
    RECONNECT_REASONS,
    REFRESH_TOKEN_REASONS,
    REGION_REASON,
    permanent_failure,
)
from .web import PreparedFile

__all__ = [
    "DEFAULT_REGION_URL",
    "FATAL_LOGIN_ERRORS",
    "MAX_CHATS",
    "RECONNECT_REASONS",
    "REFRESH_TOKEN_REASONS",
    "REGION_REASON",
    "Engine",
    "Listener",
    "Options",
    "permanent_failure",
    "spawn_held",
]

R = TypeVar("R")


class Engine(Connection):
    """Runs one customer: token, socket, login, requests, pings, reconnects.

    The Rx surface (:class:`~rxlivechat.sdk.CustomerSDK`) holds one engine and
    uses only this class's public methods and attributes.

    Args:
        options: what to connect to, and how.
        listener: told of every frame and every SDK event.
    """

    __slots__ = ()

    def __init__(self, options: Options, listener: Listener) -> None:
        # MAX_CHATS read from this module at each construction, so that a
        # benchmark or a test can patch it here.
        super().__init__(options, listener, max_chats=MAX_CHATS)

    # Requests -----------------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        """Requests on the socket, not answered yet."""
        return self._requests.in_flight

    @property
    def waiting(self) -> int:
        """Requests waiting for a connection or a free slot."""
        return self._requests.waiting

    def submit(
        self,
        method: Method[Any],
        on_result: OnResult,
        on_error: OnError,
        *,
        timeout: float | None = None,
    ) -> Pending:
        """Queue ``method`` on the socket; exactly one callback will be called."""
        return self._requests.submit(
            method, on_result, on_error, timeout=timeout, traced=True
        )

    def abandon(self, pending: Pending) -> None:
        """Forget ``pending``: no callback will be called."""
        self._requests.abandon(pending)

    async def ask(self, method: Method[R]) -> R:
        """Send ``method`` and wait for its result; cancelling abandons it."""
        return await self._requests.ask(method, traced=True)

    def await_echo(
        self,
        request_id: str,
        match: Callable[[Push[Any]], Any],
        deliver: Callable[[Any], None],
        give_up: Callable[[], None],
    ) -> Callable[[], None]:
        """Wait for the push a request caused, after its reply.

        See :meth:`.requests.Requests.await_echo`.
        """
        return self._requests.await_echo(request_id, match, deliver, give_up)

    # The chats ----------------------------------------------------------------------

    @property
    def active_chats(self) -> Mapping[str, bool]:
        """Chat id → whether it has an active thread, as far as the server said.

        Read only: :meth:`remember_chat` writes it (and keeps it bounded).
        """
        return self._chats.active

    def remember_chat(self, chat_id: str, active: bool) -> None:
        """Record what a method learned of a chat (bounded by ``MAX_CHATS``)."""
        self._chats.remember(chat_id, active)

    # Durability (docs/stores.md) ----------------------------------------------------

    @property
    def uncommitted(self) -> int:
        """Events handed out and not committed yet (``auto_commit=False``)."""
        return self._durable.commits.pending

    @property
    def commits(self) -> Commits:
        """The events handed out and when each is written (handlers hold them)."""
        return self._durable.commits

    def commit(self, chat_id: str, event_id: str) -> bool:
        """Mark a handed-out event handled; see :meth:`.commits.Commits.commit`."""
        return self._durable.commits.commit(chat_id, event_id)

    async def flush(self) -> None:
        """Return once every commit written so far is durable in the store."""
        await self._durable.flush()

    # HTTP ---------------------------------------------------------------------------

    def http(self) -> aiohttp.ClientSession:
        """The HTTP session: the shared one, or the engine's own (made now)."""
        return self._access.http()

    async def web_call(self, method: Method[R]) -> R:
        """Send ``method`` over the Web API (HTTP) with the customer's token."""
        return await self._access.web.call(method)

    async def upload(self, file: PreparedFile, report: Callable[[float], None]) -> str:
        """Upload ``file`` (Web API ``upload_file``); returns its URL."""
        return await self._access.web.upload(file, report)

    @property
    def _token_provider(self) -> TokenProvider | None:
        """Where tokens come from (the default one once made): for inspection."""
        return self._access.token_provider
