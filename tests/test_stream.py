"""HotStream: a subscriber that raises is reported and breaks nobody.
StreamQueue: a hot stream read with ``async for``, bounded, drops counted."""

from __future__ import annotations

import asyncio

import pytest
import reactivex
from reactivex.subject import Subject

from rxlivechat import InvalidArgumentError, StreamOverflowError
from rxlivechat.handlers import Overflow
from rxlivechat.stream import HotStream, StreamQueue


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


@pytest.mark.parametrize(
    ("overflow", "kept", "dropped"),
    [("drop_oldest", [98, 99, 100], 97), ("buffer", [1, 2, 3], 97)],
)
async def test_a_full_queue_keeps_its_bound_and_counts_every_drop(
    overflow: Overflow, kept: list[int], dropped: int
) -> None:
    source: Subject[int] = Subject()
    queue = StreamQueue(source, 3, overflow)
    for value in range(1, 101):
        source.on_next(value)
    assert len(queue) == 3  # never more than the bound held
    assert queue.dropped == dropped
    source.on_completed()  # the end comes after what waits
    async with asyncio.timeout(5):
        assert [value async for value in queue] == kept


async def test_a_failing_queue_delivers_what_waits_then_raises() -> None:
    source: Subject[int] = Subject()
    queue = StreamQueue(source, 2, "fail")
    for value in (1, 2, 3, 4):
        source.on_next(value)
    assert not source.observers  # it stopped listening
    async with asyncio.timeout(5):
        assert [await queue.get(), await queue.get()] == [1, 2]
        with pytest.raises(StreamOverflowError, match="2 items behind"):
            await queue.get()


async def test_a_reader_waits_for_the_next_item_and_close_ends_it() -> None:
    source: Subject[int] = Subject()
    async with StreamQueue(source, 10) as queue:
        reading = asyncio.ensure_future(queue.get())
        await asyncio.sleep(0)
        assert not reading.done()
        source.on_next(7)
        assert await asyncio.wait_for(reading, 5) == 7
    assert not source.observers  # closed on leaving the block
    with pytest.raises(StopAsyncIteration):
        await queue.get()


def test_a_queue_refuses_a_bad_bound_or_policy() -> None:
    source: Subject[int] = Subject()
    with pytest.raises(InvalidArgumentError):
        StreamQueue(source, 0)
    with pytest.raises(InvalidArgumentError):
        StreamQueue(source, 1, "block")  # type: ignore[arg-type]
