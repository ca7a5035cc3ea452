"""What the SDK tests share: connecting to a sandbox, recording events, waiting."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from typing import Any

import rxlivechat
from rxlivechat import CustomerSDK, Message, NewEvent
from rxlivechat.sandbox import Sandbox

CREATED: list[CustomerSDK] = []
"""Every SDK :func:`connect` made; tests/conftest.py destroys them after each test,
so a failing assertion cannot leave a socket open for the next test to trip on."""


def connect(sandbox: Sandbox, **options: Any) -> CustomerSDK:
    """``rxlivechat.init`` against ``sandbox`` (starts connecting)."""
    settings: dict[str, Any] = {
        "organization_id": sandbox.organization_id,
        "client_id": "test-client",
        "api_url": sandbox.api_url,
        "accounts_url": sandbox.accounts_url,
        "request_timeout": 5.0,
    }
    sdk = rxlivechat.init(**(settings | options))
    CREATED.append(sdk)
    return sdk


async def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait until ``predicate()`` holds; fails the test after ``timeout`` s."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.005)


async def awaited(observable: Any) -> Any:
    """``await observable`` as a coroutine (for ``ensure_future``/``gather``)."""
    return await observable


class Recorder:
    """Every ``(name, payload)`` of an SDK's event stream, from now on."""

    def __init__(self, sdk: CustomerSDK) -> None:
        self.items: list[tuple[str, Any]] = []
        sdk.subscribe(self.items.append)

    def of(self, name: str) -> list[Any]:
        """The payloads of the ``name`` events so far."""
        return [payload for n, payload in self.items if n == name]

    def names(self) -> list[str]:
        """The event names so far, in order."""
        return [name for name, _ in self.items]

    def texts_by(self, author_id: str) -> list[str]:
        """The texts of the messages ``author_id`` wrote, as new_event brought them."""
        return [
            e.event.text
            for e in self.of("new_event")
            if isinstance(e, NewEvent)
            and isinstance(e.event, Message)
            and e.event.author_id == author_id
        ]

    async def wait_for(
        self, name: str, count: int = 1, timeout: float = 10
    ) -> list[Any]:
        """Wait for ``count`` ``name`` events; returns their payloads."""
        await until(lambda: len(self.of(name)) >= count, timeout)
        return self.of(name)


def interruptible() -> None:
    """``preexec_fn`` for a child the test will send SIGINT (Ctrl-C).

    A shell that runs a job in the background (``make test &``) starts it with
    SIGINT ignored, children inherit that, and a Python started so never raises
    KeyboardInterrupt: give the child the default disposition back.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
