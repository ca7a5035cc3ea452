"""``python -m rxlivechat tail``: a customer's event stream as JSON lines.

Each line is ``{"event": name, "payload": ...}`` with the payload converted to
plain JSON (``msgspec.to_builtins``). Without an organization id, an embedded
sandbox is started and a scripted agent says hello, so there is something to see.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from typing import Any, TextIO

import msgspec

from .. import init

__all__ = ["json_line", "run_tail"]

_encoder = msgspec.json.Encoder()


def json_line(name: str, payload: Any) -> str:
    """One event as one line of JSON."""
    if isinstance(payload, BaseException):
        payload = {"error": type(payload).__name__, "message": str(payload)}
    return _encoder.encode(
        {"event": name, "payload": msgspec.to_builtins(payload)}
    ).decode()


@contextlib.asynccontextmanager
async def _target(
    organization_id: str | None, api_url: str, accounts_url: str
) -> AsyncIterator[tuple[str, str, str, Any]]:
    if organization_id is not None:
        yield organization_id, api_url, accounts_url, None
        return
    from ..sandbox import Sandbox

    async with Sandbox() as sandbox:
        yield sandbox.organization_id, sandbox.api_url, sandbox.accounts_url, sandbox


async def run_tail(
    *,
    organization_id: str | None,
    client_id: str,
    api_url: str,
    accounts_url: str,
    seconds: float | None = None,
    out: TextIO | None = None,
) -> int:
    """Print every event until cancelled (Ctrl-C) or ``seconds`` have passed."""
    write = (out or sys.stdout).write
    async with _target(organization_id, api_url, accounts_url) as target:
        org, api, accounts, sandbox = target
        async with init(
            organization_id=org, client_id=client_id, api_url=api, accounts_url=accounts
        ) as sdk:

            def show(item: tuple[str, Any]) -> None:
                write(json_line(*item) + "\n")

            sdk.subscribe(show)
            await sdk.wait_connected(timeout=30)
            if sandbox is not None:
                await _say_hello(sdk, sandbox)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(seconds):
                    await asyncio.Event().wait()
    return 0


async def _say_hello(sdk: Any, sandbox: Any) -> None:
    from ..protocol.models import Message

    chat = await sdk.start_chat([Message(text="Hello from tail")])
    agent = sandbox.agent("Jane")
    await agent.join(chat.id)
    await agent.send_message(chat.id, "Hi! This is the sandbox's scripted agent.")
