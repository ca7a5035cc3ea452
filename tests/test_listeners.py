"""on / once / off: event names checked, async handlers run bounded, errors reported."""

from __future__ import annotations

import ast
import asyncio
import copy
import gc
import json
import logging
import subprocess
import sys
import tracemalloc
import typing
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import rxlivechat
import rxlivechat.listeners
from rxlivechat import (
    Connected,
    CustomerSDK,
    InvalidArgumentError,
    Message,
    NewEvent,
    ProtocolError,
    StreamOverflowError,
)
from rxlivechat.events import EVENT_NAMES, check_event_name, events_of_push
from rxlivechat.handlers import Overflow
from rxlivechat.protocol import codec
from rxlivechat.protocol.frames import Push
from rxlivechat.sandbox import Sandbox
from rxlivechat.stores import MemoryStore

from .engine.hostile import Connection, HostileServer, incoming_event, message
from .generated import formatted
from .helpers import CREATED, Recorder, connect, until
from .vectors import load, params

# Event names --------------------------------------------------------------------------


@pytest.mark.parametrize("name", params(".push.json"))
def test_every_push_becomes_events_with_listenable_names(name: str) -> None:
    if name.startswith("_"):
        pytest.skip("the envelope's general form, not one push")
    doc = load(name)
    envelope = (  # some examples are whole frames, most only the payload
        doc
        if doc.get("type") == "push"
        else {"action": name.removesuffix(".push.json"), "type": "push", "payload": doc}
    )
    try:
        frame = codec.decode_frame(json.dumps(envelope))
    except ProtocolError:
        pytest.skip("a doc bug (tests/protocol/test_catalogue.py says which)")
    assert isinstance(frame, Push)
    names = [event for event, _ in events_of_push(frame)]
    assert names
    assert set(names) <= EVENT_NAMES


@pytest.mark.parametrize("method", [CustomerSDK.on, CustomerSDK.once])
def test_the_typed_overloads_cover_every_event_name_once(method: Any) -> None:
    covered: list[str] = []
    for overload in typing.get_overloads(method):
        hints = typing.get_type_hints(overload, vars(rxlivechat.listeners))
        covered += typing.get_args(hints["name"])
    assert sorted(covered) == sorted(EVENT_NAMES)


# The typed overloads, generated from PAYLOADS ----------------------------------------

LISTENERS = Path(rxlivechat.listeners.__file__)
BEGIN = "# Generated from PAYLOADS"
END = "# End of the generated overloads."


def spelled(payload: Any) -> str:
    """How the overloads write a payload type (PAYLOADS' values are importable)."""
    return "None" if payload is None else str(payload.__name__)


def overloads(implementation: ast.FunctionDef) -> list[str]:
    """One ``@overload`` of ``implementation`` per PAYLOADS row, then ``Any``'s."""
    rows = [
        (f"Literal[{', '.join(map(repr, names))}]", spelled(payload))
        for names, payload in rxlivechat.listeners.PAYLOADS.items()
    ]
    written = []
    for name_type, payload in [*rows, ("OtherEventName", "Any")]:
        variant = copy.deepcopy(implementation)
        variant.decorator_list = [ast.Name("overload")]
        variant.body = [ast.Expr(ast.Constant(...))]
        name, fn = variant.args.args[1:3]
        name.annotation = ast.parse(name_type, mode="eval").body
        fn.annotation = ast.parse(f"Callable[[{payload}], object]", mode="eval").body
        written.append(ast.unparse(variant))
    return written


def generated(source: str) -> str:
    """``source`` with each generated region rewritten, formatted by ruff."""
    implementations = {
        node.lineno: node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef) and node.name in ("on", "once")
        if not node.decorator_list
    }
    lines = source.splitlines(keepends=True)
    out: list[str] = []
    skipping = False
    for number, line in enumerate(lines, 1):
        if line.strip().startswith(END):
            skipping = False
        if skipping:
            continue
        out.append(line)
        if line.strip().startswith(BEGIN):
            skipping = True
            # The implementation is the first def after the region.
            after = min(n for n in implementations if n > number)
            indent = line[: len(line) - len(line.lstrip())]
            for text in overloads(implementations[after]):
                out += [f"{indent}{row}\n" for row in text.splitlines()]
    return formatted("".join(out), LISTENERS, sort_imports=False)


def test_the_overloads_are_what_payloads_generates() -> None:
    source = LISTENERS.read_text()
    assert source.count(BEGIN) == 2
    assert source == generated(source), "run: python -m tests.test_listeners"


def test_an_unknown_name_is_refused_with_the_closest_suggested() -> None:
    with pytest.raises(InvalidArgumentError, match="did you mean 'new_event'"):
        check_event_name("new_events")
    with pytest.raises(InvalidArgumentError, match="did you mean 'connection_lost'"):
        check_event_name("connectionLost")
    with pytest.raises(InvalidArgumentError, match="EventName lists them"):
        check_event_name("zzz")
    with pytest.raises(InvalidArgumentError, match="str"):
        check_event_name(7)


async def test_on_once_off_refuse_unknown_names(sandbox: Sandbox) -> None:
    sdk = connect(sandbox, auto_connect=False)
    bad: Any = "new_events"
    for listen in (sdk.on, sdk.once, sdk.off):
        with pytest.raises(InvalidArgumentError, match="did you mean 'new_event'"):
            listen(bad, print)
    with pytest.raises(InvalidArgumentError, match="callable"):
        sdk.on("new_event", "print")  # type: ignore[call-overload]
    await sdk.destroy()


# Handlers -------------------------------------------------------------------------


async def test_an_async_handler_runs_on_the_sdks_loop(sandbox: Sandbox) -> None:
    sdk = connect(sandbox)
    seen: list[str] = []

    async def greet(connected: Connected) -> None:
        await asyncio.sleep(0)
        seen.append(connected.customer_id)

    sdk.on("connected", greet)
    await sdk.wait_connected(timeout=10)
    await until(lambda: seen == [sdk.customer_id])
    await sdk.destroy()


async def test_a_handler_may_return_a_method_to_run(sdk: CustomerSDK) -> None:
    chat = await sdk.start_chat()
    replies: list[str] = []

    def reply(new: NewEvent) -> object:
        if isinstance(new.event, Message) and new.event.text == "ping":
            return sdk.send_event(new.chat, Message(text="pong"))
        if isinstance(new.event, Message):
            replies.append(new.event.text)
        return None

    sdk.on("new_event", reply)
    await sdk.send_event(chat.id, Message(text="ping"))
    await until(lambda: replies == ["pong"])


async def test_handler_errors_are_logged_at_error_and_emitted(
    sdk: CustomerSDK, caplog: pytest.LogCaptureFixture
) -> None:
    seen = Recorder(sdk)
    errors: list[Exception] = []
    sdk.on("error", errors.append)

    def broken(_: NewEvent) -> None:
        raise ValueError("sync handler bug")

    async def broken_async(_: NewEvent) -> None:
        await asyncio.sleep(0)
        raise KeyError("async handler bug")

    sdk.on("new_event", broken)
    sdk.once("new_event", broken_async)
    chat = await sdk.start_chat()
    await sdk.send_event(chat.id, Message(text="hi"))
    await until(lambda: len(errors) == 2)
    assert {type(e) for e in errors} == {ValueError, KeyError}
    assert [e for _, e in seen.items if _ == "error"] == errors
    # Logged with no logging configured by the test: ERROR passes the default level.
    logged = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.name for r in logged] == ["rxlivechat", "rxlivechat"]
    assert "'new_event' handler raised" in logged[0].getMessage()
    assert logged[0].exc_info is not None


async def test_an_async_error_handler_that_fails_is_only_logged(
    sdk: CustomerSDK, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[Exception] = []

    async def failing(exc: Exception) -> None:
        calls.append(exc)
        raise RuntimeError("the error handler's own bug")

    def broken(_: object) -> None:
        raise ValueError("boom")

    sdk.on("error", failing)
    sdk.on("new_event", broken)
    chat = await sdk.start_chat()
    await sdk.send_event(chat.id, Message(text="hi"))
    await until(lambda: "'error' handler raised" in caplog.text)
    assert len(calls) == 1  # not re-reported: no loop


async def test_destroy_cancels_running_async_handlers(sandbox: Sandbox) -> None:
    sdk = connect(sandbox)
    started = asyncio.Event()
    cancelled: list[bool] = []

    async def forever(_: Connected) -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    sdk.on("connected", forever)
    await asyncio.wait_for(started.wait(), 10)
    await sdk.destroy()
    assert cancelled == [True]


async def test_a_handler_may_destroy_the_sdk(sandbox: Sandbox) -> None:
    sdk = connect(sandbox)
    done: list[str] = []

    async def leave(_: Connected) -> None:
        await sdk.destroy()
        done.append("after destroy")  # the handler itself is not cancelled

    sdk.on("connected", leave)
    await until(lambda: done == ["after destroy"])


async def test_a_clean_shutdown_is_disconnected_manual_never_connection_lost(
    sandbox: Sandbox,
) -> None:
    sdk = connect(sandbox)
    seen = Recorder(sdk)
    await sdk.wait_connected(timeout=10)
    await sdk.disconnect()
    assert [p.reason for p in seen.of("disconnected")] == ["manual"]
    sdk.connect()
    await sdk.wait_connected(timeout=10)
    await sdk.destroy()
    assert [p.reason for p in seen.of("disconnected")] == ["manual", "manual"]
    assert "connection_lost" not in seen.names()


BROKEN_HANDLER = """
import asyncio, logging, sys
import rxlivechat
from rxlivechat.sandbox import Sandbox

if sys.argv[1] == "configured":
    logging.basicConfig(format="configured: %(message)s")

async def main() -> None:
    async with Sandbox() as sandbox:
        async with rxlivechat.init(
            organization_id=sandbox.organization_id,
            client_id="c",
            api_url=sandbox.api_url,
            accounts_url=sandbox.accounts_url,
        ) as sdk:
            def broken(connected: object) -> None:
                raise ValueError("my handler is broken")

            sdk.on("connected", broken)
            await sdk.wait_connected(10)

asyncio.run(main())
"""


@pytest.mark.parametrize("logging_setup", ["unconfigured", "configured"])
def test_a_broken_handler_is_never_silent(logging_setup: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", BROKEN_HANDLER, logging_setup],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    said = "a 'connected' handler raised: ValueError('my handler is broken')"
    lines = result.stderr.splitlines()
    prefix = "configured: " if logging_setup == "configured" else ""
    assert lines.count(prefix + said) == 1, result.stderr  # once, either way
    assert "ValueError: my handler is broken" in lines  # with its traceback


# Async handlers: bounded, in order, committed when done ------------------------------

MiB = 1024 * 1024
FLOOD = 20_000
BOUND = 1_000  # the default, 10,000, takes as long again to drain in debug mode


@pytest.fixture
async def server() -> AsyncIterator[HostileServer]:
    async with HostileServer() as hostile:
        yield hostile


async def connected_to(server: HostileServer) -> CustomerSDK:
    sdk = rxlivechat.init(**server.options())
    CREATED.append(sdk)
    await sdk.wait_connected(5)
    return sdk


def pushes(count: int) -> list[str]:
    """``count`` ``incoming_event`` frames: messages ``F0``, ``F1``... of ``C1``."""
    return [
        json.dumps(
            {
                "action": "incoming_event",
                "type": "push",
                "payload": incoming_event(
                    "C1", message(f"F{i}", "hi", "2026-01-01T00:00:01.000000Z")
                ),
            }
        )
        for i in range(count)
    ]


async def push_events(connection: Connection, frames: int | list[str]) -> None:
    """Send the frames (or ``pushes(frames)``) as fast as TCP takes them."""
    for frame in pushes(frames) if isinstance(frames, int) else frames:
        await connection.send_raw(frame)


def new_events_seen(sdk: CustomerSDK) -> list[int]:
    """A one-item counter of the ``new_event``s the stream delivered."""
    seen = [0]

    def count(item: tuple[str, Any]) -> None:
        seen[0] += item[0] == "new_event"

    sdk.subscribe(count)
    return seen


class Gated:
    """An async handler that waits for ``gate``; records starts, ends, overlap."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.started: list[str] = []
        self.handled: list[str] = []
        self.active = 0
        self.peak = 0

    async def __call__(self, new: NewEvent) -> None:
        self.started.append(str(new.event.id))
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            await self.gate.wait()
        finally:
            self.active -= 1
        self.handled.append(str(new.event.id))


def ids(numbers: range | list[int]) -> list[str]:
    return [f"F{i}" for i in numbers]


async def test_a_slow_async_handler_under_a_flood_keeps_tasks_and_memory_bounded(
    server: HostileServer,
) -> None:
    sdk = await connected_to(server)
    slow = Gated()
    errors: list[Exception] = []
    sdk.on("error", errors.append)
    sdk.on("new_event", slow, bound=BOUND)
    seen = new_events_seen(sdk)
    peak_tasks = [0]

    def sample(_: object) -> None:
        if seen[0] % 500 == 0:  # all_tasks() is O(tasks): not on every event
            peak_tasks[0] = max(peak_tasks[0], len(asyncio.all_tasks()))

    sdk.subscribe(sample)
    flood = pushes(FLOOD)  # encoded beforehand: a quicker flood, and not counted
    gc.collect()
    tasks_before = len(asyncio.all_tasks())
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        await push_events(server.connections[0], flood)
        await until(lambda: seen[0] == FLOOD, timeout=60)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # One task runs; BOUND payloads wait (no coroutine, no task); the rest are
    # dropped. Unbounded, the flood left 20,005 tasks alive (+67 MiB).
    assert peak_tasks[0] - tasks_before <= 2, (tasks_before, peak_tasks[0])
    assert grown < 4 * MiB, grown
    slow.gate.set()
    await until(lambda: len(slow.handled) == BOUND + 1, timeout=30)
    assert slow.handled == ids(range(BOUND + 1))  # in order
    assert slow.peak == 1
    assert len(errors) == 1  # the first drop of the overflow, once
    assert isinstance(errors[0], StreamOverflowError)
    assert f"fell {BOUND} events behind" in str(errors[0])


async def test_concurrency_n_runs_up_to_n_handlers_at_once(
    server: HostileServer,
) -> None:
    sdk = await connected_to(server)
    handler = Gated()
    sdk.on("new_event", handler, concurrency=4)
    seen = new_events_seen(sdk)
    await push_events(server.connections[0], 50)
    await until(lambda: seen[0] == 50)
    assert handler.started == ids(range(4))  # the rest wait as payloads
    handler.gate.set()
    await until(lambda: len(handler.handled) == 50)
    assert handler.peak == 4
    assert handler.started == ids(range(50))  # started in order


@pytest.mark.parametrize(
    ("overflow", "handled"),
    [
        ("buffer", [0, 1, 2, 3]),  # the newcomers are dropped
        ("drop_oldest", [0, 7, 8, 9]),  # the oldest waiting ones are dropped
        ("fail", [0, 1, 2, 3]),  # the handler is removed; what waited runs
    ],
)
async def test_a_full_handler_follows_its_overflow_policy(
    server: HostileServer, overflow: Overflow, handled: list[int]
) -> None:
    sdk = await connected_to(server)
    handler = Gated()
    errors: list[Exception] = []
    sdk.on("error", errors.append)
    sdk.on("new_event", handler, bound=3, overflow=overflow)
    seen = new_events_seen(sdk)
    await push_events(server.connections[0], 10)
    await until(lambda: seen[0] == 10)
    handler.gate.set()
    await until(lambda: len(handler.handled) == 4)
    await asyncio.sleep(0.05)  # nothing more comes
    assert handler.handled == ids(handled)
    assert [type(e) for e in errors] == [StreamOverflowError]
    if overflow == "fail":
        assert "removed" in str(errors[0])


async def test_bad_handler_options_are_refused(sandbox: Sandbox) -> None:
    sdk = connect(sandbox, auto_connect=False)
    bad: Any = "spill"
    with pytest.raises(InvalidArgumentError, match="concurrency"):
        sdk.on("new_event", print, concurrency=0)
    with pytest.raises(InvalidArgumentError, match="bound"):
        sdk.on("new_event", print, bound=0)
    with pytest.raises(InvalidArgumentError, match="overflow"):
        sdk.on("new_event", print, overflow=bad)
    await sdk.destroy()


async def checkpoint(store: MemoryStore, sandbox: Sandbox, chat_id: str) -> str | None:
    """The chat's committed event id as the store holds it."""
    async with store.customer(sandbox.organization_id, "default") as customer:
        found = (await customer.load()).checkpoints.get(chat_id)
    return None if found is None else found.event_id


async def test_an_async_handlers_event_is_committed_when_its_coroutine_completes(
    sandbox: Sandbox,
) -> None:
    store = MemoryStore()
    sdk = connect(sandbox, store=store)
    chat = await sdk.start_chat()
    agent = sandbox.agent("Jane")
    await agent.join(chat.id)
    gates = {"one": asyncio.Event(), "two": asyncio.Event()}
    started: list[str] = []

    async def slow(new: NewEvent) -> None:
        event = new.event
        if isinstance(event, Message) and event.text in gates:
            started.append(str(event.id))
            await gates[event.text].wait()
            if event.text == "two":
                raise ValueError("a failing handler's event is committed too")

    sdk.on("new_event", slow)
    await agent.send_message(chat.id, "one")
    await until(lambda: len(started) == 1)
    await sdk.flush()
    assert sdk.uncommitted == 1  # auto-commit, and still held by the handler
    assert await checkpoint(store, sandbox, chat.id) != started[0]
    gates["one"].set()
    await until(lambda: sdk.uncommitted == 0)
    await sdk.flush()
    assert await checkpoint(store, sandbox, chat.id) == started[0]
    await agent.send_message(chat.id, "two")
    await until(lambda: len(started) == 2)
    gates["two"].set()
    await until(lambda: sdk.uncommitted == 0)
    await sdk.flush()
    assert await checkpoint(store, sandbox, chat.id) == started[1]


async def test_destroy_cancels_the_running_handler_and_drops_what_waits(
    server: HostileServer,
) -> None:
    sdk = await connected_to(server)
    handler = Gated()
    sdk.on("new_event", handler)
    seen = new_events_seen(sdk)
    before = asyncio.all_tasks()
    await push_events(server.connections[0], 20)
    await until(lambda: seen[0] == 20)
    started = asyncio.all_tasks() - before
    assert len(started) == 1  # one task, 19 payloads waiting
    await sdk.destroy()
    assert all(task.cancelled() for task in started)
    await asyncio.sleep(0.05)
    assert handler.started == ["F0"]  # nothing that waited ran
    assert handler.handled == []


async def test_events_a_full_handler_dropped_are_replayed_by_the_next_life(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    store = str(tmp_path / "customer.db")
    sdk = connect(sandbox, store=store)
    seen = Recorder(sdk)
    chat = await sdk.start_chat()
    agent = sandbox.agent("Jane")
    await agent.join(chat.id)
    gate = asyncio.Event()
    handled: list[str] = []

    async def slow(new: NewEvent) -> None:
        if isinstance(new.event, Message) and new.event.author_id == agent.id:
            await gate.wait()
            handled.append(new.event.text)

    await until(lambda: sdk.uncommitted == 0)
    sdk.on("new_event", slow, bound=1)
    for text in ("m0", "m1", "m2", "m3"):  # m0 runs, m1 waits, m2 and m3 dropped
        await agent.send_message(chat.id, text)
    await until(lambda: len(seen.texts_by(agent.id)) == 4)
    gate.set()
    await until(lambda: handled == ["m0", "m1"])
    await until(lambda: sdk.uncommitted == 0)
    assert [type(e) for e in seen.of("error")] == [StreamOverflowError]
    await sdk.destroy()  # m0 and m1 committed; the chat stopped at m2

    sdk = connect(sandbox, store=store)
    seen = Recorder(sdk)
    await seen.wait_for("connected")
    await agent.send_message(chat.id, "live")
    await until(lambda: "live" in seen.texts_by(agent.id))
    assert seen.texts_by(agent.id) == ["m2", "m3", "live"]  # none lost


async def test_off_stops_new_events_while_those_waiting_still_run(
    server: HostileServer,
) -> None:
    sdk = await connected_to(server)
    handler = Gated()
    sdk.on("new_event", handler)
    seen = new_events_seen(sdk)
    frames = pushes(8)
    await push_events(server.connections[0], frames[:4])
    await until(lambda: seen[0] == 4)
    sdk.off("new_event", handler)
    await push_events(server.connections[0], frames[4:])
    await until(lambda: seen[0] == 8)
    handler.gate.set()
    await until(lambda: len(handler.handled) == 4)
    await asyncio.sleep(0.05)  # nothing more comes
    assert handler.handled == ids(range(4))


if __name__ == "__main__":
    LISTENERS.write_text(generated(LISTENERS.read_text()))
    print(f"wrote {LISTENERS}")
