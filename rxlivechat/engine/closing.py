"""Closing work that nobody may await: kept alive until done, its errors logged.

:meth:`~.connection.Connection.stop` and :meth:`~.connection.Connection.close`
take effect at once and return such a task; awaiting it is optional.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

__all__ = ["finish", "spawn_held"]

log = logging.getLogger("rxlivechat")

_KEPT: set[asyncio.Task[Any]] = set()
"""Closing tasks nobody may await: kept here until done (the loop keeps only
weak references to its tasks)."""


def spawn_held(work: Awaitable[None], what: str) -> asyncio.Task[None] | None:
    """Run ``work`` as a task kept until done, its errors logged.

    Returns ``None`` (and runs nothing) when no loop is running: then nothing was
    ever opened that needs closing.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        if asyncio.iscoroutine(work):
            work.close()
        return None

    async def logged() -> None:
        try:
            await work
        except Exception:  # nobody may be awaiting: never leave it unretrieved
            log.exception("error while the SDK was closing (%s)", what)

    task = loop.create_task(logged(), name=f"rxlivechat-{what}")
    _KEPT.add(task)
    task.add_done_callback(_KEPT.discard)
    return task


async def finish(task: asyncio.Task[None] | None) -> None:
    """Wait for ``task`` to end, whatever its outcome (it closes its socket)."""
    if task is not None:
        await asyncio.wait({task})
