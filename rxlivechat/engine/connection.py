"""The connection's life: one task connects, logs in, reads, pings and reconnects.

.. code-block:: text

    run ─► token ─► socket ─► login ─► list_chats ─► "connected"/"connection_restored"
     ▲                          │        └─► recover missed events ─► ping every 15 s
     └── backoff ◄── "connection_lost" ◄── the socket closes, or a ping goes unanswered

Where the connection is lives in one field (:class:`~.state.StateMachine`), moved
only through :data:`~.state.TRANSITIONS`; the task and the waiters live here.

Rules:

1. One task owns the connection (:meth:`Connection.start`); each socket calls
   one handler (:meth:`.inbox.Inbox.handle`) with every message, from the event
   loop's callback: no reader task. Nothing else reads the socket.
2. A closed socket ends the login (or the ping loop) and vice versa. Both run
   in the connection task: the socket closing cancels it, and that one
   cancellation is counted and undone as ``asyncio.timeout`` does.
3. A ``customer_disconnected`` reason either reconnects, refreshes the token then
   reconnects, or stops for good (docs/reconnect.md has the table).
4. Cancellation is never swallowed: cancelling the task (or the loop ending)
   stops it at once. :meth:`Connection.close` and :meth:`Connection.stop` take
   effect when called and return a task that finishes closing.
5. Nothing here refers to what listens beyond the listener, so an SDK dropped
   without ``destroy()`` can be collected (and then closes it).
6. Timers are asyncio timers on the engine's loop.
7. Requests never wait for a connection that cannot come: before :meth:`start`
   they fail at once (call ``connect()``), and while the attempts fail for a
   permanent reason (:func:`~.state.permanent_failure`: a refused token, a fatal
   login error) they fail at once with that error as their ``__cause__``
   (REFUSED). Before the first login (with ``fail_fast``, the default), any
   network failure does the same: requests and ``wait_connected`` fail with
   :class:`NotConnectedError` naming the last attempt's cause (refused, DNS,
   TLS, an HTTP status) as soon as an attempt failed, instead of timing out;
   after a login, requests wait through reconnects, and one that expires unsent
   says why it was not sent.
8. The connection is logged under ``rxlivechat``: INFO for logins, losses,
   reconnects and stops, DEBUG for each step; never a token.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from .. import events as ev
from ..cassette.recorder import Recorder
from ..events import NewEvent
from ..exceptions import (
    AuthenticationError,
    InvalidArgumentError,
    LiveChatError,
    SDKClosedError,
    ServerError,
    StoreError,
    TransportError,
)
from ..protocol import methods as m
from ..protocol.session import Session
from ..protocol.tokens import Token
from .access import Access, ConnectGate
from .backoff import ReconnectPolicy
from .closing import finish, spawn_held
from .commits import Durable
from .inbox import Inbox
from .options import Listener, Options
from .pending import Pending
from .pings import ping_loop
from .recovery import Chats
from .requests import Requests
from .state import (
    FATAL_LOGIN_ERRORS,
    ConnectionState,
    StateMachine,
    Trigger,
    permanent_failure,
)
from .transport import Socket, connect
from .waiters import LoginWaiters, not_connected
from .web import warn_if_legacy

__all__ = ["NOT_STARTED", "Connection"]

log = logging.getLogger("rxlivechat")

NOT_STARTED = "not connected: call connect() first (init(auto_connect=False) waits)"

_REFUSED = ConnectionState.REFUSED  # a global is quicker than Enum.X
_CLOSED = ConnectionState.CLOSED


class Connection:
    """One customer's connection: its state, its task, who waits for it.

    The :class:`~.engine.Engine` is a connection with the API the SDK calls.

    Args:
        options: what to connect to, and how.
        listener: told of every frame and every SDK event.
        max_chats: chats remembered at most (:data:`.recovery.MAX_CHATS`).
    """

    # Slots: one per customer, and a pool holds thousands.
    __slots__ = (
        "_access",
        "_backoff",
        "_chats",
        "_closing",
        "_durable",
        "_gate",
        "_inbox",
        "_listener",
        "_machine",
        "_recorder",
        "_requests",
        "_runner",
        "_session",
        "_stopped_runner",
        "_waiters",
        "customer_id",
        "identity_cookies",
        "loop",
        "options",
    )

    def __init__(self, options: Options, listener: Listener, *, max_chats: int) -> None:
        self.options = options
        self._listener = listener
        self.loop: asyncio.AbstractEventLoop | None = _running_loop()
        """The loop the engine runs on (set again by :meth:`start`)."""
        self._machine = StateMachine()
        self._session: Session[Pending] = Session()
        telemetry = options.telemetry
        self._requests = Requests(
            self._session,
            timeout=options.request_timeout,
            trace=None if telemetry is None else telemetry.request_started,
        )
        try:
            self._backoff = ReconnectPolicy(
                *options.reconnect_delay, per_minute=options.reconnects_per_minute
            )
        except ValueError as exc:
            raise InvalidArgumentError(str(exc)) from None
        self.customer_id: str | None = None
        """The customer's id, once logged in."""
        self.identity_cookies: dict[str, str] = {}
        """The accounts cookies that are the customer's identity (the cookie
        grant): the default token provider sends and updates this dict, and
        the store keeps it."""
        self._recorder: Recorder | None = None
        if options.record is not None:
            self._recorder = Recorder(
                options.record, organization_id=options.organization_id
            )
        self._access = Access(
            options,
            self.identity_cookies,
            record=None if self._recorder is None else self._recorder.http,
        )
        self._chats = Chats(max_chats=max_chats)
        self._durable = Durable(options, self.identity_cookies, self._report)
        self._inbox = Inbox(
            self._requests,
            listener,
            self._machine,
            self._chats,
            self._durable,
            self._access,
            telemetry,
            self._emit,
        )
        self._runner: asyncio.Task[None] | None = None
        self._stopped_runner: asyncio.Task[None] | None = None
        self._closing: asyncio.Task[None] | None = None
        self._waiters = LoginWaiters()
        self._gate = ConnectGate(None, None)
        """This socket's pass through the shared connect gate."""
        self._requests.halt(SDKClosedError(NOT_STARTED))

    # State --------------------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        """Where the connection is (:mod:`.state`)."""
        return self._machine.state

    @property
    def connected(self) -> bool:
        """Whether the customer is logged in on an open socket right now."""
        return self._session.logged_in and self.running

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called: the engine is done for good."""
        return self._machine.state is _CLOSED

    @property
    def running(self) -> bool:
        """Whether the connection task is running (connected or trying to be)."""
        return self._machine.state.running

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The connection task, while it runs."""
        return self._runner if self.running else None

    # Life ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start connecting (and reconnecting) in the background; no-op if running.

        Raises:
            SDKClosedError: the engine was closed.
        """
        if self.closed:
            raise SDKClosedError("the SDK was destroyed")
        if self.running:
            return
        self.loop = loop = asyncio.get_running_loop()
        self._requests.resume()
        self._requests.not_connected = None
        log.info(
            "connecting to %s (organization %s)",
            self._access.web.api_url,
            self.options.organization_id,
        )
        self._machine.move(Trigger.START)
        runner = loop.create_task(
            self._run(previous=self._stopped_runner), name="rxlivechat-connection"
        )
        runner.add_done_callback(self._ended)
        self._runner = runner

    def stop(self, error: LiveChatError) -> asyncio.Task[None] | None:
        """Stop for now: no reconnect; every request fails with ``error``.

        Takes effect at once; the task it returns finishes closing the socket
        (awaiting it is optional). :meth:`start` starts again.
        """
        return self._let_go(Trigger.STOP, error)

    def close(self) -> asyncio.Task[None] | None:
        """Stop for good and release the socket and the HTTP session.

        Takes effect at once (later calls raise :class:`SDKClosedError`); the
        task it returns finishes closing (``None``: no loop runs, so nothing was
        ever opened). Calling it again returns the same task.
        """
        if not self.closed:
            error = SDKClosedError("the SDK was destroyed")
            stopped = self._let_go(Trigger.CLOSE, error)
            self._requests.close()
            self._closing = spawn_held(self._release(stopped), "close")
        return self._closing

    def abandon_unclosed(self) -> None:
        """Close from a finalizer: the loop may be gone, so nothing may raise."""
        if self.closed:
            return
        runner = self._runner
        if runner is None or runner.get_loop().is_closed():
            self._machine.move(Trigger.CLOSE)  # nothing runs that needs closing
            return
        loop = runner.get_loop()
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self.close()
        else:  # collected on another thread: close on the engine's own loop
            loop.call_soon_threadsafe(self.close)

    async def wait_connected(
        self, timeout: float | None = None, *, fail_fast: bool | None = None
    ) -> None:
        """Wait until the customer is logged in (returns at once if it is).

        Args:
            timeout: seconds to wait at most; ``None``: as long as it takes.
            fail_fast: fail as soon as an attempt fails (at once between
                failed attempts), rather than wait for a later one. ``None``:
                the ``fail_fast`` option until the first login, then ``False``.

        Raises:
            NotConnectedError: an attempt failed (with ``fail_fast``), or the
                wait timed out after failed attempts; the last attempt's
                failure is its ``__cause__`` and is named in its message.
            TimeoutError: not connected within ``timeout`` seconds, no attempt
                having failed.
            SDKClosedError: the engine stopped before connecting.
            ConnectError: the attempts fail for a permanent reason (its
                ``__cause__``), such as a token refused for a wrong organization.
        """
        if self.connected:
            return
        if not self.running:
            raise SDKClosedError(
                "the SDK was destroyed"
                if self.closed
                else "not connecting: call connect() first"
            )
        if fail_fast is None:
            fail_fast = self.options.fail_fast and self.customer_id is None
        if self._machine.state is _REFUSED:  # what the last attempt failed with
            refusal = self._requests.halted
            cause = None if refusal is None else refusal.__cause__
            if refusal is not None and (
                fail_fast or (isinstance(cause, Exception) and permanent_failure(cause))
            ):
                raise refusal
        requests = self._requests
        await self._waiters.wait(
            timeout, fail_fast=fail_fast, failure=lambda: requests.not_connected
        )

    # The connection task ------------------------------------------------------------

    async def _run(self, previous: asyncio.Task[None] | None) -> None:
        """Run the connection; a cancellation from outside stops it for now.

        :meth:`stop` and :meth:`close` cancel it too, having settled everything
        first; any other cancellation (the loop ending, a user's ``cancel()``)
        fails what is pending here, since nothing will send it.
        """
        try:
            if previous is not None:  # one socket at a time: let it close first
                await asyncio.wait({previous})
            try:
                await self._durable.open(self._chats.ledger)
            except StoreError as exc:
                self._store_failed(exc)
                return
            await self._connect_forever()
        except asyncio.CancelledError:
            if self._current():  # the loop is ending, or a user's cancel()
                error = SDKClosedError(
                    "the connection task was cancelled; call connect() to resume"
                )
                self._requests.halt(error)
                self._waiters.wake(error)
                await self._access.close()
            raise
        finally:
            self._ended(asyncio.current_task())  # before the task is seen done

    async def _connect_forever(self) -> None:
        """Connect, log in, read until the socket drops; again, with backoff."""
        loop = asyncio.get_running_loop()
        machine = self._machine
        restoring = False
        while True:
            reason: ev.Disconnected | None = None
            cause: BaseException | None = None
            failure: LiveChatError | None = None
            try:
                reason = await self._socket_life(restoring)
            except _Stop as stop:
                reason, cause = stop.reason, stop.__cause__
            except LiveChatError as exc:
                log.info("connection attempt failed: %s", exc)
                self._emit("error", exc)
                failure = exc
            except Exception as exc:  # a bug: report it, and keep the SDK alive
                log.exception("unexpected error in the connection loop")
                self._emit("error", exc)
            if not self._current():  # a listener stopped it meanwhile: end quietly
                return
            restoring = restoring or self.customer_id is not None
            if reason is not None:
                self._give_up(reason, cause)
                return
            logged_in = machine.state.logged_in
            if failure is None:
                machine.move(Trigger.DROPPED)
            else:
                self._attempt_failed(failure)  # refused, or dropped
                failure = None  # not kept (with its frames) through the backoff
            delay = self._backoff.next_delay(loop.time(), logged_in=logged_in)
            log.info("reconnecting in %.2f s", delay)
            await asyncio.sleep(delay)
            machine.move(Trigger.RETRY)

    async def _socket_life(self, restoring: bool) -> ev.Disconnected | None:
        """One socket's life. Returns a reason to stop for good, or ``None``."""
        gate = ConnectGate(self.options.connect_gate, self.options.telemetry)
        await gate.enter()
        try:
            log.debug("fetching a customer token")
            token = await self._access.token()
            log.debug("customer token fetched (expires at %s)", token.expires_at)
            if self._machine.state is _REFUSED:  # passed: requests may wait again
                self._machine.move(Trigger.TOKEN)
                self._requests.resume()
            url = self._access.rtm_url()
            log.debug("opening the socket: %s", url)
            socket = await connect(
                url, timeout=self.options.connect_timeout, ssl=self.options.ssl
            )
            warn_if_legacy(self.options.api_version, socket.headers.get("legacy"))
        except BaseException:
            gate.leave()
            raise
        log.debug("socket open; logging in")
        self._requests.connection_made(socket)
        self._inbox.dismissal = None
        handle: Callable[[bytes], None] = self._inbox.handle
        if self._recorder is not None:  # the one check: frames then pass the tap
            handle = self._recorder.tap(socket, handle, url)
        socket.listen(handle)
        self._gate = gate  # left by _announce(), once logged in
        # The login and then the pings run in this task. A socket that closes
        # first cancels it (the way asyncio.timeout does: counted, undone here),
        # so a socket's life costs no task and no wait of its own.
        task = asyncio.current_task()
        assert task is not None
        cancelling = task.cancelling()
        living, dropped = True, False

        def drop(_: object) -> None:
            nonlocal dropped
            if living:
                dropped = True
                task.cancel()

        socket.done.add_done_callback(drop)
        try:
            await self._logged_in(token, socket, restoring)  # until a ping fails
        except asyncio.CancelledError:
            if not dropped or task.uncancel() > cancelling:
                raise  # cancelled from outside too: stop, after the cleanup
        finally:
            living = False
            socket.done.remove_done_callback(drop)
            gate.leave()
            was_logged_in = self._session.logged_in
            self._requests.connection_lost()
            if was_logged_in and self._current():
                log.info("connection lost")
                self._emit("connection_lost", None)
            try:
                await socket.close()  # at once if a failed ping aborted it
            finally:
                # Read always: a failure never read is logged as unhandled.
                failed = socket.done.exception() if socket.done.done() else None
        if failed is not None:
            raise failed
        return self._inbox.dismissal

    async def _logged_in(self, token: Token, socket: Socket, restoring: bool) -> None:
        """Log in, announce the connection, recover missed events, then ping."""
        durable = self._durable
        resuming = durable.resuming
        recovers = restoring or resuming
        self._announce(await self._login(token, recovers))
        await durable.keep_identity(self.customer_id or "")
        # Pings go on during the recovery, which may be long.
        pinger = asyncio.get_running_loop().create_task(
            ping_loop(self._requests, socket), name="rxlivechat-ping"
        )
        try:
            await self._chats_summary(restoring, resuming)
            if recovers and await self._chats.recover(
                self._requests.ask, self._deliver, self._report
            ):
                await durable.flush_replay()
            durable.resuming = False
            if recovers and self._current():  # (a listener may have stopped it)
                self._machine.move(Trigger.CAUGHT_UP)
                for frame in self._chats.take_deferred():
                    self._inbox.push(frame)
        finally:
            self._chats.take_deferred()  # cut short: the next recovery finds them
            alive = not pinger.done()  # done: a ping went unanswered
            pinger.cancel()
            await asyncio.wait({pinger})
            del pinger  # a finished task keeps its coroutine and its exception
        if alive:  # ping from here on in this task: a task less per customer
            await ping_loop(
                self._requests, socket
            )  # returns when a ping goes unanswered

    async def _login(self, token: Token, recovers: bool) -> m.LoginResult:
        """Log in; the state moves as the reply is read, before any push after it."""
        login = msgspec.structs.replace(
            self.options.login,
            token=token.authorization,
            customer_side_storage=self._durable.side_storage or None,
        )
        machine = self._machine

        def logged_in(_: m.LoginResult) -> None:
            machine.move(Trigger.LOGGED_IN)
            if not recovers:  # nothing missed: live events pass at once
                machine.move(Trigger.CAUGHT_UP)

        try:
            return await self._requests.ask(login, urgent=True, on_reply=logged_in)
        except AuthenticationError:
            self._access.invalidate_token()
            raise
        except ServerError as exc:
            if exc.error_type in FATAL_LOGIN_ERRORS:
                raise _Stop(ev.Disconnected(reason=exc.error_type)) from exc
            raise

    def _announce(self, login: m.LoginResult) -> None:
        """Logged in: say who the customer is."""
        self._gate.leave()  # let the next customer log in
        self._requests.not_connected = None
        log.info("logged in as customer %s", login.customer.id)
        previous, self.customer_id = self.customer_id, login.customer.id
        if previous is not None and previous != login.customer.id:
            # The token now names another customer (its identity cookies were
            # lost, say): what the SDK knew of the previous one's chats goes.
            log.warning("the customer changed: %s, was %s", login.customer.id, previous)
            self._chats.forget()
            self._emit(
                "identity_changed",
                ev.IdentityChanged(previous_id=previous, new_id=login.customer.id),
            )
        self._emit("customer_id", login.customer.id)
        self._emit("user_data", login.customer)

    async def _chats_summary(self, restoring: bool, resuming: bool) -> None:
        """Learn the customer's chats, then announce the connection.

        A function of its own, so the socket's long-lived task keeps none of
        the summary alive while it pings.
        """
        if self.options.api_version == "3.7":
            info = await self._requests.ask(m.ListChatsInfo(limit=25))
            summary = info.as_summary()
        else:
            summary = await self._requests.ask(m.ListChats(limit=25))
        connected = ev.Connected(
            chats_summary=self._chats.learn(summary, resuming=resuming),
            total_chats=summary.total_chats,
            customer_id=self.customer_id or "",
        )
        self._emit("connection_restored" if restoring else "connected", connected)
        self._waiters.wake(None)

    # How the task ends, or fails ----------------------------------------------------

    def _current(self) -> bool:
        """Whether this is the engine's connection task.

        A task :meth:`stop` let go is not: it ends quietly.
        """
        return self._runner is not None and asyncio.current_task() is self._runner

    def _ended(self, runner: asyncio.Task[Any] | None) -> None:
        """The connection task ends: by itself, unless stop() let it go.

        Called as it returns, and once done (for a task cancelled before it
        ever ran); the first call moves the state.
        """
        if (
            runner is not None
            and runner is self._runner
            and self._machine.state.running
        ):
            self._machine.move(Trigger.ENDED)

    def _let_go(
        self, trigger: Trigger, error: LiveChatError
    ) -> asyncio.Task[None] | None:
        """Stop or close: no reconnect; every request fails with ``error``."""
        was_running = self.running
        self._machine.move(trigger)
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.cancel()
            self._stopped_runner = runner
        self._requests.halt(error)
        self._waiters.wake(error)
        if was_running:
            log.info("disconnected (manual)")
            self._emit("disconnected", ev.Disconnected(reason="manual"))
        return spawn_held(finish(runner), "stop")

    def _give_up(self, reason: ev.Disconnected, cause: BaseException | None) -> None:
        """Stop for good from inside the task: settle what waits, say why."""
        self._machine.move(Trigger.GIVE_UP)
        log.info("disconnected for good (%s)", reason.reason)
        error = SDKClosedError(
            f"disconnected for good ({reason.reason}); call connect() to try again"
        )
        error.__cause__ = cause  # the login error that stopped it, if any
        self._requests.halt(error)
        waiters = SDKClosedError(f"disconnected ({reason.reason})")
        waiters.__cause__ = cause
        self._waiters.wake(waiters)
        self._emit("disconnected", reason)

    def _store_failed(self, error: StoreError) -> None:
        """The store cannot be opened: stop, and tell whoever waits why."""
        self._machine.move(Trigger.GIVE_UP)
        log.error("cannot open the store: %s", error)
        self._emit("error", error)
        self._requests.halt(error)
        self._waiters.wake(error)
        self._emit("disconnected", ev.Disconnected(reason="store_error"))

    def _attempt_failed(self, cause: LiveChatError) -> None:
        """Refuse requests, or retry; tell whoever asked why it failed (rule 7)."""
        refuse = permanent_failure(cause)
        if refuse or isinstance(cause, TransportError):  # else the server's error
            self._requests.not_connected = cause
        if refuse or (
            isinstance(cause, TransportError)
            and self.options.fail_fast
            and self.customer_id is None
        ):
            self._machine.move(Trigger.REFUSE)  # until an attempt gets further
            error = not_connected(cause)
            self._requests.halt(error)
            self._waiters.wake(error, fail_fast_only=not refuse)
            return
        self._machine.move(Trigger.DROPPED)
        if isinstance(cause, TransportError):
            self._waiters.wake(not_connected(cause), fail_fast_only=True)

    # Reporting ----------------------------------------------------------------------

    def _emit(self, name: str, payload: Any) -> None:
        if self._machine.state is not _CLOSED or name == "disconnected":
            telemetry = self.options.telemetry
            if telemetry is not None:
                telemetry.event(name)
            self._listener.on_event(name, payload)
            if name == "new_event":  # every subscriber returned: handed out
                self._durable.commits.handed_out(
                    payload.chat, payload.thread, payload.event
                )

    def _deliver(self, event: NewEvent) -> None:
        self._emit("new_event", event)

    def _report(self, error: Exception) -> None:
        self._emit("error", error)

    async def _release(self, stopped: Awaitable[None] | None) -> None:
        try:
            if stopped is not None:
                await stopped
        finally:
            try:
                await self._durable.close()
            finally:
                await self._access.close()
                if self._recorder is not None:
                    self._recorder.close()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class _Stop(Exception):
    """Raised inside the connection task to stop for good, with the reason."""

    def __init__(self, reason: ev.Disconnected) -> None:
        super().__init__(reason.reason)
        self.reason = reason
