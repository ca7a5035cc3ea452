"""A bridge killed at random moments over a lossy link loses and repeats nothing.

The bridge (tests/outbox/bridge.py) is a real child process, SIGKILLed at least
five times while it puts and sends; the sandbox delays every frame, loses
replies after applying their requests, and a chaos task drops the socket
throughout. Counted from what the server stored: every line once, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import sys
from collections import Counter
from pathlib import Path

import pytest

from rxlivechat import Message
from rxlivechat.sandbox import Sandbox

from ..redis_server import redis_server, redis_url  # noqa: F401
from ..stores.spawn import ROOT

LINES = 200
KILLS = 5


async def bridge(
    sandbox: Sandbox, store: str, progress: Path
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.outbox.bridge",
        store,
        sandbox.api_url,
        sandbox.accounts_url,
        sandbox.organization_id,
        str(progress),
        str(LINES),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )


async def line(process: asyncio.subprocess.Process) -> str:
    assert process.stdout is not None
    return (await process.stdout.readline()).decode().strip()


def stored_texts(sandbox: Sandbox, chat_id: str) -> list[str]:
    chat = sandbox.store.chats[chat_id]
    return [e.text for t in chat.threads for e in t.events if isinstance(e, Message)]


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
@pytest.mark.sandbox(seed=31)
async def test_a_killed_bridge_over_a_lossy_link_loses_and_repeats_nothing(
    sandbox: Sandbox, kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store = (
        str(tmp_path / "bridge.db")
        if kind == "sqlite"
        else request.getfixturevalue("redis_url")
    )
    progress = tmp_path / "progress"
    rng = random.Random(31)

    async def chaos() -> None:
        while True:
            await asyncio.sleep(rng.uniform(0.4, 1.0))
            await sandbox.drop_connections()

    # The chat is started first, on a quiet link: start_chat makes a new
    # chat, so a drop under it is still a ConnectionLost (docs/concepts.md).
    process = await bridge(sandbox, store, progress)
    async with asyncio.timeout(60):
        chat_id = (await line(process)).split()[-1]
    sandbox.latency(0.01, jitter=0.02)
    sandbox.lose_replies("send_event", probability=0.05)
    dropping = asyncio.ensure_future(chaos())
    kills = 0
    try:
        while True:
            # Killed at a random moment (starting, putting, sending, draining)
            # until it has been killed enough; then left to finish.
            life = rng.uniform(0.3, 2.5) if kills < KILLS else 120.0
            finished = False
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(life):
                    while True:
                        text = await line(process)
                        if text == "drained":
                            finished = True
                            break
                        elif text == "":
                            pytest.fail(f"the bridge exited: {await process.wait()}")
            if finished:
                assert await process.wait() == 0
                break
            assert kills < KILLS, "the bridge did not finish within 120 s"
            process.send_signal(signal.SIGKILL)
            await process.wait()
            kills += 1
            process = await bridge(sandbox, store, progress)
    finally:
        dropping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await dropping
        with contextlib.suppress(ProcessLookupError):
            process.kill()
    sandbox.faults.clear()
    texts = stored_texts(sandbox, chat_id)
    counts = Counter(texts)
    expected = [f"line {i}" for i in range(LINES)]
    lost = [t for t in expected if counts[t] == 0]
    duplicated = {t: c for t, c in counts.items() if c > 1}
    assert (lost, duplicated) == ([], {})
    assert texts == expected  # order kept
    assert kills >= KILLS
    assert sandbox.faults.replies_lost >= 3
    assert sandbox.count("login") >= KILLS + 5  # restarts, and drops throughout
