"""What :meth:`~rxlivechat.CustomerSDK.destroy` and ``disconnect()`` return.

The SDK stops when they are called; the socket (and the HTTP session) close in a
task held by :func:`rxlivechat.engine.closing.spawn_held`, which awaiting the
:class:`Closing` waits for, and which runs to its end either way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Generator
from typing import Any

from .engine.closing import spawn_held

__all__ = ["Closing", "closed"]


class Closing:
    """What :meth:`~rxlivechat.sdk.CustomerSDK.destroy` and ``disconnect()`` return.

    The SDK has stopped by the time you get it; awaiting it waits until the socket
    (and, after ``destroy()``, the HTTP session) is closed. Awaiting is optional
    and may be repeated; the closing runs either way, held until it is done.
    Cancelling a wait does not interrupt the closing.
    """

    __slots__ = ("_task",)

    def __init__(self, closing: Awaitable[None] | None) -> None:
        self._task = None if closing is None else spawn_held(closing, "closing")

    def done(self) -> bool:
        """Whether the closing has finished."""
        return self._task is None or self._task.done()

    def __await__(self) -> Generator[Any, None, None]:
        if self._task is not None and not self._task.done():
            yield from asyncio.shield(self._task).__await__()


async def closed(
    closing: Awaitable[None] | None, tasks: list[asyncio.Task[Any]]
) -> None:
    """Wait for the SDK's cancelled tasks to end and the engine to close."""
    if tasks:
        await asyncio.wait(tasks)
    if closing is not None:
        await closing
