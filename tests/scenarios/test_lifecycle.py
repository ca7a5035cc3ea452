"""The SDK's lifecycle, as a user's script lives it: each case is a real process.

Every case writes a script that runs a sandbox and an SDK in a child Python
(``-X dev``: warnings shown, asyncio debug), runs it under a time limit, and
asserts its exit, what it printed, and that it left nothing behind. A hang is a
failure within seconds, not a stuck test run.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from rxlivechat import SDKClosedError
from rxlivechat.protocol.methods import GetCustomer
from rxlivechat.sandbox import Sandbox
from rxlivechat.sdk import Closing

from ..helpers import Recorder, connect, until

EXIT_WITHIN = 30.0
"""Seconds a child may take (it needs ~2 s; the margin is for a busy machine)."""

PRELUDE = '''
import asyncio, gc, sys, warnings, weakref
from pathlib import Path

import rxlivechat
from rxlivechat import Message, SDKClosedError
from rxlivechat.protocol.methods import GetCustomer
from rxlivechat.sandbox import Sandbox

SDK_CODE = str(Path(rxlivechat.__file__).parent)
SANDBOX_CODE = str(Path(rxlivechat.__file__).parent / "sandbox")


def init(sandbox, **options):
    return rxlivechat.init(
        organization_id=sandbox.organization_id,
        client_id="lifecycle",
        api_url=sandbox.api_url,
        accounts_url=sandbox.accounts_url,
        **options,
    )


def sdk_tasks():
    """The SDK's unfinished tasks (the sandbox's own are left out)."""
    names = []
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        where = code.co_filename if code else ""
        if task is not asyncio.current_task() and where.startswith(SDK_CODE):
            if not where.startswith(SANDBOX_CODE):
                names.append(task.get_name())
    return sorted(names)


async def until(predicate, timeout=10.0):
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def awaited(observable):
    return await observable
'''

NOISE = (
    "never awaited",
    "was destroyed but it is pending",
    "Unclosed",
    "Task exception was never retrieved",
)
"""What a clean exit never prints."""


@dataclass
class Child:
    returncode: int
    stdout: str
    stderr: str

    def lines(self) -> list[str]:
        return self.stdout.splitlines()

    def assert_quiet(self) -> None:
        for noise in NOISE:
            assert noise not in self.stderr, self.stderr


def run_child(tmp_path: Path, body: str) -> Child:
    """Run ``PRELUDE + body`` in a child Python; fail if it does not exit in time."""
    script = tmp_path / "case.py"
    script.write_text(PRELUDE + textwrap.dedent(body))
    try:
        done = subprocess.run(
            [sys.executable, "-X", "dev", str(script)],
            capture_output=True,
            text=True,
            timeout=EXIT_WITHIN,
            check=False,
        )
    except subprocess.TimeoutExpired as hung:
        pytest.fail(f"the script did not exit within {EXIT_WITHIN} s: {hung.stderr!r}")
    return Child(done.returncode, done.stdout, done.stderr)


# Each case in its own process -------------------------------------------------------


def test_a_script_that_returns_without_destroy_exits(tmp_path: Path) -> None:
    # The reproduction: the sandbox closes first, so the connection task
    # is reconnecting when asyncio.run cancels it, and used to swallow that.
    child = run_child(
        tmp_path,
        """
        async def main():
            async with Sandbox() as sandbox:
                sdk = init(sandbox)
                await sdk.wait_connected(timeout=10)
                await sdk.start_chat()
                print("connected", sdk.connected, flush=True)

        asyncio.run(main())
        print("exited", flush=True)
        """,
    )
    assert child.returncode == 0, child.stderr
    assert child.lines() == ["connected True", "exited"]
    child.assert_quiet()


def test_a_script_that_returns_with_the_server_up_closes_the_socket(
    tmp_path: Path,
) -> None:
    # No destroy, the sandbox never closed: asyncio.run cancels both; the SDK's
    # cancelled connection task closes its socket and HTTP session on the way out.
    child = run_child(
        tmp_path,
        """
        sandbox = Sandbox()

        async def main():
            await sandbox.start()
            sdk = init(sandbox)
            await sdk.wait_connected(timeout=10)
            print("connected", sdk.connected, flush=True)

        asyncio.run(main())
        print("exited", flush=True)
        """,
    )
    assert child.returncode == 0, child.stderr
    assert child.lines() == ["connected True", "exited"]
    child.assert_quiet()


def test_a_script_that_raises_with_an_sdk_connected_exits_with_the_error(
    tmp_path: Path,
) -> None:
    child = run_child(
        tmp_path,
        """
        async def main():
            async with Sandbox() as sandbox:
                sdk = init(sandbox)
                await sdk.wait_connected(timeout=10)
                await sdk.start_chat()
                print("connected", sdk.connected, flush=True)
                {}["a user's bug"]

        asyncio.run(main())
        """,
    )
    assert child.returncode == 1
    assert child.lines() == ["connected True"]
    assert 'KeyError: "a user\'s bug"' in child.stderr
    child.assert_quiet()


def test_an_sdk_collected_while_connected_warns_and_closes_its_socket(
    tmp_path: Path,
) -> None:
    child = run_child(
        tmp_path,
        """
        async def main():
            async with Sandbox() as sandbox:
                sdk = init(sandbox)
                await sdk.wait_connected(timeout=10)
                await sdk.start_chat()
                alive = weakref.ref(sdk)
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    del sdk
                    gc.collect()
                print("collected", alive() is None)
                for warning in caught:
                    print(warning.category.__name__, warning.message)
                logins = sandbox.count("login")
                await until(lambda: not sandbox.connections)
                print("open sockets", len(sandbox.connections))
                await until(lambda: not sdk_tasks())
                await asyncio.sleep(0.5)
                print("logins since", sandbox.count("login") - logins)

        asyncio.run(main())
        print("exited", flush=True)
        """,
    )
    assert child.returncode == 0, child.stderr
    collected, warning, *rest = child.lines()
    assert collected == "collected True"
    assert warning.startswith("ResourceWarning CustomerSDK(")
    assert "garbage-collected while connected" in warning
    assert "destroy()" in warning
    assert rest == ["open sockets 0", "logins since 0", "exited"]
    child.assert_quiet()


def test_destroy_without_await_takes_effect_at_once(tmp_path: Path) -> None:
    child = run_child(
        tmp_path,
        """
        async def main():
            async with Sandbox() as sandbox:
                sdk = init(sandbox)
                await sdk.wait_connected(timeout=10)
                chat = await sdk.start_chat()
                sandbox.delay_replies(10.0, action="get_customer")
                failures, completed = [], []
                sdk.subscribe(on_completed=lambda: completed.append(True))
                sdk.call(GetCustomer()).subscribe(on_error=failures.append)
                await until(lambda: sandbox.count("get_customer") == 1)
                logins = sandbox.count("login")

                sdk.destroy()  # not awaited
                # At once, before any await:
                print("connected", sdk.connected)
                print("pending request", [type(e).__name__ for e in failures])
                print("stream completed", completed)
                try:
                    sdk.send_event(chat.id, Message(text="after destroy"))
                except SDKClosedError:
                    print("later call SDKClosedError")
                try:
                    sdk.connect()
                except SDKClosedError:
                    print("connect SDKClosedError")

                await until(lambda: not sandbox.connections)
                await until(lambda: not sdk_tasks())
                await asyncio.sleep(0.5)
                print("open sockets", len(sandbox.connections))
                print("logins since", sandbox.count("login") - logins)
                print("sdk tasks", sdk_tasks())

        asyncio.run(main())
        print("exited", flush=True)
        """,
    )
    assert child.returncode == 0, child.stderr
    assert child.lines() == [
        "connected False",
        "pending request ['SDKClosedError']",
        "stream completed [True]",
        "later call SDKClosedError",
        "connect SDKClosedError",
        "open sockets 0",
        "logins since 0",
        "sdk tasks []",
        "exited",
    ]
    child.assert_quiet()


def test_cancelling_a_task_awaiting_a_request_leaves_the_sdk_serving(
    tmp_path: Path,
) -> None:
    child = run_child(
        tmp_path,
        """
        async def main():
            async with Sandbox() as sandbox:
                sdk = init(sandbox)
                await sdk.wait_connected(timeout=10)
                sandbox.delay_replies(10.0, action="get_customer")
                waiting = asyncio.ensure_future(awaited(sdk.call(GetCustomer())))
                await until(lambda: sandbox.count("get_customer") == 1)
                waiting.cancel()
                try:
                    await waiting
                except asyncio.CancelledError:
                    print("cancelled await: CancelledError")
                try:  # the same through a timeout (a cancellation inside)
                    async with asyncio.timeout(0.2):
                        await sdk.call(GetCustomer())
                except TimeoutError:
                    print("timed out await: TimeoutError")
                sandbox.delay_replies(0, action="get_customer")
                customer = await sdk.call(GetCustomer())
                print("later request", customer.id == sdk.customer_id)
                print("connected", sdk.connected, "logins", sandbox.count("login"))
                await sdk.destroy()
                print("sdk tasks", sdk_tasks())

        asyncio.run(main())
        print("exited", flush=True)
        """,
    )
    assert child.returncode == 0, child.stderr
    assert child.lines() == [
        "cancelled await: CancelledError",
        "timed out await: TimeoutError",
        "later request True",
        "connected True logins 1",
        "sdk tasks []",
        "exited",
    ]
    child.assert_quiet()


def test_cancelling_the_connection_task_stops_it_at_once(tmp_path: Path) -> None:
    child = run_child(
        tmp_path,
        """
        async def main():
            async with Sandbox() as sandbox:
                sdk = init(sandbox, reconnect_delay=(0.01, 0.05))
                await sdk.wait_connected(timeout=10)
                sandbox.refuse_connections(10)
                await sandbox.drop_connections()
                await asyncio.sleep(0.2)  # now reconnecting, over and over
                task = sdk._engine.task
                task.cancel()
                await asyncio.wait({task}, timeout=5)
                print("cancelled", task.cancelled())
                try:
                    await sdk.call(GetCustomer())
                except SDKClosedError:
                    print("request SDKClosedError")
                sandbox.refuse_connections(0)
                sdk.connect()  # a new connection task, a new HTTP session
                customer = await sdk.call(GetCustomer())
                print("after connect()", customer.id == sdk.customer_id)
                await sdk.destroy()
                print("sdk tasks", sdk_tasks())

        asyncio.run(main())
        """,
    )
    assert child.returncode == 0, child.stderr
    assert child.lines() == [
        "cancelled True",
        "request SDKClosedError",
        "after connect() True",
        "sdk tasks []",
    ]
    child.assert_quiet()


# The awaitable destroy() and disconnect() return (in-process) -------------------


async def test_destroy_may_be_awaited_any_number_of_times(sandbox: Sandbox) -> None:
    sdk = connect(sandbox)
    await sdk.wait_connected(timeout=5)
    closing = sdk.destroy()
    assert isinstance(closing, Closing)
    assert sdk.destroy() is closing  # a second destroy() is the same closing
    await closing
    await closing
    await sdk.destroy()
    assert closing.done()
    await until(lambda: not sandbox.connections)
    with pytest.raises(SDKClosedError):
        await sdk.call(GetCustomer())


async def test_cancelling_a_wait_for_destroy_does_not_stop_the_closing(
    sandbox: Sandbox,
) -> None:
    sdk = connect(sandbox)
    await sdk.wait_connected(timeout=5)
    closing = sdk.destroy()
    waiter = asyncio.ensure_future(_wait(closing))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    await closing  # still closes
    await until(lambda: not sandbox.connections)


async def test_disconnect_then_connect_at_once_keeps_one_socket(
    sandbox: Sandbox,
) -> None:
    sdk = connect(sandbox)
    seen = Recorder(sdk)
    await seen.wait_for("connected")
    closing = sdk.disconnect()  # not awaited yet: the old socket is still closing
    assert not sdk.connected
    with pytest.raises(SDKClosedError, match="disconnect"):
        await sdk.call(GetCustomer())
    sdk.connect()
    await closing  # the old socket's closing, not the new connection
    await seen.wait_for("connected", count=2)
    customer = await sdk.call(GetCustomer())
    assert customer.id == sdk.customer_id
    await until(lambda: len(sandbox.connections) == 1)
    assert sandbox.count("login") == 2
    await sdk.destroy()


async def test_async_with_destroys_on_exit(sandbox: Sandbox) -> None:
    async with connect(sandbox) as sdk:
        await sdk.wait_connected(timeout=5)
    with pytest.raises(SDKClosedError):
        sdk.connect()
    await until(lambda: not sandbox.connections)


async def _wait(closing: Closing) -> None:
    await closing
