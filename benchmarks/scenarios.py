"""What is measured: the scenarios, their sizes per contender, and the targets."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

CONTENDERS = ("rx", "rxuv", "raw", "fast", "sock", "lc", "rec")
NAMES = {
    "rx": "rxlivechat",
    "rxuv": "rxlivechat on uvloop",
    "raw": "raw floor",
    "fast": "fast floor",
    "sock": "our socket floor",
    "lc": "lc-sdk-python",
    "rec": "rxlivechat recording",
}
RATIOS = (
    ("rx", "raw"),
    ("rxuv", "fast"),
    ("sock", "fast"),
    ("rx", "lc"),
    ("rec", "rx"),
)
"""The ratio columns, ``ours ÷ theirs`` of the medians: rxlivechat beside the
floor on its own loop (asyncio: aiohttp + msgspec; uvloop: picows + msgspec),
our socket beside picows (both on uvloop, with the same decode), and
rxlivechat recording a cassette beside rxlivechat."""


@dataclasses.dataclass(frozen=True)
class Metric:
    field: str
    """Key in a client's JSON result."""
    label: str
    unit: str
    higher_is_better: bool
    scale: float = 1.0
    """Multiplies the raw value for display (e.g. bytes → KiB)."""


@dataclasses.dataclass(frozen=True)
class Target:
    """An issue's target on one metric of rxlivechat (issue 7, then issue 13)."""

    text: str
    met: Callable[[dict[str, float]], bool | None]
    """Given the medians by contender, whether the target is met (None: unknown)."""


@dataclasses.dataclass(frozen=True)
class Scenario:
    key: str
    """The function each contender module defines for it."""
    title: str
    server: str
    """``stub``, ``sandbox`` (one per round) or ``fresh-sandbox`` (one per run)."""
    sizes: dict[str, int]
    """``n`` per contender; a contender missing here does not run it."""
    metrics: tuple[Metric, ...]
    targets: dict[str, tuple[Target, ...]] = dataclasses.field(default_factory=dict)
    """Targets by metric field."""
    unsupported: dict[str, str] = dataclasses.field(default_factory=dict)
    """Why a contender cannot run it."""


def _at_least(
    factor: float, other: str, ours: str = "rx"
) -> Callable[[dict[str, float]], bool | None]:
    def met(medians: dict[str, float]) -> bool | None:
        if ours not in medians or other not in medians:
            return None
        return medians[ours] >= factor * medians[other]

    return met


def _cpu_at_least(
    factor: float, floor: str, ours: str
) -> Callable[[dict[str, float]], bool | None]:
    """The floor's CPU per operation ÷ ours ≥ ``factor`` (issue 27's measure)."""

    def met(medians: dict[str, float]) -> bool | None:
        if ours not in medians or floor not in medians:
            return None
        return medians[floor] >= factor * medians[ours]

    return met


_CPU_TARGETS = (
    Target("raw ÷ rx ≥ 1.0 (27)", _cpu_at_least(1.0, "raw", "rx")),
    Target("fast ÷ rxuv ≥ 0.8 (27)", _cpu_at_least(0.8, "fast", "rxuv")),
)


def _rx_between(
    low: float | None, high: float | None
) -> Callable[[dict[str, float]], bool | None]:
    def met(medians: dict[str, float]) -> bool | None:
        value = medians.get("rx")
        if value is None:
            return None
        return (low is None or value >= low) and (high is None or value <= high)

    return met


def _recording_at_least(factor: float) -> Callable[[dict[str, float]], bool | None]:
    def met(medians: dict[str, float]) -> bool | None:
        if "rx" not in medians or "rec" not in medians:
            return None
        return medians["rec"] >= factor * medians["rx"]

    return met


_RECORDING_TARGET = Target("recording ≥ 0.8x off (25)", _recording_at_least(0.8))
_AT_ONCE_TARGET = Target("≥ 0.7x floor (13)", _at_least(0.7, "raw"))
_NO_QUEUE_IN_LC = {
    "lc": "no queue: each call blocks a thread (1,000 at once = 1,000 threads)",
    "fast": "no queue: the fast floor keeps no more than 10 requests",
}

PER_S = "/s"
US = "µs"

SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "seq",
        "1. sequential `send_event` round trips (stub)",
        "stub",
        {
            "rx": 5000,
            "rxuv": 5000,
            "raw": 5000,
            "fast": 5000,
            "sock": 5000,
            "lc": 20,
            "rec": 5000,
        },
        (
            Metric("rate", "round trips", PER_S, True),
            Metric("cpu_us", "client CPU per round trip", US, False),
        ),
        {
            "rate": (
                Target("≥ 0.5x floor", _at_least(0.5, "raw")),
                Target("≥ 0.8x floor (13)", _at_least(0.8, "raw")),
                Target("≥ 100x lc", _at_least(100, "lc")),
                _RECORDING_TARGET,
            ),
            "cpu_us": _CPU_TARGETS,
        },
    ),
    Scenario(
        "seq_dict",
        "1d. sequential `send_event` round trips, the seed's plain-dict style "
        '(`{"type": "message", ...}`) in batches alternating with the typed '
        "`Message(...)`, one process (stub)",
        "stub",
        {"rx": 5000, "rxuv": 5000},
        (
            Metric("rate", "dict-style round trips", PER_S, True),
            Metric("cpu_us", "client CPU per round trip, dict style", US, False),
            Metric("typed_cpu_us", "client CPU per round trip, typed", US, False),
            Metric("ratio", "client CPU, dict ÷ typed", "x", False),
        ),
        {"ratio": (Target("≤ 1.25 (30)", _rx_between(None, 1.25)),)},
        unsupported={
            "raw": "one style: it sends dicts and has no typed form",
            "fast": "one style: it sends dicts and has no typed form",
            "lc": "one style: it takes dicts and has no typed form",
        },
    ),
    Scenario(
        "e2e_seq",
        "1e. sequential `send_event` round trips (sandbox, end to end)",
        "sandbox",
        {"rx": 2000, "rxuv": 2000, "raw": 2000, "fast": 2000, "lc": 20, "rec": 2000},
        (
            Metric("rate", "round trips", PER_S, True),
            Metric("cpu_us", "client CPU per round trip", US, False),
        ),
        {"rate": (_RECORDING_TARGET,)},
    ),
    Scenario(
        "window",
        "2a. 10 requests in flight (stub)",
        "stub",
        {"rx": 5000, "rxuv": 5000, "raw": 5000, "fast": 5000, "lc": 100},
        (Metric("rate", "completed", PER_S, True),),
    ),
    Scenario(
        "at_once",
        "2b. 1,000 at once through reactivex's `ops.flat_map`, 10 on the socket "
        "(stub; no target: reactivex alone costs more than a request, see 2d)",
        "stub",
        {"rx": 5000, "rxuv": 5000, "raw": 5000},
        (Metric("rate", "completed", PER_S, True),),
        unsupported=_NO_QUEUE_IN_LC,
    ),
    Scenario(
        "at_once_gather",
        "2c. 1,000 at once with `asyncio.gather`, as the floor does (stub)",
        "stub",
        {"rx": 5000, "rxuv": 5000, "raw": 5000},
        (Metric("rate", "completed", PER_S, True),),
        {"rate": (_AT_ONCE_TARGET,)},
        unsupported=_NO_QUEUE_IN_LC,
    ),
    Scenario(
        "rx_merge",
        "2d. the operators alone: `flat_map` over 1,000 observables as lean as an "
        "SDK call, no SDK (what 2b and 2e add to a request)",
        "stub",
        {"rx": 20_000, "rxuv": 20_000},
        (
            Metric("cpu_us", "CPU per inner, reactivex's `ops.flat_map`", US, False),
            Metric("ours_cpu_us", "CPU per inner, `rxlivechat.operators`", US, False),
        ),
        unsupported={
            "raw": "no reactivex",
            "fast": "no reactivex",
            "lc": "no reactivex",
        },
    ),
    Scenario(
        "at_once_operators",
        "2e. 1,000 at once through `rxlivechat.operators.flat_map` (stub)",
        "stub",
        {"rx": 5000, "rxuv": 5000, "raw": 5000},
        (Metric("rate", "completed", PER_S, True),),
        {"rate": (_AT_ONCE_TARGET,)},
        unsupported=_NO_QUEUE_IN_LC,
    ),
    Scenario(
        "pushes",
        "3. burst of 100,000 `incoming_event` pushes to a subscriber (stub)",
        "stub",
        dict.fromkeys(CONTENDERS, 100_000),
        (
            Metric("rate", "pushes delivered", PER_S, True),
            Metric("cpu_us", "client CPU per push", US, False),
        ),
        {
            "rate": (
                Target("≥ 0.5x floor", _at_least(0.5, "raw")),
                Target("≥ 0.7x floor (13)", _at_least(0.7, "raw")),
                Target("≥ 5x lc", _at_least(5, "lc")),
                _RECORDING_TARGET,
            ),
            "cpu_us": _CPU_TARGETS,
        },
    ),
    Scenario(
        "waiting",
        "4. per-frame cost, 0 vs 1,000 requests waiting (stub, 50,000-push bursts)",
        "stub",
        {"rx": 50_000, "rxuv": 50_000, "raw": 50_000},
        (
            Metric("rate", "pushes, 0 waiting", PER_S, True),
            Metric("busy_rate", "pushes, 1,000 waiting", PER_S, True),
            Metric("ratio", "rate with 1,000 waiting ÷ with 0", "x", True),
        ),
        {"ratio": (Target("≥ 0.8", _rx_between(0.8, None)),)},
        unsupported={
            "lc": "sync API: a waiting request is a blocked thread that re-scans the "
            "whole frame list every 0.2 s and gives up after 3 s",
            "fast": "no queue: the fast floor keeps no more than 10 requests",
        },
    ),
    Scenario(
        "logins",
        "6. 1,000 logged-in customers in one process (sandbox)",
        "fresh-sandbox",
        {"rx": 1000, "rxuv": 1000, "raw": 1000, "lc": 1000},
        (
            Metric("wall_s", "connect + login, all customers", "s", False),
            Metric("rss_per_conn", "RSS per idle connection", "KiB", False, 1 / 1024),
        ),
        {
            "rss_per_conn": (
                Target("≤ 64 KiB", _rx_between(None, 64 * 1024)),
                Target("≤ 32 KiB (13)", _rx_between(None, 32 * 1024)),
            )
        },
        unsupported={"fast": "the fast floor measures the hot paths only"},
    ),
)


def quick(scenario: Scenario) -> Scenario:
    """The same scenario, much smaller: a smoke test of the harness."""
    sizes = {name: max(n // 20, 10) for name, n in scenario.sizes.items()}
    if scenario.key in ("at_once", "at_once_gather", "at_once_operators"):
        sizes = dict.fromkeys(sizes, 1000)
    return dataclasses.replace(scenario, sizes=sizes)
