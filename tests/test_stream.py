"""HotStream: a subscriber that raises is reported and breaks nobody."""

from __future__ import annotations

from rxlivechat.stream import HotStream


def test_a_raising_subscriber_does_not_break_the_others() -> None:
    reported: list[Exception] = []
    stream: HotStream[int] = HotStream(reported.append)
    good: list[int] = []
    faulty: list[int] = []

    def explode(value: int) -> None:
        faulty.append(value)
        if value == 2:
            raise ValueError("boom")

    stream.subscribe(explode)
    stream.subscribe(good.append)
    for value in (1, 2, 3):
        stream.on_next(value)
    assert good == [1, 2, 3]
    assert faulty == [1, 2, 3]  # still subscribed after raising
    assert [str(e) for e in reported] == ["boom"]


def test_a_raising_reporter_is_contained() -> None:
    def report(exc: Exception) -> None:
        raise RuntimeError("reporter broke too")

    stream: HotStream[int] = HotStream(report)
    seen: list[int] = []

    def divide(value: int) -> None:
        print(value / 0)

    stream.subscribe(divide)
    stream.subscribe(seen.append)
    stream.on_next(1)
    assert seen == [1]


def test_it_composes_like_any_subject() -> None:
    stream: HotStream[int] = HotStream(lambda exc: None)
    out: list[int] = []
    done: list[bool] = []
    stream.filter(lambda v: v % 2 == 0).map(lambda v: v * 10).subscribe(
        out.append, on_completed=lambda: done.append(True)
    )
    for value in range(5):
        stream.on_next(value)
    stream.on_completed()
    assert out == [0, 20, 40]
    assert done == [True]
