"""Requests from submission to settlement: flow control, timers, echoes.

Rules:

1. :class:`Requests` is the only driver of the Sans-I/O
   :class:`~rxlivechat.protocol.session.Session`: it opens and loses the
   session's socket, sends through it and decodes every frame with it. The
   session keeps the one table of requests in flight (as :class:`Pending`
   tickets) and the one "logged in" state; nothing here copies either.
2. A reply is matched to its request with one dict lookup: the cost per frame does
   not grow with the number of requests in flight or waiting.
3. At most ``max_in_flight`` requests are on the socket at once (the server's
   limit, docs/protocol.md §1.3); the rest wait in order. A slot is freed when the reply
   arrives or the socket drops, never earlier: an abandoned request still counts
   until then, since the server still counts it. While the socket is paused
   (its peer is not reading) they wait too, so one never written is safe to
   send on the next socket.
4. Every request settles exactly once: a result, a server error, a timeout, a
   connection loss or a close. An abandoned request is forgotten and its reply
   dropped.
5. Timers are asyncio timers on the engine's loop, never threads.
6. Whether requests may be sent at all is checked once, here (:meth:`Requests.halt`:
   before a start, after a stop or a close, while attempts are refused).
7. An event-creating request (:mod:`.outgoing`) is never failed as "may or may
   not have been applied": when its socket drops before the reply, or when the
   same call is subscribed again after it was written, its ``custom_id`` is
   looked up in the chat first; found, the request settles with that event;
   absent, it is sent (again).
8. Telemetry is a hook (``trace``): a traced request starts its span when
   submitted and ends it when it settles or is abandoned; nothing else keeps a
   record of it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any, TypeVar

from ..exceptions import (
    ConnectionLost,
    LiveChatError,
    NotConnectedError,
    ProtocolError,
    RequestTimeoutError,
    server_error,
)
from ..protocol import methods as m
from ..protocol.base import Method
from ..protocol.frames import ErrorResponse, Frame, Push, Response
from ..protocol.session import Session, State
from .outgoing import Key, claim, find_sent, settled
from .pending import (
    ABANDONED,
    Deadlines,
    OnError,
    OnResult,
    Pending,
    Trace,
    fail,
    keep_push,
    retire,
    settled_meanwhile,
    succeed,
)
from .transport import Socket

__all__ = [
    "ECHO_WAIT",
    "MAX_SENT_IDS",
    "SAFE_TO_REPEAT",
    "Requests",
]

SAFE_TO_REPEAT = frozenset(
    {
        "ping",
        "list_chats",
        "list_threads",
        "get_chat",
        "get_customer",
        "list_group_statuses",
        "get_form",
        "get_predicted_agent",
        "get_url_info",
        "update_chat_properties",
        "update_thread_properties",
        "update_event_properties",
        "delete_chat_properties",
        "delete_thread_properties",
        "delete_event_properties",
        "update_customer",
        "update_customer_page",
        "set_customer_session_fields",
        "mark_events_as_seen",
        "send_sneak_peek",
    }
)
"""Actions re-sent after a reconnect when their socket dropped before the reply:
reads, and writes whose second application changes nothing."""

CREATES_EVENTS: frozenset[type[Any]] = frozenset(
    {m.SendEvent, m.ResumeChat, m.StartChat}
)
"""Request Structs whose event is looked up by ``custom_id`` when uncertain."""

MAX_SENT_IDS = 16_384
"""Custom ids of written requests remembered, so that a call subscribed
again (``ops.retry``, a second ``await``) is looked up before it is re-sent.
A call re-subscribed after this many other event-creating requests is sent
without a lookup."""

R = TypeVar("R")

log = logging.getLogger("rxlivechat.requests")
"""DEBUG: each request written (action, request id) and how it settled, with its
latency. Payloads are never logged (they carry tokens and customer data)."""


ECHO_WAIT = 2.0
"""Seconds to wait, after a reply, for the push our request caused (see
:meth:`Requests.await_echo`)."""


class _Echo:
    """A wait for the push a request caused, when it follows the reply."""

    __slots__ = ("deliver", "give_up", "match", "timer")

    def __init__(
        self,
        match: Callable[[Push[Any]], Any],
        deliver: Callable[[Any], None],
        give_up: Callable[[], None],
    ) -> None:
        self.match = match
        self.deliver = deliver
        self.give_up = give_up
        self.timer: asyncio.TimerHandle | None = None


class Requests:
    """Correlates replies with requests and keeps the in-flight count in bounds.

    The engine opens the session on a socket (:meth:`connection_made`), feeds
    every message to :meth:`receive`, and reports the socket's loss
    (:meth:`connection_lost`). Queued requests go out once the session is logged
    in: the login reply itself opens the gate.

    Args:
        session: the Sans-I/O session this object alone drives.
        timeout: default seconds until a request fails, waiting included.
        max_in_flight: requests on the socket at once.
        trace: the telemetry hook for traced requests; ``None``: no telemetry.
    """

    def __init__(
        self,
        session: Session[Pending],
        *,
        timeout: float,
        max_in_flight: int = 10,
        trace: Trace | None = None,
    ) -> None:
        self._session = session
        self._trace = trace
        self._timeout = timeout
        self._max_in_flight = max_in_flight
        # Requests waiting; made on first use: an idle customer never needs
        # one, and an empty deque is 760 bytes.
        self._queue: deque[Pending] | None = None
        self._socket: Socket | None = None
        self._halted: LiveChatError | None = None
        self._echoes: dict[str, _Echo] = {}
        self._deadlines = Deadlines(self._expire)
        self._sent: OrderedDict[str, None] | None = None  # made on first use
        self._lookups: dict[Pending, asyncio.Task[None]] = {}
        # Lookups waiting for an earlier try of their event to be answered.
        self._answers: dict[Key, asyncio.Future[None]] = {}
        self.not_connected: Exception | None = None
        """Why the last connection attempt failed, until a login (the engine
        sets it): named by a request that expires without having been sent."""

    # Public methods -----------------------------------------------------------------

    @property
    def halted(self) -> LiveChatError | None:
        """What every request fails with now (see :meth:`halt`), if anything."""
        return self._halted

    @property
    def in_flight(self) -> int:
        """Requests written to the socket and not answered yet."""
        return len(self._session.in_flight)

    @property
    def waiting(self) -> int:
        """Requests waiting for a connection or for a free slot."""
        return sum(1 for p in self._queue or () if not p.done)

    def submit(
        self,
        method: Method[Any],
        on_result: OnResult,
        on_error: OnError,
        *,
        timeout: float | None = None,
        urgent: bool = False,
        traced: bool = False,
    ) -> Pending:
        """Queue ``method``; exactly one of the callbacks will be called.

        Args:
            method: the request payload.
            on_result: called with the typed result and the :class:`Pending`.
            on_error: called with the exception when the request fails.
            timeout: seconds until it fails with :class:`RequestTimeoutError`,
                counting time spent waiting for a connection.
            urgent: send before login and ahead of the queue (``login``, ``ping``).
            traced: report it to the telemetry hook (the caller's requests, not
                the connection's own).
        """
        pending = Pending(method, on_result, on_error)
        halted = self._halted
        if halted is not None:  # the one check on a request's way out
            if traced and self._trace is not None:
                self._trace(method.action)(halted)
            pending.done = True
            on_error(halted)
            return pending
        if traced and self._trace is not None:
            pending.finish = self._trace(method.action)
        if method.__class__ in CREATES_EVENTS:
            pending.key = claim(method)
        if timeout is None:  # the common case: deadlines in submission order
            self._deadlines.push(pending, self._timeout)
        else:
            pending._timer = asyncio.get_running_loop().call_later(
                timeout, self._expire, pending
            )
        key = pending.key
        if key is not None and self._sent is not None and key[1] in self._sent:
            self._look_up(pending)  # written before: this is a retry
            return pending
        if urgent or (not self._queue and self._has_room()):
            self._write(pending)  # nothing waits ahead of it: no need to queue it
        else:
            self._wait(pending)
            self._pump()
        return pending

    async def ask(
        self,
        method: Method[R],
        *,
        urgent: bool = False,
        traced: bool = False,
        on_reply: Callable[[R], None] | None = None,
    ) -> R:
        """Send ``method`` and wait for its result (for multi-step work).

        Cancelling the wait abandons the request.

        Args:
            method: the request payload.
            urgent: as for :meth:`submit`.
            traced: as for :meth:`submit`.
            on_reply: called with the result as the reply is read, before the
                waiting task resumes (and before the frames that follow it).
        """
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()

        def on_result(result: R, _: Pending) -> None:
            if on_reply is not None:
                on_reply(result)
            if not future.done():
                future.set_result(result)

        def on_error(exc: Exception) -> None:
            if not future.done():
                future.set_exception(exc)

        pending = self.submit(method, on_result, on_error, urgent=urgent, traced=traced)
        try:
            return await future
        except asyncio.CancelledError as exc:  # its span ends as cancelled
            self.abandon(pending, exc)
            raise
        finally:
            if not future.done():
                self.abandon(pending)

    def abandon(self, pending: Pending, why: BaseException = ABANDONED) -> None:
        """Forget ``pending``: no callback will be called. Its reply is dropped.

        A request already on the socket keeps its slot until its reply comes or
        the socket drops (rule 3). ``why`` is the outcome its span reports.
        """
        if pending.done:
            return
        self._end_lookup(pending)
        finish = pending.finish
        retire(pending)
        pending.abandoned = True
        if finish is not None:
            finish(why)

    def connection_made(self, socket: Socket) -> None:
        """A socket is open: urgent requests (login, ping) may be written."""
        self._socket = socket
        socket.resumed = self._pump  # what waited while it was paused
        self._session.connection_made()

    def receive(self, data: bytes | str) -> tuple[Frame, Pending | None]:
        """Decode one message, settle the request it answers, if any.

        Returns:
            The frame, and the request it concerns (see
            :meth:`~rxlivechat.protocol.session.Session.receive`).

        Raises:
            ProtocolError: the message is not a valid frame.
        """
        try:
            frame, pending = self._session.receive(data)
        except ProtocolError as exc:
            # A reply we cannot read still answers its request: fail it now
            # rather than let it wait for its timeout.
            failed = self._session.in_flight.get(exc.request_id or "")
            if failed is not None and exc.action is not None:
                self._session.abandon(exc.request_id or "")
                if not failed.done:
                    fail(failed, exc)
                self._pump()
            raise
        request_id = frame.request_id
        if request_id is None:  # most pushes: nothing to settle
            return frame, None
        if isinstance(frame, Push):
            if pending is not None:
                if not pending.done:
                    keep_push(pending, frame)
            elif (echo := self._echoes.get(request_id)) is not None:
                value = echo.match(frame)
                if value is not None:
                    self._end_echo(request_id)
                    echo.deliver(value)
            return frame, pending
        if self._answers and pending is not None and pending.key is not None:
            self._answered(pending.key)
        if pending is not None and not pending.done:
            if isinstance(frame, Response):
                succeed(pending, frame.payload)
            else:
                fail(pending, _error_of(frame))
            self._deadlines.trim()
        # A freed slot, or the login reply opening the gate: write what waits.
        if self._queue:
            self._pump()
        return frame, pending

    def await_echo(
        self,
        request_id: str,
        match: Callable[[Push[Any]], Any],
        deliver: Callable[[Any], None],
        give_up: Callable[[], None],
        *,
        timeout: float = ECHO_WAIT,
    ) -> Callable[[], None]:
        """Wait for a push carrying ``request_id`` after its reply has come.

        The server's copy of ``incoming_event`` (or ``incoming_chat``) carries the
        id of the request that caused it, before or after the reply. When it comes
        after, this catches it: the first push for which ``match`` returns a value
        is passed to ``deliver``; with none within ``timeout`` seconds, or when the
        socket drops first, ``give_up`` is called instead.

        Returns:
            A function that cancels the wait (neither callback is called then).
        """
        echo = _Echo(match, deliver, give_up)
        echo.timer = asyncio.get_running_loop().call_later(
            timeout, self._echo_timed_out, request_id
        )
        self._echoes[request_id] = echo

        def cancel() -> None:
            self._end_echo(request_id, echo)

        return cancel

    def connection_lost(self) -> None:
        """The socket dropped: settle or re-queue what was on it.

        An event-creating request is looked up by its ``custom_id`` after the
        next login, then settled or sent again (rule 7). Requests whose action
        is in :data:`SAFE_TO_REPEAT` go back to the front of the queue, to be
        written again (once) after the next login; the others, and those
        already re-sent once, fail with :class:`ConnectionLost`, since the
        server may or may not have applied them.
        """
        self._socket = None
        lost = self._session.connection_lost()
        self._give_up_echoes()
        self._answered()
        for pending in reversed(lost):
            pending.request_id = None
            if pending.done:
                continue
            if pending.key is not None:
                self._look_up(pending)
            elif pending.method.action in SAFE_TO_REPEAT and not pending.resent:
                pending.resent = True
                self._wait(pending, first=True)
            else:
                fail(
                    pending,
                    ConnectionLost(
                        f"the connection dropped before {pending.method.action!r} "
                        "was answered; it may or may not have been applied"
                    ),
                )

    def halt(self, error: LiveChatError) -> None:
        """Fail every request with ``error``: queued, in flight, and new ones.

        New requests keep failing until :meth:`resume`.
        """
        self._halted = error
        self._give_up_echoes()
        self._answered()
        everything = [
            *self._session.in_flight.values(),
            *(self._queue or ()),
            *self._lookups,
        ]
        self._queue = None
        for task in self._lookups.values():
            task.cancel()
        self._lookups.clear()
        for pending in everything:
            if not pending.done:
                fail(pending, error)

    def resume(self) -> None:
        """Accept requests again (they wait for the next login)."""
        self._halted = None

    def close(self) -> None:
        """Close the session for good (after :meth:`halt`)."""
        self._socket = None
        self._session.close()

    # Private methods ----------------------------------------------------------------

    def _wait(self, pending: Pending, *, first: bool = False) -> None:
        queue = self._queue
        if queue is None:
            queue = self._queue = deque()
        if first:
            queue.appendleft(pending)
        else:
            queue.append(pending)

    def _has_room(self) -> bool:
        session = self._session
        socket = self._socket
        return (
            session.state is State.LOGGED_IN
            and len(session.in_flight) < self._max_in_flight
            and not (socket is not None and socket.paused)
        )

    def _paused(self) -> bool:
        """Whether the peer is not reading what was written (requests wait)."""
        return self._socket is not None and self._socket.paused

    def _pump(self) -> None:
        queue = self._queue
        if not queue or not self._session.logged_in:
            return
        in_flight = self._session.in_flight
        while queue and len(in_flight) < self._max_in_flight and not self._paused():
            pending = queue.popleft()
            if not pending.done:
                self._write(pending)

    def _write(self, pending: Pending) -> None:
        socket = self._socket
        if socket is None:  # an urgent request with no socket: wait like others
            self._wait(pending, first=True)
            return
        request_id, data = self._session.send(pending.method, pending)
        pending.request_id = request_id
        if pending.key is not None:
            self._remember_sent(pending.key[1])
        socket.send(data)
        if log.isEnabledFor(logging.DEBUG):
            pending.sent_at = time.monotonic()
            log.debug("sent %s (request %s)", pending.method.action, request_id)

    def _remember_sent(self, custom_id: str) -> None:
        sent = self._sent
        if sent is None:
            sent = self._sent = OrderedDict()
        sent[custom_id] = None
        if len(sent) > MAX_SENT_IDS:
            sent.popitem(last=False)

    def _look_up(self, pending: Pending) -> None:
        """Find ``pending``'s event in its chat, then settle or send it (rule 7)."""
        pending.uncertain = True
        task = asyncio.get_running_loop().create_task(self._resolve(pending))
        self._lookups[pending] = task
        task.add_done_callback(lambda _: self._end_lookup(pending, task))

    def _end_lookup(
        self, pending: Pending, task: asyncio.Task[None] | None = None
    ) -> None:
        current = self._lookups.get(pending)
        if current is None or (task is not None and current is not task):
            return
        del self._lookups[pending]
        if task is None:
            current.cancel()

    async def _resolve(self, pending: Pending) -> None:
        key = pending.key
        assert key is not None
        # Each lookup waits for a login like any request; one lost to a drop
        # or a slow reply is tried again until the request itself expires.
        while True:
            try:
                # An earlier try still on the socket (abandoned by a retry) may
                # not be applied yet: only its answer makes "absent" certain.
                if self._on_the_socket(key):
                    answered = self._answers.get(key)
                    if answered is None:
                        loop = asyncio.get_running_loop()
                        answered = self._answers[key] = loop.create_future()
                    await asyncio.shield(answered)
                found = await find_sent(self.ask, *key)
                outcome = found and await settled(self.ask, pending.method, *found)
                break
            except (ConnectionLost, RequestTimeoutError) as exc:
                if self._halted is None:
                    if settled_meanwhile(pending):
                        return
                    continue
                error: LiveChatError = self._halted
                error.__context__ = exc
            except LiveChatError as exc:  # the chat refused: a definite answer
                error = exc
            if not settled_meanwhile(pending):
                fail(pending, error)
            return
        if settled_meanwhile(pending):
            return
        pending.uncertain = False
        if not outcome:  # not applied: send it now, ahead of the rest
            self._wait(pending, first=True)
            self._pump()
            return
        reply, pending._pushes = outcome
        succeed(pending, reply)

    def _on_the_socket(self, key: Key) -> bool:
        """Whether a request for ``key`` is written and not answered yet."""
        return any(p.key == key for p in self._session.in_flight.values())

    def _answered(self, key: Key | None = None) -> None:
        """The earlier try for ``key`` (all: ``None``) left the socket."""
        answers = self._answers
        for done in [key] if key is not None else list(answers):
            waiter = answers.pop(done, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    def _end_echo(self, request_id: str, echo: _Echo | None = None) -> _Echo | None:
        current = self._echoes.get(request_id)
        if current is None or (echo is not None and current is not echo):
            return None
        del self._echoes[request_id]
        if current.timer is not None:
            current.timer.cancel()
        return current

    def _echo_timed_out(self, request_id: str) -> None:
        echo = self._end_echo(request_id)
        if echo is not None:
            echo.give_up()

    def _give_up_echoes(self) -> None:
        for request_id in list(self._echoes):
            self._echo_timed_out(request_id)

    def _expire(self, pending: Pending) -> None:
        if pending.done:
            return
        action = pending.method.action
        if pending.uncertain:
            self._end_lookup(pending)
            error = RequestTimeoutError(
                f"could not confirm within the request timeout whether {action!r} "
                "was applied (it was not sent again)"
            )
        elif pending.request_id is not None:
            error = RequestTimeoutError(
                f"no reply to {action!r} within the request timeout"
            )
        else:  # never sent: say why, not "no reply"
            error = NotConnectedError(
                f"{action!r} was not sent: not connected within the request timeout"
                + (f": {self.not_connected}" if self.not_connected else "")
            )
            error.__cause__ = self.not_connected
        fail(pending, error)
        pending.abandoned = True


def _error_of(frame: ErrorResponse) -> Exception:
    error = frame.error
    return server_error(
        error.type,
        error.message,
        data=error.data,
        action=frame.action,
        request_id=frame.request_id,
    )
