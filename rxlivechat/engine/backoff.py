"""The reconnect policy: how long to wait before the next attempt. Pure, no I/O.

.. code-block:: text

    attempt ──logged in──► drop ─► wait ≤ base            (a healthy session)
    attempt ──failed────► wait base·2ᵏ (jittered, ≤ cap)  (k failures in a row)
    and a token bucket over every reconnect: per_minute back to back, then one
    every 60/per_minute s (storms)

Rules:

1. Only consecutive *failed* attempts (no login reached) grow the delay; a login
   resets the count, so a session that was healthy reconnects at once.
2. Jitter is "equal": a delay is drawn between half its ceiling and the ceiling,
   so delays spread out, yet (below the cap) each is at least the one before.
3. The storm bound counts reconnects, whatever their outcome, in a token bucket
   holding ``per_minute`` tokens and refilled with one every ``60 / per_minute``
   seconds: the long-run rate is at most ``per_minute`` a minute, and after a
   burst the next reconnect waits one refill interval at most (3 s by default),
   never a whole minute. A server that accepts, logs in and drops at once is
   reconnected to once per interval.
4. Time is an argument (``now``, seconds on any monotonic clock): no asyncio here,
   so the tests run it on injected time.
"""

from __future__ import annotations

import random
from collections.abc import Callable

__all__ = ["STORM_WINDOW", "ReconnectPolicy"]

STORM_WINDOW = 60.0
"""The storm bound's unit of time: ``per_minute`` reconnects per this many seconds."""


class ReconnectPolicy:
    """Chooses the delay before each reconnect.

    Args:
        base: the ceiling after a login (seconds), doubled per failed attempt.
        cap: the largest ceiling (seconds).
        per_minute: the storm bound: at most this many reconnects back to back,
            then one every ``60 / per_minute`` seconds.
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
        self.refill = STORM_WINDOW / per_minute
        """Seconds per token of the storm bound's bucket."""
        self._uniform = uniform
        self.failures = 0
        """Attempts in a row that did not reach login."""
        # The bucket as one number (the "generic cell rate" form): the time at
        # which it would be full again; no tokens were spent yet.
        self._full_at = float("-inf")

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
        # A token is free once the bucket is less than full by one: wait for it.
        start = max(start, self._full_at - (self.per_minute - 1) * self.refill)
        self._full_at = max(self._full_at, start) + self.refill
        return start - now
