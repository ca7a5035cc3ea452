"""A throttle with leading and trailing edges, on the asyncio loop.

.. code-block:: text

    offered   H-He-Hel-Hell-Hello------------Hi--
    sent      H--------------------Hello-----Hi--     (interval: 2 s)

The first value goes at once; values offered within the interval after a send
wait, and only the latest of them goes when the interval is over. Used for sneak
peeks: at most one per 2 s per chat, and the latest text always delivered (the
JS SDK documents the throttle but never applies it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["Throttle"]

T = TypeVar("T")


class Throttle(Generic[T]):
    """Pass values to ``send`` at most once per ``interval`` seconds, latest wins.

    Args:
        send: called with each value that goes out.
        interval: the minimum time between two sends, in seconds.
    """

    def __init__(self, send: Callable[[T], None], interval: float) -> None:
        self._send = send
        self._interval = interval
        self._last_sent = float("-inf")
        self._value: T | None = None
        self._timer: asyncio.TimerHandle | None = None

    def offer(self, value: T) -> None:
        """Send ``value`` now if the interval allows, else when it ends."""
        loop = asyncio.get_running_loop()
        self._value = value
        if self._timer is not None:
            return  # a trailing send is already due: it will take this value
        wait = self._last_sent + self._interval - loop.time()
        if wait <= 0:
            self._flush()
        else:
            self._timer = loop.call_later(wait, self._flush)

    def cancel(self) -> None:
        """Drop a pending trailing send."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._value = None

    def _flush(self) -> None:
        self._timer = None
        value, self._value = self._value, None
        if value is not None:
            self._last_sent = asyncio.get_running_loop().time()
            self._send(value)
