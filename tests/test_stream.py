"""HotStream: a subscriber that raises is reported and breaks nobody."""

from __future__ import annotations

import reactivex

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


def test_an_attached_observer_gets_values_until_disposed_or_completed() -> None:
    # How the SDK forwards its event stream: one wrap by Observable.subscribe.
    stream: HotStream[int] = HotStream(lambda exc: None)
    forwarded: reactivex.Observable[int] = reactivex.create(
        lambda observer, _: stream.attach(observer)
    )
    first: list[object] = []
    second: list[object] = []
    subscription = forwarded.subscribe(first.append)
    forwarded.subscribe(second.append, on_completed=lambda: second.append("done"))
    stream.on_next(1)
    subscription.dispose()
    stream.on_next(2)
    stream.on_completed()
    stream.on_next(3)
    assert first == [1]
    assert second == [1, 2, "done"]
    assert stream.observers == []  # completed: nobody is kept
