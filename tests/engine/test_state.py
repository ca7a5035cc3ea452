"""The connection's state: the table itself, and the moves real connections make.

The table (rxlivechat/engine/state.py) is walked entry by entry: every legal
move lands where it says, every other pair raises. Then real SDKs on the sandbox
(and on a port nothing listens on) are traced move by move, through a login, a
drop and its recovery, a stop and a restart, a refused token, a fatal login, a
ban, a store that cannot open, and a task cancelled from outside.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

import rxlivechat
from rxlivechat import (
    ConnectError,
    SDKClosedError,
    StoreCorruptError,
    TokenRefusedError,
)
from rxlivechat.engine.state import (
    TRANSITIONS,
    ConnectionState as S,
    IllegalTransition,
    StateMachine,
    Trigger as T,
    next_state,
)
from rxlivechat.sandbox import Sandbox

from ..helpers import CREATED, Recorder, connect, until

Move = tuple[S, T, S | None]
"""A move: from, trigger, to (``None``: illegal, raised)."""


# The table ----------------------------------------------------------------------------


def legal_moves() -> Iterator[Move]:
    for state, moves in TRANSITIONS.items():
        for trigger, target in moves.items():
            yield state, trigger, target


def test_every_state_has_a_row() -> None:
    assert set(TRANSITIONS) == set(S)


@pytest.mark.parametrize(
    ("state", "trigger", "target"),
    list(legal_moves()),
    ids=[f"{s.value}-{t.value}" for s, t, _ in legal_moves()],
)
def test_every_legal_move_lands_where_the_table_says(
    state: S, trigger: T, target: S
) -> None:
    machine = StateMachine()
    machine.state = state
    assert machine.move(trigger) is target
    assert machine.state is target
    assert next_state(state, trigger) is target


def test_every_move_the_table_does_not_list_raises() -> None:
    illegal = [
        (state, trigger)
        for state, trigger in itertools.product(S, T)
        if trigger not in TRANSITIONS[state]
    ]
    assert len(illegal) == len(S) * len(T) - len(list(legal_moves()))
    assert (S.CONNECTED, T.REFUSE) in illegal  # a logged-in attempt is never refused
    for state, trigger in illegal:
        machine = StateMachine()
        machine.state = state
        with pytest.raises(IllegalTransition, match=trigger.value):
            machine.move(trigger)
        assert machine.state is state  # an illegal move changes nothing


def test_every_state_is_reached_and_every_running_state_can_stop() -> None:
    reached, frontier = {S.IDLE}, [S.IDLE]
    while frontier:
        for target in TRANSITIONS[frontier.pop()].values():
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(S)
    for state in S:
        moves = TRANSITIONS[state]
        assert moves.get(T.STOP) in (S.IDLE, S.CLOSED)  # stop() is always allowed
        if state is not S.CLOSED:
            assert moves[T.CLOSE] is S.CLOSED
        assert state.running is (T.ENDED in moves)  # a task may end only if one runs


# Real connections, traced -------------------------------------------------------------


class Trace:
    """Every move of every engine's state machine, from now on."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.moves: dict[int, list[Move]] = {}  # engine's machine → its moves
        original = StateMachine.move
        moves = self.moves

        def move(machine: StateMachine, trigger: T) -> S:
            before = machine.state
            try:
                after = original(machine, trigger)
            except IllegalTransition:  # recorded as a move to nowhere, and raised
                moves.setdefault(id(machine), []).append((before, trigger, None))
                raise
            moves.setdefault(id(machine), []).append((before, trigger, after))
            return after

        monkeypatch.setattr(StateMachine, "move", move)

    def of(self, sdk: rxlivechat.CustomerSDK) -> list[Move]:
        """The moves of ``sdk``'s engine so far."""
        return self.moves.get(id(sdk._engine._machine), [])

    def triggers(self, sdk: rxlivechat.CustomerSDK) -> list[T]:
        return [trigger for _, trigger, _ in self.of(sdk)]


@pytest.fixture
def trace(monkeypatch: pytest.MonkeyPatch) -> Trace:
    return Trace(monkeypatch)


LOGIN = [T.LOGGED_IN, T.CAUGHT_UP]


def state_of(sdk: rxlivechat.CustomerSDK) -> S:
    """Where ``sdk``'s connection is now."""
    return sdk._engine.state


async def test_a_session_moves_through_login_recovery_stop_and_close(
    sandbox: Sandbox, trace: Trace
) -> None:
    sdk = connect(sandbox)
    seen = Recorder(sdk)
    await sdk.wait_connected(timeout=10)
    assert state_of(sdk) is S.CONNECTED
    await sandbox.drop_connections()
    await seen.wait_for("connection_restored")
    await sdk.disconnect()
    assert state_of(sdk) is S.IDLE
    sdk.connect()
    await sdk.wait_connected(timeout=10)
    await sdk.destroy()
    sdk.disconnect()  # after destroy(): allowed, changes nothing
    assert trace.of(sdk) == [
        (S.IDLE, T.START, S.CONNECTING),
        (S.CONNECTING, T.LOGGED_IN, S.RECOVERING),
        (S.RECOVERING, T.CAUGHT_UP, S.CONNECTED),  # nothing to recover yet
        (S.CONNECTED, T.DROPPED, S.RETRYING),
        (S.RETRYING, T.RETRY, S.CONNECTING),
        (S.CONNECTING, T.LOGGED_IN, S.RECOVERING),
        (S.RECOVERING, T.CAUGHT_UP, S.CONNECTED),  # the missed events are out
        (S.CONNECTED, T.STOP, S.IDLE),
        (S.IDLE, T.START, S.CONNECTING),
        (S.CONNECTING, T.LOGGED_IN, S.RECOVERING),
        (S.RECOVERING, T.CAUGHT_UP, S.CONNECTED),
        (S.CONNECTED, T.CLOSE, S.CLOSED),
        (S.CLOSED, T.STOP, S.CLOSED),
    ]
    assert seen.names().count("connection_restored") == 1


async def test_live_events_wait_while_recovering(
    sandbox: Sandbox, trace: Trace
) -> None:
    sdk = connect(sandbox)
    seen = Recorder(sdk)
    await sdk.wait_connected(timeout=10)
    chat = await sdk.start_chat([rxlivechat.Message(text="hi")])
    agent = sandbox.agent("Ann")
    await agent.join(chat.id)
    sandbox.delay_replies(1.0, "list_threads")  # the recovery walk is slow
    await sandbox.drop_connections()
    await until(lambda: state_of(sdk) is S.RECOVERING)
    await agent.send_message(chat.id, "while recovering")
    await until(lambda: bool(sdk._engine._chats._deferred))  # the live push waits
    assert state_of(sdk) is S.RECOVERING
    assert seen.texts_by(agent.id) == []
    await seen.wait_for("connection_restored")
    await until(lambda: "while recovering" in seen.texts_by(agent.id))
    assert trace.triggers(sdk)[-2:] == [T.LOGGED_IN, T.CAUGHT_UP]
    assert sdk._engine._chats._deferred is None
    assert seen.texts_by(agent.id) == ["while recovering"]  # once, after recovery


async def test_a_refused_token_refuses_requests_until_a_token_comes(
    sandbox: Sandbox, trace: Trace
) -> None:
    refusals = 2

    async def provider() -> str:
        nonlocal refusals
        if refusals:
            refusals -= 1
            raise TokenRefusedError("wrong client id", status=403)
        return (await sandbox.create_customer_token()).access_token

    sdk = connect(sandbox, token_provider=provider, reconnect_delay=(0.05, 0.1))
    seen = Recorder(sdk)
    await until(lambda: state_of(sdk) is S.REFUSED)
    with pytest.raises(ConnectError) as refused:
        await sdk.get_customer()  # at once, not after the request timeout
    assert isinstance(refused.value.__cause__, TokenRefusedError)
    await seen.wait_for("connected")
    assert trace.triggers(sdk) == [
        T.START,
        T.REFUSE,
        T.RETRY,
        T.REFUSE,  # refused again: still REFUSED
        T.RETRY,
        T.TOKEN,  # requests wait again
        *LOGIN,
    ]
    assert (S.REFUSED, T.RETRY, S.REFUSED) in trace.of(sdk)
    assert (S.REFUSED, T.TOKEN, S.CONNECTING) in trace.of(sdk)


async def test_no_server_before_the_first_login_refuses_or_retries(
    trace: Trace,
) -> None:
    nowhere = "http://127.0.0.1:9"  # nothing listens there

    def init(fail_fast: bool) -> rxlivechat.CustomerSDK:
        return rxlivechat.init(
            organization_id="o",
            client_id="c",
            api_url=nowhere,
            accounts_url=nowhere,
            reconnect_delay=(0.01, 0.02),
            fail_fast=fail_fast,
        )

    fast, patient = init(fail_fast=True), init(fail_fast=False)
    CREATED.extend((fast, patient))
    await until(lambda: len(trace.of(fast)) >= 4 and len(trace.of(patient)) >= 4)
    await fast.destroy()
    await patient.destroy()
    assert trace.triggers(fast)[:4] == [T.START, T.REFUSE, T.RETRY, T.REFUSE]
    assert trace.triggers(patient)[:4] == [T.START, T.DROPPED, T.RETRY, T.DROPPED]
    assert trace.of(fast)[-1][1:] == (T.CLOSE, S.CLOSED)
    assert trace.of(patient)[-1][1:] == (T.CLOSE, S.CLOSED)


async def test_a_fatal_login_error_gives_up_and_the_task_ends(
    sandbox: Sandbox, trace: Trace
) -> None:
    sandbox.fail_next("login", "customer_banned")
    sdk = connect(sandbox)
    seen = Recorder(sdk)
    await seen.wait_for("disconnected")
    await until(lambda: state_of(sdk) is S.IDLE)
    assert trace.of(sdk) == [
        (S.IDLE, T.START, S.CONNECTING),
        (S.CONNECTING, T.GIVE_UP, S.ENDING),
        (S.ENDING, T.ENDED, S.IDLE),
    ]
    sdk.connect()  # only an explicit connect() tries again
    await sdk.wait_connected(timeout=10)
    assert trace.triggers(sdk)[3:] == [T.START, *LOGIN]


async def test_a_ban_while_connected_gives_up(sandbox: Sandbox, trace: Trace) -> None:
    sdk = connect(sandbox)
    seen = Recorder(sdk)
    await sdk.wait_connected(timeout=10)
    await sandbox.disconnect_customers("customer_banned")
    await seen.wait_for("disconnected")
    await until(lambda: not sdk._engine.running)
    assert trace.of(sdk)[-2:] == [
        (S.CONNECTED, T.GIVE_UP, S.ENDING),
        (S.ENDING, T.ENDED, S.IDLE),
    ]


async def test_destroy_from_a_disconnected_handler_closes_while_ending(
    sandbox: Sandbox, trace: Trace
) -> None:
    sdk = connect(sandbox)
    sdk.on("disconnected", lambda _: sdk.destroy())
    await sdk.wait_connected(timeout=10)
    await sandbox.disconnect_customers("customer_banned")
    await until(lambda: sdk._engine.closed)
    assert trace.of(sdk)[-2:] == [
        (S.CONNECTED, T.GIVE_UP, S.ENDING),
        (S.ENDING, T.CLOSE, S.CLOSED),  # the task was let go: no "ended"
    ]


async def test_a_store_that_cannot_open_gives_up(
    sandbox: Sandbox, trace: Trace, tmp_path: Path
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database\n")
    sdk = connect(sandbox, store=str(path))
    with pytest.raises(StoreCorruptError):
        await sdk.wait_connected(timeout=5)
    await until(lambda: not sdk._engine.running)
    assert trace.triggers(sdk) == [T.START, T.GIVE_UP, T.ENDED]


async def test_a_task_cancelled_from_outside_ends(
    sandbox: Sandbox, trace: Trace
) -> None:
    sdk = connect(sandbox)
    await sdk.wait_connected(timeout=10)
    task = sdk._engine.task
    assert task is not None
    task.cancel()
    await asyncio.wait({task})
    assert not sdk._engine.running
    assert trace.of(sdk)[-1] == (S.CONNECTED, T.ENDED, S.IDLE)
    with pytest.raises(SDKClosedError, match="cancelled"):
        await sdk.get_customer()
    sdk.connect()  # starts again
    await sdk.wait_connected(timeout=10)


async def test_stop_and_close_before_any_start(trace: Trace) -> None:
    sdk = rxlivechat.init(organization_id="o", client_id="c", auto_connect=False)
    await sdk.disconnect()
    await sdk.destroy()
    assert trace.of(sdk) == [
        (S.IDLE, T.STOP, S.IDLE),
        (S.IDLE, T.CLOSE, S.CLOSED),
    ]


async def test_a_listener_that_disconnects_lets_the_task_go_quietly(
    sandbox: Sandbox, trace: Trace
) -> None:
    # disconnect() from inside the task's own reports: the task, let go, must
    # move nothing after the stop (no "dropped" from IDLE, no refusal).
    lost = connect(sandbox)
    lost.on("connection_lost", lambda _: lost.disconnect())
    await lost.wait_connected(timeout=10)
    failing = rxlivechat.init(
        organization_id="o",
        client_id="c",
        api_url="http://127.0.0.1:9",  # nothing listens: the attempt fails
        accounts_url="http://127.0.0.1:9",
    )
    CREATED.append(failing)
    failing.on("error", lambda _: failing.disconnect())
    await sandbox.drop_connections()
    await until(lambda: stopped(lost) and stopped(failing))
    assert trace.of(lost)[-1] == (S.CONNECTED, T.STOP, S.IDLE)  # and nothing after
    assert trace.of(failing) == [
        (S.IDLE, T.START, S.CONNECTING),
        (S.CONNECTING, T.STOP, S.IDLE),
    ]
    assert state_of(lost) is state_of(failing) is S.IDLE
    lost.connect()  # and it starts again
    await lost.wait_connected(timeout=10)


def stopped(sdk: rxlivechat.CustomerSDK) -> bool:
    """Whether ``sdk``'s connection was stopped and its task has ended."""
    task = sdk._engine._stopped_runner
    return not sdk._engine.running and task is not None and task.done()
