"""``rxlivechat.operators.flat_map``: reactivex's rules, checked against reactivex
itself marble by marble, then thread safety, futures, and real requests."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable
from typing import Any, cast

import pytest
import reactivex as rx
from reactivex import Observable, operators as ops
from reactivex.testing import ReactiveTest, TestScheduler
from reactivex.testing.coldobservable import ColdObservable

from rxlivechat import CustomerSDK, Event, InvalidArgumentError, Message
from rxlivechat.operators import flat_map
from rxlivechat.sandbox import Sandbox

from .helpers import until

on_next = ReactiveTest.on_next
on_completed = ReactiveTest.on_completed
on_error = ReactiveTest.on_error

FlatMap = Callable[[Callable[[Any], Any]], Callable[[Observable[Any]], Observable[Any]]]

# Marbles: the same case through ours and through reactivex's -----------------------


class Boom(Exception):
    pass


def _two_each(x: str) -> list[Any]:
    """An inner that emits ``x1`` after 10 ticks and ``x2`` after 30."""
    return [on_next(10, x + "1"), on_next(30, x + "2"), on_completed(40)]


CASES: dict[str, dict[str, Any]] = {
    "inners overlap": {},
    "the source ends after its inners": {"source_end": on_completed(400)},
    "an inner errors": {"inner": {"b": [on_next(5, "b1"), on_error(15, Boom("b"))]}},
    "the source errors": {"source_end": on_error(235, Boom("source"))},
    "the mapper raises": {"raises_on": "c"},
    "disposed while inners run": {"disposed": 245},
    "an inner that is empty": {"inner": {"a": [on_completed(1)]}},
    "an inner that never ends": {"inner": {"c": [on_next(5, "c1")]}},
    "an iterable inner": {"iterable": True},
    "an empty source": {"source": [], "source_end": on_completed(205)},
    "downstream takes three and stops": {"take": 3},
}


def _run(flat: FlatMap, case: dict[str, Any]) -> tuple[Any, ...]:
    scheduler = TestScheduler()
    abc = [on_next(210, "a"), on_next(220, "b"), on_next(230, "c")]
    items = case.get("source", abc)
    source = scheduler.create_hot_observable(
        *items, case.get("source_end", on_completed(240))
    )
    inners: dict[str, ColdObservable[Any]] = {}

    def mapper(x: str) -> Any:
        if x == case.get("raises_on"):
            raise Boom("mapper")
        if case.get("iterable"):
            return [x + "1", x + "2"]
        inners[x] = scheduler.create_cold_observable(
            *case.get("inner", {}).get(x, _two_each(x))
        )
        return inners[x]

    def create() -> Observable[Any]:
        merged = source.pipe(flat(mapper))
        return merged.pipe(ops.take(case["take"])) if "take" in case else merged

    results = scheduler.start(create, disposed=case.get("disposed", 1000))
    return (
        results.messages,
        source.subscriptions,
        {x: inner.subscriptions for x, inner in inners.items()},
    )


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_flat_map_follows_reactivex_marble_by_marble(case: str) -> None:
    ours = _run(flat_map, CASES[case])
    theirs = _run(ops.flat_map, CASES[case])
    assert ours == theirs
    assert ours[0], "the case emits something"


def test_the_marbles_tell_operators_apart() -> None:
    """The comparison above can fail: an operator that drops errors is caught."""

    def swallowing(mapper: Callable[[Any], Any]) -> Callable[[Observable[Any]], Any]:
        return lambda source: source.pipe(ops.flat_map(mapper), ops.catch(rx.empty()))

    case = CASES["an inner errors"]
    assert _run(swallowing, case) != _run(ops.flat_map, case)


# Futures and threads ---------------------------------------------------------------


async def test_flat_map_takes_asyncio_futures() -> None:
    loop = asyncio.get_running_loop()

    def later(x: int) -> asyncio.Future[int]:
        future = loop.create_future()
        # 50 ms apart: on a loaded machine the subscriptions alone take milliseconds.
        loop.call_later(0.05 * (5 - x), future.set_result, x * 10)
        return future

    got = await rx.from_iterable(range(5)).pipe(flat_map(later), ops.to_list())
    assert got == [40, 30, 20, 10, 0]  # in the order they settled


def test_flat_map_serializes_emissions_from_many_threads() -> None:
    """Inners settle on 8 worker threads; downstream sees one call at a time,
    every value once, then one completion."""
    seen: list[int] = []
    inside = 0
    overlaps = 0
    completed = threading.Event()
    completions = 0

    def record(value: int) -> None:
        nonlocal inside, overlaps
        inside += 1
        if inside > 1:
            overlaps += 1
        time.sleep(0)  # let another thread in, if the lock would
        seen.append(value)
        inside -= 1

    def complete() -> None:
        nonlocal completions
        completions += 1
        completed.set()

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        rx.from_iterable(range(2000)).pipe(
            flat_map(lambda x: pool.submit(lambda: x))
        ).subscribe(record, on_completed=complete)
        assert completed.wait(10)
    assert sorted(seen) == list(range(2000))
    assert (overlaps, completions) == (0, 1)


def test_a_mapper_returning_nothing_usable_is_an_error() -> None:
    errors: list[Exception] = []

    def bad(_: int) -> Any:
        return 42

    rx.of(1).pipe(flat_map(bad)).subscribe(on_error=errors.append)
    assert len(errors) == 1
    assert isinstance(errors[0], TypeError)


# Real requests ---------------------------------------------------------------------


def sender(sdk: CustomerSDK, chat_id: str) -> Callable[[object], Observable[Message]]:
    """A mapper: each item sent to the chat as a message of its text."""

    def send(item: object) -> Observable[Message]:
        return sdk.send_event(chat_id, Message(text=f"{item}"))

    return send


async def test_flat_map_sends_every_message_and_emits_every_event(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    chat = await sdk.start_chat()
    texts = [f"message {n}" for n in range(40)]
    before = sandbox.count("send_event")
    events = await rx.from_iterable(texts).pipe(
        flat_map(sender(sdk, chat.id)), ops.to_list()
    )
    assert sorted(event.text for event in events) == sorted(texts)
    assert len({event.id for event in events}) == 40
    assert sandbox.count("send_event") == before + 40


async def test_flat_map_with_plain_dicts_as_the_js_docs_call(
    sdk: CustomerSDK,
) -> None:
    chat = await sdk.start_chat()

    def send(text: str) -> Observable[Event]:
        return sdk.send_event(chat.id, {"type": "message", "text": text})

    events = await rx.from_iterable(["one", "two", "three"]).pipe(
        flat_map(send), ops.to_list()
    )
    assert [type(event) for event in events] == [Message] * 3
    assert sorted(cast(Message, event).text for event in events) == [
        "one",
        "three",
        "two",
    ]


async def test_bad_input_fails_the_pipeline_before_anything_is_sent(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    chat = await sdk.start_chat()
    before = sandbox.count("send_event")
    with pytest.raises(InvalidArgumentError, match="16 KB"):
        await rx.from_iterable(["x" * 20_000, "fine"]).pipe(  # the first: too long
            flat_map(sender(sdk, chat.id)), ops.to_list()
        )
    await asyncio.sleep(0.1)
    assert sandbox.count("send_event") == before
    assert sdk._engine.in_flight == 0


async def test_disposing_abandons_every_request_still_waiting(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    chat = await sdk.start_chat()
    sandbox.delay_replies(1.0, action="send_event")
    got: list[Any] = []
    subscription = (
        rx.from_iterable(range(25))
        .pipe(flat_map(sender(sdk, chat.id)))
        .subscribe(got.append, got.append, lambda: got.append("completed"))
    )
    await until(lambda: sdk._engine.in_flight == 10)  # 10 on the socket, 15 queued
    subscription.dispose()
    await asyncio.sleep(1.3)  # the replies came, and were dropped
    assert got == []
    assert sdk._engine.in_flight == 0
    sandbox.delay_replies(0)
    assert (await sdk.send_event(chat.id, Message(text="after"))).text == "after"


async def test_taking_the_first_replies_sends_no_more(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    chat = await sdk.start_chat()
    before = sandbox.count("send_event")
    first = await rx.from_iterable(range(25)).pipe(
        flat_map(sender(sdk, chat.id)), ops.take(5), ops.to_list()
    )
    assert len(first) == 5
    await until(lambda: sdk._engine.in_flight == 0)
    # 10 on the socket at first, one more per reply until the fifth: the queued
    # rest were disposed unsent.
    assert sandbox.count("send_event") - before <= 15
