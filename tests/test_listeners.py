"""on / once / off: event names checked, async handlers run, errors reported."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import typing
from typing import Any

import pytest

import rxlivechat.sdk
from rxlivechat import (
    Connected,
    CustomerSDK,
    InvalidArgumentError,
    Message,
    NewEvent,
    ProtocolError,
)
from rxlivechat.events import EVENT_NAMES, check_event_name, events_of_push
from rxlivechat.protocol import codec
from rxlivechat.protocol.frames import Push
from rxlivechat.sandbox import Sandbox

from .helpers import Recorder, connect, until
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
        hints = typing.get_type_hints(overload, vars(rxlivechat.sdk))
        covered += typing.get_args(hints["name"])
    assert sorted(covered) == sorted(EVENT_NAMES)


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
