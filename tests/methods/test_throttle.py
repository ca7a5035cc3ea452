"""The leading/trailing-edge throttle behind sneak peeks, with counted sends."""

from __future__ import annotations

import asyncio

from rxlivechat.methods.throttle import Throttle


async def test_first_goes_at_once_then_only_the_latest_per_interval() -> None:
    sent: list[str] = []
    throttle: Throttle[str] = Throttle(sent.append, 0.1)
    for text in ("a", "ab", "abc"):
        throttle.offer(text)
    assert sent == ["a"]  # leading edge
    await asyncio.sleep(0.15)
    assert sent == ["a", "abc"]  # trailing edge: the latest only
    await asyncio.sleep(0.15)
    throttle.offer("later")
    assert sent == ["a", "abc", "later"]  # the interval is over: at once again


async def test_cancel_drops_the_pending_send() -> None:
    sent: list[str] = []
    throttle: Throttle[str] = Throttle(sent.append, 0.05)
    throttle.offer("x")
    throttle.offer("y")
    throttle.cancel()
    await asyncio.sleep(0.1)
    assert sent == ["x"]
