"""Pieces the asyncio contenders share: the push counter and the burst clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ..measure import BURST_TIMEOUT, Span, trigger_burst
from ..servers import Server

WARM_UP = 200
"""Round trips before each measured run."""
HELD = 1000
"""Requests left waiting in the per-frame-cost scenario."""


class Counter:
    """A push subscriber that resolves a future at the n-th delivery.

    ``check`` is applied to the last payload of each burst, to prove it is typed.
    """

    def __init__(self, check: Callable[[Any], bool]) -> None:
        self.check = check
        self.count = 0
        self.target = -1
        self.done: asyncio.Future[None] | None = None

    def expect(self, n: int) -> asyncio.Future[None]:
        self.count = 0
        self.target = n
        self.done = asyncio.get_running_loop().create_future()
        return self.done

    def __call__(self, payload: Any) -> None:
        self.count += 1
        if self.count == self.target and self.done is not None:
            assert self.check(payload), payload
            self.done.set_result(None)


async def burst(server: Server, org: str, counter: Counter, n: int) -> Span:
    """Time from asking the stub for ``n`` pushes until the n-th is delivered."""
    done = counter.expect(n)
    with Span() as span:
        trigger_burst(server.api_url, org, n)
        await asyncio.wait_for(done, BURST_TIMEOUT)
    return span


def ratio(idle: list[Span], busy: list[Span], n: int) -> dict[str, Any]:
    """Push throughput with requests waiting (busy) over that with none (idle)."""
    idle_wall = sum(s.wall for s in idle)
    busy_wall = sum(s.wall for s in busy)
    return {
        "count": n * (len(idle) + len(busy)),
        "rate": n * len(idle) / idle_wall,
        "busy_rate": n * len(busy) / busy_wall,
        "ratio": idle_wall / busy_wall,
        "cpu_us": sum(s.cpu for s in idle) / (n * len(idle)) * 1e6,
        "busy_cpu_us": sum(s.cpu for s in busy) / (n * len(busy)) * 1e6,
    }
