"""A customer run as a service survives SIGKILL: same identity, no lost event.

The sandbox runs here; the customer is a real child process
(:mod:`tests.scenarios.durable_customer`) killed at random moments while a
scripted agent keeps talking, and restarted on the same store each time.
"""

from __future__ import annotations

import asyncio
import random
import signal
import sys
from pathlib import Path

import pytest

from rxlivechat.sandbox import Sandbox

from ..redis_server import redis_server, redis_url  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = 300
KILLS = 5


class Life:
    """One run of the customer process, until it is killed."""

    def __init__(self, process: asyncio.subprocess.Process, out: Path) -> None:
        self.process = process
        self.out = out

    @classmethod
    async def start(cls, sandbox: Sandbox, store: str, out: Path) -> Life:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.scenarios.durable_customer",
            store,
            sandbox.api_url,
            sandbox.accounts_url,
            sandbox.organization_id,
            str(out),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
        )
        return cls(process, out)

    async def said(self, word: str) -> str:
        """The rest of the next line starting with ``word``."""
        assert self.process.stdout is not None
        async with asyncio.timeout(30):
            while True:
                line = (await self.process.stdout.readline()).decode()
                assert line, f"the customer exited ({await self.process.wait()})"
                if line.startswith(word):
                    return line[len(word) :].strip()

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    def lines(self, kind: str) -> list[int]:
        if not self.out.exists():
            return []
        words = self.out.read_text().split()
        return [int(word[1:]) for word in words if word.startswith(kind)]

    def received(self) -> list[int]:
        """The numbers of the messages this life's subscriber got, in order."""
        return self.lines("m")

    def durable(self) -> int:
        """The newest message this life knew committed for good (-1: none)."""
        return max(self.lines("d"), default=-1)


async def run_killed_customer(store: str, tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    async with Sandbox() as sandbox:
        agent = sandbox.agent("Jane")
        lives = [await Life.start(sandbox, store, tmp_path / "life0.txt")]
        try:
            first = lives[0]
            customer_id = await first.said("customer")
            chat_id = await first.said("chat")
            await first.said("ready")
            await agent.join(chat_id)

            async def talk() -> None:
                for i in range(MESSAGES):
                    await agent.send_message(chat_id, f"m{i}")
                    await asyncio.sleep(rng.uniform(0.0, 0.03))

            talking = asyncio.ensure_future(talk())
            for n in range(1, KILLS + 1):
                await asyncio.sleep(rng.uniform(0.05, 0.8))
                await lives[-1].kill()
                lives.append(
                    await Life.start(sandbox, store, tmp_path / f"life{n}.txt")
                )
                # The same customer every life: the stored cookies gave it back.
                assert await lives[-1].said("customer") == customer_id
            await talking
            last = lives[-1]
            async with asyncio.timeout(40):
                while not set(range(MESSAGES)) <= {
                    m for life in lives for m in life.received()
                }:
                    await asyncio.sleep(0.02)
        finally:
            for life in lives:
                await life.kill()

    assert last.received()[-1] == MESSAGES - 1
    seen = -1  # the newest message any earlier life received
    durable = -1  # the newest message an earlier life knew committed for good
    duplicates = 0
    for life in lives:
        log = life.received()
        if log:
            # Each life: in order, every message once (no gap, no repeat).
            assert log == list(range(log[0], log[0] + len(log)))
            assert log[0] <= seen + 1, "a message was lost between two lives"
            # Repeats are only what was handed out and not yet written.
            assert log[0] > durable, "a committed message was delivered again"
            duplicates += max(0, min(seen, log[-1]) - log[0] + 1)
            seen = max(seen, log[-1])
        durable = max(durable, life.durable())
    print(f"{KILLS} kills, {MESSAGES} messages, {duplicates} duplicates")


async def test_a_killed_sqlite_customer_keeps_its_identity_and_every_message(
    tmp_path: Path,
) -> None:
    await run_killed_customer(str(tmp_path / "customer.db"), tmp_path, seed=15)


async def test_a_killed_redis_customer_keeps_its_identity_and_every_message(
    tmp_path: Path, redis_url: str
) -> None:
    await run_killed_customer(redis_url, tmp_path, seed=16)
