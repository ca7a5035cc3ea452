"""An ``async def`` handler's event survives SIGKILL mid-handler (issue 29 item 6).

The customer is a real child process (:mod:`tests.scenarios.async_handler_customer`)
on an SQLite store with auto-commit. Its handler is killed while it runs one
message, with the next waiting behind it; the restarted process is handed both
again, and never the message it had finished. Before, the event was committed
when the handler returned its coroutine, so the kill lost it.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from rxlivechat.sandbox import Sandbox

from ..helpers import until
from ..stores.spawn import ROOT, Child


async def start(sandbox: Sandbox, store: Path, out: Path, *flags: str) -> Child:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.scenarios.async_handler_customer",
        str(store),
        sandbox.api_url,
        sandbox.accounts_url,
        sandbox.organization_id,
        str(out),
        *flags,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    return Child(process)


async def said(child: Child, word: str) -> str:
    """The rest of the child's next line starting with ``word``."""
    async with asyncio.timeout(30):
        while True:
            line = await child.line()
            assert line, f"the customer exited ({await child.finish()})"
            if line.startswith(word):
                return line[len(word) :].strip()


def lines(out: Path) -> list[str]:
    return out.read_text().splitlines() if out.exists() else []


async def test_an_event_whose_async_handler_was_killed_is_handled_again(
    tmp_path: Path,
) -> None:
    store = tmp_path / "customers.db"
    first_out, second_out = tmp_path / "life1.txt", tmp_path / "life2.txt"
    async with Sandbox() as sandbox:
        agent = sandbox.agent("Jane")
        first = await start(sandbox, store, first_out, "hang")
        second: Child | None = None
        try:
            customer_id = await said(first, "customer")
            chat_id = await said(first, "chat")
            await said(first, "ready")
            await agent.join(chat_id)
            await agent.send_message(chat_id, "m1")
            await until(lambda: "end m1" in lines(first_out), timeout=30)
            await said(first, "flushed")  # this flush may have begun before the
            await said(first, "flushed")  # commit; this one began after it
            await agent.send_message(chat_id, "slow m2")
            await agent.send_message(chat_id, "m3")
            await until(lambda: "begin slow m2" in lines(first_out), timeout=30)
            await said(first, "flushed")
            await said(first, "flushed")  # m3 came (the same socket) and waits
            assert lines(first_out) == ["begin m1", "end m1", "begin slow m2"]
            await first.kill()  # mid-handler

            second = await start(sandbox, store, second_out)
            assert await said(second, "customer") == customer_id  # same customer
            await until(lambda: "end m3" in lines(second_out), timeout=30)
            # m2 (killed mid-handler) and m3 (waiting) again, in order; m1, done
            # and committed before the kill, never again.
            assert lines(second_out) == [
                "begin slow m2",
                "end slow m2",
                "begin m3",
                "end m3",
            ]
        finally:
            for child in (first, second):
                if child is not None and child.process.returncode is None:
                    await child.kill()
