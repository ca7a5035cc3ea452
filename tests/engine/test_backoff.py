"""The reconnect policy: on injected time, then through the SDK against the sandbox."""

from __future__ import annotations

import asyncio
import random

import pytest

from rxlivechat import InvalidArgumentError
from rxlivechat.engine.backoff import STORM_WINDOW, ReconnectPolicy
from rxlivechat.protocol.methods import GetCustomer
from rxlivechat.sandbox import Sandbox

from ..helpers import Recorder, connect


def highest(low: float, high: float) -> float:
    """A "random" draw that always takes the ceiling: exact delays."""
    return high


# The pure policy, on counted time -------------------------------------------------


def test_a_login_resets_the_count_so_a_healthy_drop_waits_at_most_base() -> None:
    policy = ReconnectPolicy(1.0, 30.0, uniform=highest)
    failed = [policy.next_delay(0.0, logged_in=False) for _ in range(4)]
    assert failed == [2.0, 4.0, 8.0, 16.0]
    assert policy.next_delay(0.0, logged_in=True) == 1.0  # the base, not 32
    assert policy.failures == 0
    assert policy.next_delay(0.0, logged_in=False) == 2.0  # counting afresh


def test_healthy_drops_never_accumulate() -> None:
    policy = ReconnectPolicy(0.5, 30.0, per_minute=1000)
    now = 0.0
    for _ in range(200):  # login, drop, login, drop...
        delay = policy.next_delay(now, logged_in=True)
        assert 0.25 <= delay <= 0.5
        now += delay + 10.0


def test_consecutive_failures_grow_the_delay_up_to_the_cap() -> None:
    rng = random.Random(3)
    policy = ReconnectPolicy(0.5, 30.0, uniform=rng.uniform)
    now, delays = 0.0, []
    for failures in range(1, 13):
        delay = policy.next_delay(now, logged_in=False)
        ceiling = min(30.0, 0.5 * 2**failures)
        assert ceiling / 2 <= delay <= ceiling  # equal jitter under the ceiling
        delays.append(delay)
        now += delay
    uncapped = delays[:5]  # ceilings 1..16: each delay at least the previous ceiling
    assert uncapped == sorted(uncapped)
    assert all(15.0 <= d <= 30.0 for d in delays[5:])  # capped from then on


def test_jitter_spreads_clients_that_failed_together() -> None:
    delays = set()
    for _ in range(50):
        policy = ReconnectPolicy(0.5, 30.0)
        policy.failures = 2
        delays.add(policy.next_delay(0.0, logged_in=False))  # the third failure
    assert len(delays) == 50
    assert all(2.0 <= d <= 4.0 for d in delays)


def test_the_delay_never_overflows_or_spins() -> None:
    policy = ReconnectPolicy(0.5, 30.0, per_minute=10**9)
    policy.failures = 6  # the ceiling has reached the cap
    for _ in range(5000):
        delay = policy.next_delay(0.0, logged_in=False)
        assert 15.0 <= delay <= 30.0  # neither 0 (a spin) nor past the cap
    policy.failures = 10**9
    assert 15.0 <= policy.next_delay(0.0, logged_in=False) <= 30.0


def test_storms_are_bounded_to_the_long_run_rate() -> None:
    # A server that accepts, logs in and drops at once, 500 times.
    policy = ReconnectPolicy(0.1, 30.0, per_minute=20, uniform=highest)
    now, starts = 0.0, []
    for _ in range(500):
        now += policy.next_delay(now, logged_in=True)
        starts.append(now)
    assert all(d <= 0.1 + 1e-9 for d in _gaps(starts[:20]))  # the first 20: at once
    gaps = _gaps(starts)[20:]  # then one token a refill (3 s) at most...
    assert all(gap <= 3.0 + 1e-9 for gap in gaps)
    assert all(gap >= 3.0 - 1e-9 for gap in gaps[1:])  # ...and at least, spent
    for i, start in enumerate(starts):  # the burst and a minute's refill at most
        # (1e-9: the test adds delays up again, with float rounding)
        in_window = [s for s in starts[: i + 1] if s > start - STORM_WINDOW + 1e-9]
        assert len(in_window) <= 20 + 20
    rate = (len(starts) - 21) / (starts[-1] - starts[20]) * STORM_WINDOW
    assert rate <= 20 + 1e-6  # the long run: 20 a minute, no more


def test_after_a_burst_the_next_reconnect_waits_one_refill_not_a_window() -> None:
    # The case: 21 healthy drops in ~8 s. A window log made the 21st
    # wait until the oldest was 60 s old (~50 s); the bucket, one refill (3 s).
    policy = ReconnectPolicy(0.5, 30.0, uniform=highest)
    now = 0.0
    for _ in range(21):
        now += policy.next_delay(now, logged_in=True)  # each drops at once
    assert now <= 10.5  # the bucket is empty
    delay = policy.next_delay(now, logged_in=True)
    assert delay <= policy.refill == 3.0


def test_the_bucket_refills_while_quiet() -> None:
    policy = ReconnectPolicy(1.0, 30.0, per_minute=3, uniform=highest)
    assert [policy.next_delay(0.0, logged_in=True) for _ in range(3)] == [1.0] * 3
    assert policy.next_delay(0.0, logged_in=True) == 21.0  # a token: 20 s each
    assert policy.next_delay(0.0, logged_in=True) == 41.0
    assert policy.next_delay(1000.0, logged_in=True) == 1.0  # full again: at once
    assert policy.next_delay(1000.0, logged_in=True) == 1.0


def test_failed_attempts_back_off_whatever_the_bucket_holds() -> None:
    policy = ReconnectPolicy(0.5, 30.0, per_minute=10**6, uniform=highest)
    delays = [policy.next_delay(0.0, logged_in=False) for _ in range(4)]
    assert delays == [1.0, 2.0, 4.0, 8.0]  # the bucket is full: backoff alone


@pytest.mark.parametrize(
    ("base", "cap", "per_minute"), [(0, 1, 5), (-1, 1, 5), (2, 1, 5), (1, 2, 0)]
)
def test_bad_settings_are_refused(base: float, cap: float, per_minute: int) -> None:
    with pytest.raises(ValueError, match="reconnect"):
        ReconnectPolicy(base, cap, per_minute=per_minute)


async def test_the_sdk_refuses_bad_settings_before_connecting(
    sandbox: Sandbox,
) -> None:
    with pytest.raises(InvalidArgumentError, match="reconnect_delay"):
        connect(sandbox, reconnect_delay=(1.0, 0.5))
    with pytest.raises(InvalidArgumentError, match="reconnects_per_minute"):
        connect(sandbox, reconnects_per_minute=0)
    assert sandbox.count() == 0


def _gaps(starts: list[float]) -> list[float]:
    return [b - a for a, b in zip([0.0, *starts], starts, strict=False)]


# Through the SDK, against the sandbox (generous bounds, counted attempts) -----------


async def test_drops_after_healthy_logins_reconnect_at_once_every_time(
    sandbox: Sandbox,
) -> None:
    # The old policy counted these drops: by the 10th, the wait could reach the
    # cap (30 s). Now each is one reconnect within the base delay (0.2 s here).
    sdk = connect(sandbox, reconnect_delay=(0.2, 30.0))
    seen = Recorder(sdk)
    await sdk.wait_connected(timeout=5)
    for drop in range(1, 11):
        await sandbox.drop_connections()
        await seen.wait_for("connection_restored", count=drop, timeout=5)
        assert sandbox.count("login") == drop + 1  # one attempt per drop
    await sdk.destroy()


async def test_a_short_outage_after_many_drops_costs_less_than_a_request_timeout(
    sandbox: Sandbox,
) -> None:
    # The measurement: after drops of healthy sessions, a 1 s outage
    # made a request time out (15 s). Now the request waits and succeeds.
    sdk = connect(sandbox, request_timeout=15.0)
    seen = Recorder(sdk)
    await sdk.wait_connected(timeout=5)
    for drop in range(1, 9):
        await sandbox.drop_connections()
        await seen.wait_for("connection_restored", count=drop, timeout=5)
    sandbox.refuse_connections(1.0)
    await sandbox.drop_connections()
    await seen.wait_for("connection_lost", count=9)
    customer = await sdk.call(GetCustomer())  # made during the outage
    assert customer.id == sdk.customer_id
    await sdk.destroy()


async def test_failed_attempts_back_off_while_the_server_refuses(
    sandbox: Sandbox,
) -> None:
    sdk = connect(sandbox, reconnect_delay=(0.02, 0.32))
    seen = Recorder(sdk)
    await sdk.wait_connected(timeout=5)
    sandbox.refuse_connections(2.0)
    await sandbox.drop_connections()
    await seen.wait_for("connection_restored", timeout=10)
    attempts = len(seen.of("error"))  # each refused attempt is an error event
    # At a fixed 0.02 s that would be ~100 attempts; doubling to 0.32 s, ~12.
    assert 3 <= attempts <= 30
    await sdk.destroy()


async def test_the_storm_bound_holds_back_a_server_that_drops_at_once(
    sandbox: Sandbox,
) -> None:
    sdk = connect(sandbox, reconnect_delay=(0.01, 0.05), reconnects_per_minute=3)
    seen = Recorder(sdk)
    await sdk.wait_connected(timeout=5)
    for drop in range(1, 4):  # three reconnects: allowed at once
        await sandbox.drop_connections()
        await seen.wait_for("connection_restored", count=drop, timeout=5)
    await sandbox.drop_connections()  # the fourth must wait for a token (20 s)
    await seen.wait_for("connection_lost", count=4)
    logins = sandbox.count("login")
    await asyncio.sleep(1.0)
    assert sandbox.count("login") == logins
    assert not sdk.connected
    await sdk.destroy()  # ends the long wait at once


@pytest.mark.slow
async def test_a_burst_of_healthy_drops_then_a_request_with_default_settings(
    sandbox: Sandbox,
) -> None:
    # The case, counted: 24 drops, each after a good login, empty the
    # bucket (20 tokens and the few refilled meanwhile); a request made at the
    # next drop waits one refill (<= 3 s), not the ~50 s a window log made it
    # wait, and completes within 5 s. Defaults: reconnect_delay, the bound.
    sdk = connect(sandbox, request_timeout=5.0)
    seen = Recorder(sdk)
    await sdk.wait_connected(timeout=5)
    loop = asyncio.get_running_loop()
    began = loop.time()
    for drop in range(1, 25):
        await sandbox.drop_connections()
        await seen.wait_for("connection_restored", count=drop, timeout=10)
    burst = loop.time() - began
    await sandbox.drop_connections()
    await seen.wait_for("connection_lost", count=25)
    asked = loop.time()
    customer = await sdk.call(GetCustomer())  # fails at 5 s (request_timeout)
    waited = loop.time() - asked
    assert customer.id == sdk.customer_id
    assert sandbox.count("login") == 26  # one attempt per drop, none refused
    print(f"24 healthy drops in {burst:.1f} s; the request after: {waited:.2f} s")
    assert waited < 5.0
    await sdk.destroy()
