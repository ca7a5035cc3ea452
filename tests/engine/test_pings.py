"""Idle customers ping on one grid of slots (issue 27), never past the interval."""

from __future__ import annotations

import math

import pytest

from rxlivechat.engine import pings
from rxlivechat.engine.pings import PING_INTERVAL, PING_SLOTS, next_ping_slot

SLOT = PING_INTERVAL / PING_SLOTS


@pytest.mark.parametrize("now", [0.0, 0.2, 0.999, 1.0, 12_345.678, 86_400.5])
def test_the_next_ping_is_the_last_slot_within_the_interval(now: float) -> None:
    due = next_ping_slot(now)
    assert now + PING_INTERVAL - SLOT < due <= now + PING_INTERVAL
    assert math.isclose(due / SLOT, round(due / SLOT), abs_tol=1e-6)  # on the grid


def test_customers_due_within_one_slot_ping_together() -> None:
    # Logged in at different moments of one slot: the same next ping.
    start = 1_000 * SLOT
    dues = {next_ping_slot(start + SLOT * share) for share in (0.0, 0.3, 0.6, 0.99)}
    assert dues == {start + PING_INTERVAL}


def test_the_grid_follows_a_patched_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests shorten the interval: the slots shrink with it.
    monkeypatch.setattr(pings, "PING_INTERVAL", 0.3)
    due = next_ping_slot(10.0)
    assert 10.3 - 0.3 / PING_SLOTS < due <= 10.3
