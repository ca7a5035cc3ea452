"""Run :mod:`tests.stores.child` as a real process, from async tests."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class Child:
    """A child customer process; read its lines, kill it."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def line(self) -> str:
        """The next line it prints ("" once it exited)."""
        assert self.process.stdout is not None
        return (await self.process.stdout.readline()).decode().strip()

    async def kill(self) -> None:
        """SIGKILL, and reap it."""
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def finish(self) -> int:
        """Wait for it to exit; its return code."""
        return await self.process.wait()


async def spawn(*args: str) -> Child:
    """Start ``python -m tests.stores.child *args``."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.stores.child",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    return Child(process)
