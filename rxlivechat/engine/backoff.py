"""The reconnect policy: how long to wait before the next attempt. Pure, no I/O.

.. code-block:: text

    attempt ──logged in──► drop ─► wait ≤ base            (a healthy session)
    attempt ──failed────► wait base·2ᵏ (jittered, ≤ cap)  (k failures in a row)
    and never more than ``per_minute`` reconnects in any 60 s window (storms)

Rules:

1. Only consecutive *failed* attempts (no login reached) grow the delay; a login
   resets the count, so a session that was healthy reconnects at once.
2. Jitter is "equal": a delay is drawn between half its ceiling and the ceiling,
   so delays spread out, yet (below the cap) each is at least the one before.
3. The storm bound counts reconnects, whatever their outcome: a server that
   accepts, logs in and drops at once is reconnected to at most ``per_minute``
   times a minute.
4. Time is an argument (``now``, seconds on any monotonic clock): no asyncio here,
   so the tests run it on injected time.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable

__all__ = ["STORM_WINDOW", "ReconnectPolicy"]

STORM_WINDOW = 60.0
"""The rolling window (seconds) of the storm bound."""


class ReconnectPolicy:
    """Chooses the delay before each reconnect.

    Args:
        base: the ceiling after a login (seconds), doubled per failed attempt.
        cap: the largest ceiling (seconds).
        per_minute: at most this many reconnects start in any 60 s window.
        uniform: draws a number between its two arguments (``random.uniform``);
            tests pass their own.
    """

    def __init__(
        self,
        base: float,
        cap: float,
        *,
        per_minute: int = 20,
        uniform: Callable[[float, float], float] = random.uniform,
    ) -> None:
        if base <= 0 or cap < base:
            raise ValueError("reconnect_delay must be (base, cap) with 0 < base <= cap")
        if per_minute < 1:
            raise ValueError("reconnects_per_minute must be at least 1")
        self.base = base
        self.cap = cap
        self.per_minute = per_minute
        self._uniform = uniform
        self.failures = 0
        """Attempts in a row that did not reach login."""
        # Made on the first reconnect: most customers never need one.
        self._starts: deque[float] | None = None

    def ceiling(self) -> float:
        """The largest delay the next reconnect may wait (before the storm bound)."""
        # The exponent is bounded, so the ceiling never overflows.
        return min(self.cap, self.base * 2.0 ** min(self.failures, 64))

    def next_delay(self, now: float, *, logged_in: bool) -> float:
        """Record how an attempt ended at ``now``; the seconds to wait before the next.

        Args:
            now: the current time, in seconds on a monotonic clock.
            logged_in: whether the attempt reached login (then dropped).
        """
        self.failures = 0 if logged_in else self.failures + 1
        ceiling = self.ceiling()
        start = now + self._uniform(ceiling / 2, ceiling)
        if self._starts is None:
            self._starts = deque(maxlen=self.per_minute)
        if len(self._starts) == self.per_minute:
            # per_minute reconnects already: wait until the oldest leaves the window.
            start = max(start, self._starts[0] + STORM_WINDOW)
        self._starts.append(start)
        return start - now
