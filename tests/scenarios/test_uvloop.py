"""The core scenarios on uvloop: connect, chat, pushes, history, drops, destroy.

uvloop's transports are not subclasses of asyncio's (an ``isinstance`` check on
one made every connection fail: "not connected within 10 s"), and its flow
control callbacks come from its own C code. Each test runs on a fresh uvloop
loop of its own (``asyncio.Runner(loop_factory=uvloop.new_event_loop)``, not
the test session's loop), against the sandbox over real sockets, and checks it
ran there and left no task behind.
"""

from __future__ import annotations

import asyncio
import importlib.util
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import reactivex.operators as ops

import rxlivechat
import rxlivechat.__main__ as cli
import rxlivechat.cli.demo
from rxlivechat import CustomerSDK, Message, SDKClosedError
from rxlivechat.cli.loop import run as run_command
from rxlivechat.engine import transport
from rxlivechat.engine.transport import connect as open_socket
from rxlivechat.exceptions import ConnectionLost
from rxlivechat.sandbox import Sandbox

from ..engine.test_transport import never_reading_server
from ..helpers import Recorder, awaited, connect, until

PACKAGE = Path(rxlivechat.__file__).parent
LOOP_CLASS_CHECK = re.compile(
    r"(isinstance|issubclass)\([^)]*asyncio\.\w*(Transport|Protocol|Loop|Handle|Server)"
)


def test_the_package_never_checks_the_class_of_a_transport_or_loop() -> None:
    # Runs without uvloop too: it is what keeps the package loop-agnostic.
    found = [
        f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if LOOP_CLASS_CHECK.search(line)
    ]
    assert found == []


try:
    import uvloop
except ImportError:  # not installed, or Windows (no build)
    uvloop = None  # type: ignore[assignment]

NO_UVLOOP = (
    "uvloop is not installed (pip install 'rxlivechat[uvloop]'; "
    "it has no Windows build)"
)

FAST = {"reconnect_delay": (0.005, 0.05), "reconnects_per_minute": 10_000}


def on_uvloop(scenario: Callable[[], Awaitable[None]]) -> None:
    """Run ``scenario`` on a new uvloop loop; fail if it leaves a task running."""
    if uvloop is None:
        pytest.skip(NO_UVLOOP)

    async def checked() -> None:
        loop = asyncio.get_running_loop()
        assert type(loop).__module__.startswith("uvloop"), type(loop)
        await scenario()
        current = asyncio.current_task()
        await until(lambda: asyncio.all_tasks() == {current}, timeout=5)

    with asyncio.Runner(loop_factory=uvloop.new_event_loop, debug=True) as runner:
        runner.run(checked())


def test_connect_chat_and_pushes() -> None:
    async def scenario() -> None:
        async with Sandbox() as sandbox:
            sdk = connect(sandbox)
            seen = Recorder(sdk)
            await sdk.wait_connected(timeout=10)
            (connected,) = seen.of("connected")
            assert connected.customer_id == sdk.customer_id
            chat = await sdk.start_chat([Message(text="hello")])
            agent = sandbox.agent("Jane")
            await agent.join(chat.id)
            for i in range(200):
                await agent.send_message(chat.id, f"m{i}")
            await until(lambda: len(seen.texts_by(agent.id)) == 200)
            assert seen.texts_by(agent.id) == [f"m{i}" for i in range(200)]
            sent = await sdk.send_event(chat.id, Message(text="thanks"))
            heard = await agent.next_customer_event(chat.id, timeout=5)
            assert isinstance(heard, Message)
            assert heard.text in ("hello", "thanks")
            assert sent.id
            await sdk.destroy()

    on_uvloop(scenario)


def test_history() -> None:
    async def scenario() -> None:
        async with Sandbox() as sandbox:
            sdk = connect(sandbox)
            await sdk.wait_connected(timeout=10)
            chat = await sdk.start_chat([Message(text="first")])
            agent = sandbox.agent("Jane")
            await agent.join(chat.id)
            for i in range(30):
                await agent.send_message(chat.id, f"h{i}")
            events = await sdk.get_chat_history(chat.id, events_per_page=7).pipe(
                ops.to_list()
            )
            texts = [e.text for e in events if isinstance(e, Message)]
            assert texts[0] == "first"
            assert texts[-30:] == [f"h{i}" for i in range(30)]
            assert len({e.id for e in events}) == len(events)
            await sdk.destroy()

    on_uvloop(scenario)


def test_drops_and_reconnects_lose_nothing() -> None:
    async def scenario() -> None:
        async with Sandbox() as sandbox:
            sdk = connect(sandbox, **FAST)
            seen = Recorder(sdk)
            await sdk.wait_connected(timeout=10)
            chat = await sdk.start_chat()
            agent = sandbox.agent("Jane")
            await agent.join(chat.id)
            for drop in range(5):
                await agent.send_message(chat.id, f"before {drop}")
                await sandbox.drop_connections()
                await agent.send_message(chat.id, f"during {drop}")  # recovered
                customer = await sdk.get_customer()  # waits for the reconnect
                assert customer.id == sdk.customer_id
                await seen.wait_for("connection_restored", count=drop + 1)
            expected = [
                f"{when} {i}" for i in range(5) for when in ("before", "during")
            ]
            await until(lambda: len(seen.texts_by(agent.id)) == len(expected))
            assert seen.texts_by(agent.id) == expected  # once each, in order
            await sdk.destroy()

    on_uvloop(scenario)


def test_destroy_settles_everything() -> None:
    async def scenario() -> None:
        async with Sandbox() as sandbox:
            sdk: CustomerSDK = connect(sandbox)
            await sdk.wait_connected(timeout=10)
            sandbox.delay_replies(30.0)
            pending = asyncio.ensure_future(awaited(sdk.get_customer()))
            await asyncio.sleep(0.05)  # on the socket
            await sdk.destroy()
            with pytest.raises(SDKClosedError):
                await pending
            with pytest.raises(SDKClosedError):
                sdk.get_customer()
            sandbox.delay_replies(0)

    on_uvloop(scenario)


def test_a_peer_that_does_not_read_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    # Flow control comes from uvloop's C transport: pause, then the grace.
    monkeypatch.setattr(transport, "NOT_READING_GRACE", 0.5)

    async def scenario() -> None:
        finished = asyncio.Event()
        server = await never_reading_server(lambda _: finished.wait())
        port = server.sockets[0].getsockname()[1]
        async with server:
            socket = await open_socket(f"ws://127.0.0.1:{port}/ws", timeout=5)
            while not socket.paused:
                socket.send(b"x" * 256 * 1024)
                await asyncio.sleep(0)
            with pytest.raises(ConnectionLost, match="peer not reading"):
                await asyncio.wait_for(socket.done, 10)
            finished.set()

    on_uvloop(scenario)


# The command line: uvloop when installed, asyncio's loop with --no-uvloop -----------


def _loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__.partition(".")[0]


async def _which_loop() -> str:
    return _loop_module()


def test_a_command_runs_on_uvloop_when_installed_else_on_asyncio() -> None:
    expected = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    assert run_command(_which_loop()) == expected
    assert run_command(_which_loop(), use_uvloop=False) == "asyncio"


@pytest.mark.parametrize(
    ("flags", "loop"), [([], "uvloop"), (["--no-uvloop"], "asyncio")]
)
def test_the_demo_runs_on_the_loop_chosen(
    flags: list[str],
    loop: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if uvloop is None:
        pytest.skip(NO_UVLOOP)
    real_demo = rxlivechat.cli.demo.run_demo
    loops: list[str] = []

    async def recorded(*args: Any, **options: Any) -> int:
        loops.append(_loop_module())
        return await real_demo(*args, **options)

    monkeypatch.setattr(rxlivechat.cli.demo, "run_demo", recorded)
    assert cli.main(["demo", "--messages", "1", *flags]) == 0
    assert loops == [loop]
    assert capsys.readouterr().out.splitlines()[-1] == "done"
    # The loop was chosen for this run only: no policy was set for the process.
    policy = asyncio.get_event_loop_policy()
    assert not type(policy).__module__.startswith("uvloop")
