"""Replay: the recorded session served back, strict and not, timed and instant."""

from __future__ import annotations

import asyncio
import itertools
import re
from pathlib import Path

import pytest

import rxlivechat
from rxlivechat import CustomerSDK, Message, ServerError
from rxlivechat.protocol.cassette import CassetteMismatch, Receive, read
from rxlivechat.sandbox import Sandbox
from rxlivechat.sandbox.replay import Replay

from ..helpers import CREATED, Recorder, until
from .scenario import ANSWER, HELLO, session

Recorded = tuple[Path, list[object], Sandbox]


def customer(replay: Replay) -> CustomerSDK:
    sdk = rxlivechat.init(
        organization_id=replay.organization_id,
        client_id="test-client",
        api_url=replay.api_url,
        accounts_url=replay.accounts_url,
        request_timeout=5.0,
    )
    CREATED.append(sdk)
    return sdk


async def replayed(cassette: Path, first: Message | None) -> None:
    """Connect to a strict replay, start a chat with ``first`` (if any), leave."""
    async with Sandbox.replay(cassette, speed="instant") as replay:
        sdk = customer(replay)
        await sdk.wait_connected(timeout=10)
        if first is not None:
            with pytest.raises(ServerError, match="not in the cassette"):
                await sdk.start_chat([first])
        await sdk.destroy()


async def test_the_sdk_sees_the_same_events_in_the_same_order_instantly(
    recorded: Recorded,
) -> None:
    cassette, seen, _ = recorded
    async with Sandbox.replay(cassette, speed="instant") as replay:
        assert await session(customer(replay)) == seen
    assert replay.done


async def test_a_timed_replay_keeps_the_recorded_delays(recorded: Recorded) -> None:
    cassette, seen, _ = recorded
    with cassette.open("rb") as file:
        _, records = read(file)
    # The delays the server took before each frame it sent: a timed replay
    # waits at least these (the client's own pace adds to them).
    held = sum(
        b.t - a.t for a, b in itertools.pairwise(records) if isinstance(b, Receive)
    )
    loop = asyncio.get_running_loop()
    for speed in (1.0, 2.0):
        started = loop.time()
        async with Sandbox.replay(cassette, speed=speed) as replay:
            timed = await session(customer(replay))
        assert loop.time() - started >= 0.9 * held / speed
        # Timed, a push may land before or after the client resumes on the
        # reply just before it (as live): the chat's events keep their order.
        assert sorted(timed, key=str) == sorted(seen, key=str)
        assert messages(timed) == messages(seen)


def messages(seen: list[object]) -> list[object]:
    return [item for item in seen if str(item).startswith("('new_event'")]


async def test_a_client_that_sends_another_text_fails_with_a_diff(
    recorded: Recorded,
) -> None:
    cassette, _, _ = recorded
    with pytest.raises(CassetteMismatch) as failed:
        await replayed(cassette, Message(text="Something else"))
    message = str(failed.value)
    assert "the client sent 'start_chat' on socket 1" in message
    assert "the cassette expected 'start_chat' on socket 1 (line " in message
    assert re.search(rf'^-\s+"text": "{re.escape(HELLO)}"', message, re.MULTILINE)
    assert re.search(r'^\+\s+"text": "Something else"', message, re.MULTILINE)


async def test_a_request_the_client_never_sends_fails_the_replay(
    recorded: Recorded,
) -> None:
    cassette, _, _ = recorded
    with pytest.raises(CassetteMismatch) as failed:
        await replayed(cassette, None)  # and no start_chat
    message = str(failed.value)
    assert "the cassette expected 'start_chat' on socket 1" in message
    assert "the client never sent it" in message
    assert re.search(rf'^-\s+"text": "{re.escape(HELLO)}"', message, re.MULTILINE)


async def test_a_replay_that_is_not_strict_answers_errors_and_skips(
    recorded: Recorded,
) -> None:
    cassette, _, _ = recorded
    async with Sandbox.replay(cassette, strict=False, speed="instant") as replay:
        sdk = customer(replay)
        await sdk.wait_connected(timeout=10)
        with pytest.raises(ServerError, match="not in the cassette"):
            await sdk.start_chat([Message(text="Something else")])
        await sdk.destroy()
    (error,) = replay.script.errors  # kept, not raised
    assert "the client sent 'start_chat' on socket 1" in error


async def test_a_cassette_cut_mid_line_replays_up_to_its_last_whole_line(
    recorded: Recorded, tmp_path: Path
) -> None:
    cassette, _, _ = recorded
    lines = cassette.read_bytes().splitlines(keepends=True)
    answer = next(n for n, line in enumerate(lines) if ANSWER.encode() in line)
    cut = tmp_path / "crashed.jsonl"
    cut.write_bytes(b"".join(lines[: answer + 1]) + lines[answer + 1][:25])
    async with Sandbox.replay(cut, speed="instant") as replay:
        sdk = customer(replay)
        seen = Recorder(sdk)
        await sdk.wait_connected(timeout=10)
        await sdk.start_chat([Message(text=HELLO)])
        await until(
            lambda: any(
                getattr(e.event, "text", None) == ANSWER for e in seen.of("new_event")
            )
        )
        await sdk.destroy()
    assert replay.done


def test_a_bad_speed_is_refused(recorded: Recorded) -> None:
    with pytest.raises(ValueError, match="speed"):
        Sandbox.replay(recorded[0], speed=0)


def test_record_and_replay_on_uvloop(tmp_path: Path) -> None:
    uvloop = pytest.importorskip("uvloop")
    cassette = tmp_path / "uv.jsonl"

    async def both() -> tuple[list[object], list[object]]:
        assert type(asyncio.get_running_loop()).__module__.startswith("uvloop")
        async with Sandbox() as sandbox:
            seen = await session(
                rxlivechat.init(
                    organization_id=sandbox.organization_id,
                    client_id="test-client",
                    api_url=sandbox.api_url,
                    accounts_url=sandbox.accounts_url,
                    record=cassette,
                ),
                sandbox,
            )
        async with Sandbox.replay(cassette, speed="instant") as replay:
            return seen, await session(customer(replay))

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        recorded, replayed = runner.run(both())
    assert replayed == recorded
