"""When to reconnect: a pure policy, tested on counted time (no asyncio here).

Rules:

1. Only consecutive *failed attempts* (attempts that did not reach a login) grow
   the delay: full jitter under ``base * 2**failures``, capped. A successful
   login resets the count, so a drop after a healthy session reconnects within
   ``base`` seconds however many drops came before.
2. A separate bound protects the server from storms: at most ``per_minute``
   attempts start in any rolling 60 s; the next one waits for the window.
3. The exponent is bounded, so the delay never overflows (the JS SDK's reaches 0
   after ~1,000 tries).
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable

__all__ = ["Backoff"]

WINDOW = 60.0
"""Seconds of the storm bound's rolling window."""


class Backoff:
    """Reconnect delays for one connection.

    Args:
        base: seconds; the ceiling of the first delay, and of every delay after
            a successful login.
        cap: seconds; no delay is longer (except to honour ``per_minute``).
        per_minute: attempts allowed in any rolling minute.
        jitter: returns a float in ``[0, 1)``; ``random.random`` by default.

    Example:
        >>> backoff = Backoff(0.5, 30.0, jitter=lambda: 1.0)
        >>> backoff.next_delay(now=0.0)
        0.5
        >>> backoff.failed(); backoff.failed()
        >>> backoff.next_delay(now=1.0)
        2.0
        >>> backoff.logged_in()
        >>> backoff.next_delay(now=5.0)
        0.5
    """

    def __init__(
        self,
        base: float,
        cap: float,
        *,
        per_minute: int = 20,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if base <= 0 or cap < base:
            raise ValueError("reconnect delays need 0 < base <= cap")
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.base = base
        self.cap = cap
        self.per_minute = per_minute
        self._jitter = jitter
        self.failures = 0
        """Consecutive attempts that did not reach a login."""
        self._starts: deque[float] = deque()

    def failed(self) -> None:
        """An attempt ended before its login succeeded."""
        self.failures += 1

    def logged_in(self) -> None:
        """A login succeeded: the next drop reconnects within ``base``."""
        self.failures = 0

    def next_delay(self, now: float) -> float:
        """Seconds to wait, from ``now``, before the next attempt; records it.

        Args:
            now: the current time in seconds on any monotonic clock.
        """
        ceiling = min(self.cap, self.base * 2 ** min(self.failures, 32))
        delay = self._jitter() * ceiling
        starts = self._starts
        while starts and starts[0] <= now - WINDOW:
            starts.popleft()
        if len(starts) >= self.per_minute:
            delay = max(delay, starts[0] + WINDOW - now)
        starts.append(now + delay)
        return delay
