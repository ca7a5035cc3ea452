"""``python -m rxlivechat tail``: a customer's event stream as JSON lines.

Each line is ``{"event": name, "payload": ...}`` with the payload converted to
plain JSON (``msgspec.to_builtins``). Without an organization id, an embedded
sandbox is started and a scripted agent says hello, so there is something to see.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any, TextIO

import msgspec

from .. import init
from ..exceptions import InvalidArgumentError, LiveChatError

__all__ = ["CANNOT_CONNECT", "USAGE", "json_line", "run_tail"]

CANNOT_CONNECT = 69
"""The exit status when the customer cannot connect (sysexits' EX_UNAVAILABLE)."""

USAGE = 2
"""The exit status for a bad option (as argparse's own usage errors)."""

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
    organization_id: str | None, api_url: str, accounts_url: str | None
) -> AsyncIterator[tuple[str, str, str | None, Any]]:
    if organization_id is not None:
        yield organization_id, api_url, accounts_url, None
        return
    from ..sandbox import Sandbox

    async with Sandbox() as sandbox:
        yield sandbox.organization_id, sandbox.api_url, sandbox.accounts_url, sandbox


CONNECT_WAIT = 30.0
"""Seconds to wait for the first login when no ``--seconds`` deadline is set."""


async def run_tail(
    *,
    organization_id: str | None,
    client_id: str,
    api_url: str,
    accounts_url: str | None,
    seconds: float | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    record: str | None = None,
) -> int:
    """Print every event until cancelled (Ctrl-C) or ``seconds`` have passed.

    ``seconds`` is a total deadline, connecting included. A customer who cannot
    connect ends it at its first failed attempt with one line on ``err`` naming
    the cause, and status :data:`CANNOT_CONNECT`; a bad option (a URL without a
    scheme...) with status :data:`USAGE`. ``record``: a cassette file the
    session is recorded to (``python -m rxlivechat record``).
    """
    write = (out or sys.stdout).write
    progress = _Progress()
    try:
        async with asyncio.timeout(seconds):
            await _tail(
                organization_id,
                client_id,
                api_url,
                accounts_url,
                write,
                progress,
                connect_wait=CONNECT_WAIT if seconds is None else None,
                record=record,
            )
    except TailError as exc:
        return _fail(err, str(exc), CANNOT_CONNECT)
    except InvalidArgumentError as exc:
        return _fail(err, str(exc), USAGE)
    except TimeoutError:  # the deadline
        if not progress.connected:
            last = progress.errors[-1:]
            why = f" ({_cause_of(last[0])})" if last else ""
            return _fail(
                err, f"not connected within {seconds:g} s{why}", CANNOT_CONNECT
            )
    return 0


class _Progress:
    """What the deadline needs to know: connected yet, and the errors so far."""

    def __init__(self) -> None:
        self.connected = False
        self.errors: list[Exception] = []


def _fail(err: TextIO | None, message: str, status: int) -> int:
    (err or sys.stderr).write(f"rxlivechat tail: {message}\n")
    return status


class TailError(Exception):
    """The customer could not connect: one line for the terminal."""


async def _tail(
    organization_id: str | None,
    client_id: str,
    api_url: str,
    accounts_url: str | None,
    write: Callable[[str], object],
    progress: _Progress,
    *,
    connect_wait: float | None,
    record: str | None = None,
) -> None:
    async with _target(organization_id, api_url, accounts_url) as target:
        org, api, accounts, sandbox = target
        async with init(
            organization_id=org,
            client_id=client_id,
            api_url=api,
            accounts_url=accounts,
            record=record,
        ) as sdk:

            def show(item: tuple[str, Any]) -> None:
                write(json_line(*item) + "\n")
                if item[0] == "error":
                    progress.errors.append(item[1])

            sdk.subscribe(show)
            try:  # bounded by the deadline, when there is one
                await sdk.wait_connected(timeout=connect_wait)
            except LiveChatError as exc:  # the first attempt failed: say why
                raise TailError(_cause_of(exc)) from None
            except TimeoutError:
                last = progress.errors[-1:]
                why = f" ({_cause_of(last[0])})" if last else ""
                raise TailError(
                    f"not connected within {connect_wait:g} s{why}"
                ) from None
            progress.connected = True
            if sandbox is not None:
                await _say_hello(sdk, sandbox)
            await asyncio.Event().wait()


def _cause_of(exc: BaseException) -> str:
    text = str(exc)
    cause = exc.__cause__
    if cause is not None and str(cause) not in text:
        text = f"{text}: {cause}"
    return " ".join(text.split())  # one line


async def _say_hello(sdk: Any, sandbox: Any) -> None:
    from ..protocol.models import Message

    chat = await sdk.start_chat([Message(text="Hello from tail")])
    agent = sandbox.agent("Jane")
    await agent.join(chat.id)
    await agent.send_message(chat.id, "Hi! This is the sandbox's scripted agent.")
