"""Chat history against the sandbox, over real sockets, counting the requests it got.

Big chats are seeded straight into the sandbox's store (no send_event round trips);
the walk itself always goes over the WebSocket.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from reactivex import operators as ops
from reactivex.subject import Subject

import rxlivechat
from rxlivechat import (
    CustomerSDK,
    HistoryPage,
    InternalServerError,
    InvalidArgumentError,
    Message,
    SDKClosedError,
)
from rxlivechat.events import NewEvent, UserTyping
from rxlivechat.history import EVENTS_PER_PAGE, then_live
from rxlivechat.protocol.methods import ListChats, ListThreads
from rxlivechat.protocol.models import Event
from rxlivechat.sandbox import RecordedRequest, Sandbox
from rxlivechat.sandbox.store import ChatRecord

from .engine import hostile
from .engine.hostile import Connection, HostileServer, Request
from .helpers import connect, until


def seed(
    sandbox: Sandbox, sdk: CustomerSDK, *, threads: int, events: int, **options: Any
) -> ChatRecord:
    """A chat of the SDK's customer with ``threads`` threads of ``events`` messages."""
    assert sdk.customer_id is not None
    chat_id = sandbox.seed_chat(
        sdk.customer_id, threads=threads, events_per_thread=events, **options
    )
    return sandbox.store.chats[chat_id]


def expected_pages(chat: ChatRecord, events_per_page: int) -> list[list[str]]:
    """The event ids of each page, newest page first, oldest event first in each.

    A page is the fewest newest threads reaching ``events_per_page`` events
    (``min_events_count``, docs/protocol.md §2.2), with at least one thread.
    """
    pages: list[list[str]] = []
    end = len(chat.threads)
    while end > 0:
        start, count = end, 0
        while start > 0 and (start == end or count < events_per_page):
            start -= 1
            count += len(chat.threads[start].events)
        pages.append([str(e.id) for t in chat.threads[start:end] for e in t.events])
        end = start
    return pages


def ids(events: list[Event]) -> list[str]:
    return [str(e.id) for e in events]


def flat(pages: list[list[str]]) -> list[str]:
    return [event_id for page in pages for event_id in page]


def list_threads_sent(sandbox: Sandbox) -> list[ListThreads]:
    return [r.payload for r in sandbox.requests.of("list_threads")]


# A complete walk ---------------------------------------------------------------------


async def test_a_5000_event_chat_is_walked_completely_once_and_in_order(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    chat = seed(sandbox, sdk, threads=200, events=25)
    history = sdk.get_chat_history(chat.id, events_per_page=100)
    pages = expected_pages(chat, 100)
    assert len(pages) == 50  # 4 threads of 25 events per page

    events = await history.pipe(ops.to_list())

    assert ids(events) == flat(pages)
    assert len(set(ids(events))) == 5000
    assert all(isinstance(e, Message) for e in events)
    assert all(str(e.id).startswith(f"{e.thread_id}_") for e in events)
    assert sandbox.count("list_threads") == 50
    first, *later = list_threads_sent(sandbox)
    assert (first.sort_order, first.min_events_count, first.page_id) == (
        "desc",
        100,
        None,
    )
    # docs/protocol.md §5: later pages carry nothing but the page id (and the chat id).
    assert all(
        r.page_id and (r.sort_order, r.limit, r.min_events_count) == (None,) * 3
        for r in later
    )


async def test_async_for_walks_page_by_page_with_the_default_page_size(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    chat = seed(sandbox, sdk, threads=200, events=25)
    pages: list[HistoryPage] = []
    async for page in sdk.get_chat_history(chat.id):
        pages.append(page)

    assert [ids(p.value) for p in pages] == expected_pages(chat, 25)
    assert [p.done for p in pages] == [False] * 199 + [True]
    assert sandbox.count("list_threads") == 200
    # The page's threads (oldest first) hold the very events of ``value``.
    for page in pages:
        assert [e for t in page.threads for e in t.events or ()] == page.value
        assert [t.id for t in page.threads] == [e.thread_id for e in page.value[:1]]


# Only as far as the subscriber takes -------------------------------------------------


@pytest.mark.parametrize(
    ("take", "requests"), [(1, 1), (20, 1), (25, 1), (26, 2), (60, 3)]
)
async def test_take_fetches_only_the_pages_it_needs(
    sdk: CustomerSDK, sandbox: Sandbox, take: int, requests: int
) -> None:
    chat = seed(sandbox, sdk, threads=200, events=25)
    history = sdk.get_chat_history(chat.id)  # 25 events (one thread) per page

    events = await history.pipe(ops.take(take), ops.to_list())

    assert ids(events) == flat(expected_pages(chat, 25))[:take]
    assert sandbox.count("list_threads") == requests
    await asyncio.sleep(0.05)  # nothing more goes out later either
    assert sandbox.count("list_threads") == requests


async def test_taking_pages_fetches_only_those_pages(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    chat = seed(sandbox, sdk, threads=200, events=25)
    history = sdk.get_chat_history(chat.id)

    pages = await history.by_page().pipe(ops.take(2), ops.to_list())

    assert [ids(p.value) for p in pages] == expected_pages(chat, 25)[:2]
    assert sandbox.count("list_threads") == 2


async def test_disposing_mid_walk_sends_no_further_request_and_leaves_nothing(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    chat = seed(sandbox, sdk, threads=200, events=25)
    history = sdk.get_chat_history(chat.id)
    tasks_before = set(sdk._calls._tasks)
    sandbox.delay_replies(0.02, action="list_threads")
    got: list[Event] = []
    ended: list[Any] = []
    subscription = history.subscribe(got.append, ended.append, lambda: ended.append(1))
    await until(lambda: sandbox.count("list_threads") >= 3)

    subscription.dispose()  # a request is in flight right now

    sent = sandbox.count("list_threads")
    await asyncio.sleep(0.2)
    assert sandbox.count("list_threads") == sent
    assert 0 < len(got) < 5000
    assert ended == []
    assert sdk._engine.in_flight == 0
    await until(lambda: set(sdk._calls._tasks) <= tasks_before)


async def test_disposing_before_the_first_request_sends_nothing(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    chat = seed(sandbox, sdk, threads=3, events=5)
    subscription = sdk.get_chat_history(chat.id).subscribe()
    subscription.dispose()
    await asyncio.sleep(0.05)
    assert sandbox.count("list_threads") == 0


async def test_subscriptions_walk_independently(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    chat = seed(sandbox, sdk, threads=8, events=5)
    history = sdk.get_chat_history(chat.id, events_per_page=5)

    whole, again, first_three = await asyncio.gather(
        history.pipe(ops.to_list()),
        history.pipe(ops.to_list()),
        history.pipe(ops.take(3), ops.to_list()),
    )

    assert ids(whole) == ids(again) == flat(expected_pages(chat, 5))
    assert ids(first_three) == ids(whole)[:3]
    assert sandbox.count("list_threads") == 8 + 8 + 1


# The seed's next() -------------------------------------------------------------------


async def test_concurrent_next_calls_are_queued_and_answered_in_order(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    chat = seed(sandbox, sdk, threads=3, events=25)
    history = sdk.get_chat_history(chat.id)
    sandbox.delay_replies(0.01, action="list_threads")  # let the calls pile up

    pages = await asyncio.gather(*(history.next() for _ in range(5)))

    assert [ids(p.value) for p in pages[:3]] == expected_pages(chat, 25)
    assert [p.done for p in pages] == [False, False, True, True, True]
    assert pages[3] == pages[4] == HistoryPage(done=True)
    assert sandbox.count("list_threads") == 3
    # One cursor: each request follows the previous reply's next_page_id.
    first, *later = list_threads_sent(sandbox)
    assert first.page_id is None
    assert all(r.page_id for r in later)
    assert len({r.page_id for r in later}) == 2

    assert await history.next() == HistoryPage(done=True)
    assert sandbox.count("list_threads") == 3  # done: answered without a request


async def test_next_is_independent_of_subscriptions_and_async_for(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    chat = seed(sandbox, sdk, threads=3, events=25)
    history = sdk.get_chat_history(chat.id)
    expected = expected_pages(chat, 25)

    first = await history.next()
    assert ids(await history.pipe(ops.to_list())) == flat(expected)
    assert [ids(p.value) async for p in history] == expected
    second = await history.next()

    assert [ids(first.value), ids(second.value)] == expected[:2]


async def test_next_after_a_server_error_retries_the_same_page(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    chat = seed(sandbox, sdk, threads=3, events=25)
    history = sdk.get_chat_history(chat.id)
    expected = expected_pages(chat, 25)
    assert ids((await history.next()).value) == expected[0]
    sandbox.fail_next("list_threads", "internal")
    sandbox.delay_replies(0.01, action="list_threads")

    outcomes = await asyncio.gather(
        *(history.next() for _ in range(3)), return_exceptions=True
    )

    # As in the JS SDK v4: the queued calls fail with the failed request's error.
    assert isinstance(outcomes[0], InternalServerError)
    assert outcomes[1] is outcomes[0]
    assert outcomes[2] is outcomes[0]
    assert sandbox.count("list_threads") == 2

    second = await history.next()  # retryable: the cursor did not move
    assert ids(second.value) == expected[1]
    failed, retried = list_threads_sent(sandbox)[-2:]
    assert retried.page_id == failed.page_id
    third = await history.next()
    assert (ids(third.value), third.done) == (expected[2], True)


# Edges -------------------------------------------------------------------------------


async def test_an_empty_chat(sdk: CustomerSDK, sandbox: Sandbox) -> None:
    chat = seed(sandbox, sdk, threads=0, events=0)
    history = sdk.get_chat_history(chat.id)

    assert await history.pipe(ops.to_list()) == []
    assert await history.by_page().pipe(ops.to_list()) == []
    assert [page async for page in history] == []
    assert sandbox.count("list_threads") == 3

    assert await history.next() == HistoryPage(done=True, value=[], threads=[])
    assert await history.next() == HistoryPage(done=True)
    assert sandbox.count("list_threads") == 4


async def test_threads_added_during_the_walk_do_not_disturb_it(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    chat = seed(sandbox, sdk, threads=10, events=5)
    expected = expected_pages(chat, 5)
    history = sdk.get_chat_history(chat.id, events_per_page=5)
    store = sandbox.store

    walked: list[list[str]] = []
    async for page in history:
        walked.append(ids(page.value))
        if len(walked) in (1, 4):  # new threads at the newest end, mid-walk
            for _ in range(2):
                thread = store.new_thread(chat, active=False)
                for n in range(3):
                    store.add_event(
                        thread, Message(text=f"new {n}"), author_id=sdk.customer_id
                    )

    assert walked == expected
    assert sandbox.count("list_threads") == 10
    # A new walk starts from the new newest end.
    assert ids(await history.pipe(ops.to_list())) == flat(expected_pages(chat, 5))
    assert len(chat.threads) == 14


async def test_a_server_error_mid_walk_errors_the_observable(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    chat = seed(sandbox, sdk, threads=10, events=5)
    history = sdk.get_chat_history(chat.id, events_per_page=5)
    pages: list[HistoryPage] = []
    failed: asyncio.Future[Exception] = asyncio.get_running_loop().create_future()

    def on_page(page: HistoryPage) -> None:
        pages.append(page)
        if len(pages) == 2:
            sandbox.fail_next("list_threads", "internal")  # the 3rd request fails

    history.by_page().subscribe(on_page, failed.set_result)
    error = await asyncio.wait_for(failed, 5)

    assert isinstance(error, InternalServerError)
    assert error.action == "list_threads"
    assert len(pages) == 2
    await asyncio.sleep(0.05)
    assert sandbox.count("list_threads") == 3

    sandbox.fail_next("list_threads", "internal")
    with pytest.raises(InternalServerError):
        await history


async def test_a_raising_subscriber_gets_on_error_and_the_walk_stops(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    chat = seed(sandbox, sdk, threads=10, events=5)
    failed: asyncio.Future[Exception] = asyncio.get_running_loop().create_future()

    def boom(event: Event) -> None:
        raise ValueError("a bug in the subscriber")

    sdk.get_chat_history(chat.id).subscribe(boom, failed.set_result)

    assert isinstance(await asyncio.wait_for(failed, 5), ValueError)
    await asyncio.sleep(0.05)
    assert sandbox.count("list_threads") == 1


async def test_destroying_the_sdk_mid_walk_errors_instead_of_hanging(
    sandbox: Sandbox,
) -> None:
    sdk = connect(sandbox)
    await sdk.wait_connected(timeout=5)
    chat = seed(sandbox, sdk, threads=10, events=5)
    history = sdk.get_chat_history(chat.id)
    sandbox.delay_replies(60.0, action="list_threads")  # still pending at destroy()
    failed: asyncio.Future[Exception] = asyncio.get_running_loop().create_future()
    history.subscribe(on_error=failed.set_result)
    pending_next = asyncio.ensure_future(history.next())
    await until(lambda: sandbox.count("list_threads") == 2)
    sandbox.delay_replies(0, action="list_threads")
    pages = aiter(sdk.get_chat_history(chat.id))
    assert (await anext(pages)).value

    await sdk.destroy()

    assert isinstance(await asyncio.wait_for(failed, 5), SDKClosedError)
    with pytest.raises(SDKClosedError):
        await pending_next
    with pytest.raises(SDKClosedError):
        await history.next()
    with pytest.raises(SDKClosedError):
        await history
    with pytest.raises(SDKClosedError):
        history.__aiter__()
    with pytest.raises(SDKClosedError):
        await anext(pages)  # a loop begun before destroy()


async def test_bad_page_sizes_are_refused() -> None:
    sdk = CustomerSDK(organization_id="o", client_id="c")  # never connected
    bad: Any
    for bad in (0, 101, 2.5, True, "25"):
        with pytest.raises(InvalidArgumentError):
            sdk.get_chat_history("CHAT", events_per_page=bad)
    with pytest.raises(InvalidArgumentError):
        sdk.get_chat_history("CHAT").then_live(pages=0)


# History, then live ------------------------------------------------------------------


def message(event_id: str) -> Message:
    return Message(text=event_id, id=event_id, thread_id="T")


def new_event(event_id: str, chat: str = "C") -> tuple[str, NewEvent]:
    return ("new_event", NewEvent(chat=chat, thread="T", event=message(event_id)))


def test_then_live_holds_live_events_until_the_history_ends_and_drops_repeats() -> None:
    history: Subject[Event] = Subject()
    live: Subject[tuple[str, Any]] = Subject()
    out: list[str] = []
    completed: list[bool] = []
    history.pipe(then_live(live, "C")).subscribe(
        lambda e: out.append(str(e.id)), on_completed=lambda: completed.append(True)
    )

    history.on_next(message("a"))
    live.on_next(new_event("c"))  # arrives before the history reaches it
    live.on_next(new_event("z", chat="OTHER"))  # another chat
    live.on_next(("user_is_typing", UserTyping(chat="C", user="u")))
    history.on_next(message("b"))
    history.on_next(message("c"))
    live.on_next(new_event("x"))  # newer than anything in the history
    assert out == ["a", "b", "c"]

    history.on_completed()
    assert out == ["a", "b", "c", "x"]
    live.on_next(new_event("y"))
    live.on_next(new_event("a"))  # already shown
    assert out == ["a", "b", "c", "x", "y"]
    assert completed == []

    live.on_completed()  # the SDK was destroyed
    assert completed == [True]


def test_then_live_errors_with_the_history_and_lets_go_of_both_streams() -> None:
    history: Subject[Event] = Subject()
    live: Subject[tuple[str, Any]] = Subject()
    errors: list[Exception] = []
    history.pipe(then_live(live, "C")).subscribe(on_error=errors.append)
    assert live.observers
    assert history.observers

    history.on_error(InternalServerError("boom"))

    assert [type(e) for e in errors] == [InternalServerError]
    assert not live.observers
    assert not history.observers

    history, live = Subject(), Subject()
    subscription = history.pipe(then_live(live, "C")).subscribe()
    subscription.dispose()
    assert not live.observers
    assert not history.observers


async def test_then_live_against_the_sandbox_shows_every_event_once(
    sdk: CustomerSDK, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = sandbox.agent("Jane")
    chat = seed(sandbox, sdk, threads=4, events=5, agent=agent, active=True)
    elsewhere = seed(sandbox, sdk, threads=1, events=1, agent=agent, active=True)

    # The agent writes at exact points of the walk, with no timing involved: the
    # sandbox logs a request before it reads the store to answer it.
    sent: dict[int, Event] = {}
    record = sandbox.requests.append

    def agent_writes(chat_id: str, text: str) -> Event:
        stored, pushes = sandbox.handlers.agent_send_event(
            agent.id, chat_id, Message(text=text)
        )
        sandbox.spawn(sandbox.deliver(pushes))
        return stored

    def on_request(request: RecordedRequest) -> None:
        record(request)
        number = sandbox.count("list_threads")
        if request.action != "list_threads" or number > 2:
            return
        # 1: page 1 is not read yet: the event is in it *and* pushed live.
        # 2: page 1 was read: the event is in no page, only pushed live.
        sent[number] = agent_writes(chat.id, f"at request {number}")
        if number == 2:
            agent_writes(elsewhere.id, "in another chat")

    monkeypatch.setattr(sandbox.requests, "append", on_request)
    out: list[Event] = []
    history = sdk.get_chat_history(chat.id, events_per_page=5)
    subscription = history.then_live().subscribe(out.append)
    await until(lambda: 2 in sent and sent[2].id in ids(out))  # held until the end
    after = await agent.send_message(chat.id, "after the walk")
    await until(lambda: after.id in ids(out))
    subscription.dispose()

    newest, *older = reversed(chat.threads)  # older: newest first, as walked
    first_page = ids(newest.events)[:-2]  # as it was read: up to the first send
    assert first_page[-1] == sent[1].id
    assert ids(out) == [
        *first_page,
        *flat([ids(t.events) for t in older]),
        sent[2].id,
        after.id,
    ]
    assert sandbox.count("list_threads") == 4


async def test_then_live_with_pages_shows_the_newest_page_then_live(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    agent = sandbox.agent("Jane")
    chat = seed(sandbox, sdk, threads=4, events=5, agent=agent, active=True)
    out: list[Event] = []
    subscription = sdk.get_chat_history(chat.id, events_per_page=5).then_live(pages=1)
    disposable = subscription.subscribe(out.append)
    await until(lambda: len(out) == 5)
    live = await agent.send_message(chat.id, "live")
    await until(lambda: len(out) == 6)
    disposable.dispose()

    assert ids(out) == [*expected_pages(chat, 5)[0][:5], str(live.id)]
    assert sandbox.count("list_threads") == 1


# v1 offset paging over cursors -------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "limit", "requests", "first_limit"),
    [(0, 10, 1, 10), (15, 10, 1, 25), (20, 10, 2, 25), (50, 10, 3, 25), (70, 5, 3, 25)],
)
async def test_get_chats_summary_walks_only_as_far_as_the_offset_needs(
    sdk: CustomerSDK,
    sandbox: Sandbox,
    offset: int,
    limit: int,
    requests: int,
    first_limit: int,
) -> None:
    for _ in range(60):
        seed(sandbox, sdk, threads=1, events=1)
    assert sdk.customer_id is not None
    newest_first = [
        c.id for c in reversed(sandbox.store.customer_chats(sdk.customer_id))
    ]
    before = sandbox.count("list_chats")

    summary = await sdk.get_chats_summary(offset, limit)

    assert [c.id for c in summary.chats_summary] == newest_first[offset:][:limit]
    assert summary.total_chats == 60
    assert sandbox.count("list_chats") - before == requests
    sent: ListChats = sandbox.requests.of("list_chats")[before].payload
    assert sent.limit == first_limit


@pytest.mark.parametrize(
    ("offset", "limit", "requests"),
    [(0, 25, 1), (150, 25, 2), (240, 20, 3), (300, 10, 1), (0, 1000, 3)],
)
async def test_get_chat_threads_summary_walks_only_as_far_as_the_offset_needs(
    sdk: CustomerSDK, sandbox: Sandbox, offset: int, limit: int, requests: int
) -> None:
    chat = seed(sandbox, sdk, threads=250, events=2)

    summary = await sdk.get_chat_threads_summary(chat.id, offset, limit)

    oldest_first = [t.id for t in chat.threads]
    assert [t.id for t in summary.threads_summary] == oldest_first[offset:][:limit]
    assert all(t.total_events == 2 for t in summary.threads_summary)
    orders = [t.order for t in summary.threads_summary]
    assert orders == sorted(orders)
    assert summary.total_threads == 250
    assert sandbox.count("list_threads") == requests
    assert list_threads_sent(sandbox)[0].limit == min(offset + limit, 100)


# Pages sized by threads ------------------------------------------------------------


async def test_500_threads_of_100_events_take_5_requests_at_100_threads_a_page(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    chat = seed(sandbox, sdk, threads=500, events=100)
    assert len(expected_pages(chat, 100)) == 500  # one request a thread by events
    history = sdk.get_chat_history(chat.id, threads_per_page=100)

    pages = [page async for page in history]

    assert sandbox.count("list_threads") == 5
    assert [len(p.threads) for p in pages] == [100] * 5
    assert [p.done for p in pages] == [False] * 4 + [True]
    newest_first = [t.id for t in reversed(chat.threads)]
    assert [t.id for p in pages for t in reversed(p.threads)] == newest_first
    events = [e for p in reversed(pages) for e in p.value]
    assert ids(events) == [str(e.id) for t in chat.threads for e in t.events]
    first, *later = list_threads_sent(sandbox)
    assert (first.sort_order, first.limit, first.min_events_count) == (
        "desc",
        100,
        None,
    )
    assert all(r.page_id and r.limit is None for r in later)
    assert repr(history) == f"<ChatHistory {chat.id} threads_per_page=100>"


async def test_a_page_size_applies_to_every_way_of_reading(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    chat = seed(sandbox, sdk, threads=7, events=2)
    history = sdk.get_chat_history(chat.id, threads_per_page=3)

    events = await history.pipe(ops.to_list())  # the observable
    assert sandbox.count("list_threads") == 3  # 3 + 3 + 1 threads
    assert len(events) == 14
    pages = await history.by_page().pipe(ops.to_list())
    assert [len(p.threads) for p in pages] == [3, 3, 1]
    assert [len((await history.next()).threads) for _ in range(3)] == [3, 3, 1]
    assert sandbox.count("list_threads") == 9


async def test_with_page_size_walks_the_same_chat_with_other_pages(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    chat = seed(sandbox, sdk, threads=6, events=5)
    by_events = sdk.get_chat_history(chat.id, events_per_page=5)
    by_threads = by_events.with_page_size(threads_per_page=6)

    one_page = ids(await by_threads.pipe(ops.to_list()))
    six_pages = ids(await by_events.pipe(ops.to_list()))
    assert one_page == [str(e.id) for t in chat.threads for e in t.events]
    assert sorted(one_page) == sorted(six_pages)  # the same events, other pages
    assert sandbox.count("list_threads") == 1 + 6
    assert by_threads.events_per_page is None
    assert by_events.threads_per_page is None


async def test_bad_thread_page_sizes_are_refused() -> None:
    sdk = CustomerSDK(organization_id="o", client_id="c")  # never connected
    bad: Any
    for bad in (0, 101, 2.5, True, "25"):
        with pytest.raises(InvalidArgumentError, match="threads_per_page"):
            sdk.get_chat_history("CHAT", threads_per_page=bad)
    with pytest.raises(InvalidArgumentError, match="not both"):
        sdk.get_chat_history("CHAT", events_per_page=10, threads_per_page=10)
    assert sdk.get_chat_history("CHAT").events_per_page == EVENTS_PER_PAGE


# Decoding leniency ----------------------------------------------------------------


async def test_a_page_with_a_lone_surrogate_is_read_not_dropped() -> None:
    async def list_threads(connection: Connection, request: Request) -> Any:
        return {
            "threads": [
                hostile.thread(
                    "T1", hostile.message("T1_1", "cut \ud83d", "2026-01-01T00:00:01Z")
                )
            ],
            "found_threads": 1,
        }

    async with HostileServer() as server:
        server.handlers["list_threads"] = list_threads  # json.dumps: "\ud83d"
        sdk = rxlivechat.init(**server.options())
        try:
            page = await sdk.get_chat_history("CHAT").next()
        finally:
            await sdk.destroy()
    assert [e.text for e in page.value if isinstance(e, Message)] == ["cut \ufffd"]
    assert page.done
