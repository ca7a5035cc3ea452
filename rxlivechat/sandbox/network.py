"""One direction of a simulated network link: each frame late, in order.

The sandbox gives each RTM connection two of these when latency is set
(:meth:`~.server.Sandbox.latency`): frames it receives, and frames it sends.
A frame is due its delay after it was put, and waits for the frames put before
it (a shorter jittered delay does not overtake), as on one TCP connection.
Only the link's own task waits, so other connections and the event loop run on.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

__all__ = ["Link"]

T = TypeVar("T")

logger = logging.getLogger("rxlivechat.sandbox")


class Link(Generic[T]):
    """Frames in, the same frames out to ``deliver``, each ``delay()`` later.

    Args:
        deliver: passes one frame on (awaited: a slow peer holds the link back).
        delay: the seconds the next frame spends on the link.
        track: registers the task that runs the link (its owner ends it).
    """

    def __init__(
        self,
        deliver: Callable[[T], Awaitable[None]],
        delay: Callable[[], float],
        track: Callable[[asyncio.Task[None]], None],
    ) -> None:
        self._deliver = deliver
        self._delay = delay
        self._track = track
        self._frames: deque[tuple[float, T]] = deque()
        self._task: asyncio.Task[None] | None = None
        self._drained = asyncio.Event()
        self._drained.set()
        self._closed = False

    @property
    def busy(self) -> bool:
        """Whether a frame is on the link (a new one must queue behind it)."""
        return not self._drained.is_set()

    def put(self, frame: T) -> None:
        """Send ``frame`` down the link (dropped once the link is closed)."""
        if self._closed:
            return
        due = asyncio.get_running_loop().time() + self._delay()
        self._frames.append((due, frame))
        self._drained.clear()
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())
            self._track(self._task)

    async def drain(self) -> None:
        """Wait until every frame put so far has been delivered."""
        await self._drained.wait()

    def close(self) -> None:
        """Drop the frames still on the link (a cut connection loses them)."""
        self._closed = True
        self._frames.clear()
        self._drained.set()
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._frames:
                due, frame = self._frames[0]
                if (wait := due - loop.time()) > 0:
                    await asyncio.sleep(wait)
                self._frames.popleft()
                try:
                    await self._deliver(frame)
                except Exception:  # one bad frame must not stop the link
                    logger.exception("sandbox: delivering a delayed frame failed")
        finally:
            self._task = None
            if not self._frames:
                self._drained.set()
