"""Cursor pagination (docs/protocol.md §5): pure cursors, then 1,000 events on RTM."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from rxlivechat.exceptions import ValidationError
from rxlivechat.protocol import methods as m
from rxlivechat.protocol.frames import ErrorResponse
from rxlivechat.protocol.models import Custom, Message
from rxlivechat.sandbox import Sandbox
from rxlivechat.sandbox.pagination import decode_page_id, paginate

from .conftest import Connect

ITEMS = [f"{i:03d}" for i in range(10)]


def page(**options: Any) -> Any:
    options.setdefault("sort_order", "desc")
    return paginate(ITEMS, ITEMS, kind="k", scope="s", **options)


def cursor(page_id: str) -> Any:
    return decode_page_id(page_id, kind="k", scope="s")


def test_first_page_and_neighbours() -> None:
    first = page(limit=3)
    assert first.items == ["009", "008", "007"]
    assert first.previous_page_id is None
    assert first.next_page_id is not None
    second = page(cursor=cursor(first.next_page_id))
    assert second.items == ["006", "005", "004"]
    assert second.previous_page_id is not None
    back = page(cursor=cursor(second.previous_page_id))
    assert back.items == first.items
    assert back.previous_page_id is None


def test_ascending_and_last_page() -> None:
    first = page(limit=4, sort_order="asc")
    assert first.items == ["000", "001", "002", "003"]
    ids = [first]
    while ids[-1].next_page_id:
        ids.append(page(cursor=cursor(ids[-1].next_page_id)))
    assert [p.items for p in ids][-1] == ["008", "009"]
    assert ids[-1].next_page_id is None


def test_min_count_takes_items_until_the_weight_is_reached() -> None:
    result = page(min_count=5, weight=lambda x: 2)
    assert result.items == ["009", "008", "007"]  # 6 >= 5


def test_anchors_survive_new_items() -> None:
    items = list(ITEMS)
    first = paginate(items, items, kind="k", scope="s", sort_order="desc", limit=3)
    items.append("010")  # a new newest item
    assert first.next_page_id is not None
    second = paginate(
        items,
        items,
        kind="k",
        scope="s",
        sort_order="desc",
        cursor=cursor(first.next_page_id),
    )
    assert second.items == ["006", "005", "004"]


def test_page_ids_are_opaque_base64_and_checked() -> None:
    first = page(limit=3)
    assert first.next_page_id is not None
    base64.urlsafe_b64decode(first.next_page_id + "==")
    for bad in ("!!!", "bm9wZQ", first.next_page_id[:-4]):
        with pytest.raises(ValidationError):
            cursor(bad)
    with pytest.raises(ValidationError):
        decode_page_id(first.next_page_id, kind="k", scope="another chat")


def test_empty_list() -> None:
    empty: Any = paginate([], [], kind="k", scope="s", sort_order="desc", limit=3)
    assert (empty.items, empty.next_page_id, empty.previous_page_id) == ([], None, None)


# Over RTM -------------------------------------------------------------------------


async def test_walk_1000_events_forward_and_backward(
    sandbox: Sandbox, connect: Connect
) -> None:
    token = await sandbox.create_customer_token()
    chat_id = sandbox.seed_chat(token.entity_id, threads=40, events_per_thread=25)
    rtm = await connect(sandbox, token.access_token)
    everything = [e.id for t in sandbox.store.chats[chat_id].threads for e in t.events]
    assert len(everything) == 1000

    pages = [await rtm.call(m.ListThreads(chat_id=chat_id, min_events_count=100))]
    assert pages[0].previous_page_id is None
    assert pages[0].found_threads == 40
    while pages[-1].next_page_id:
        pages.append(
            await rtm.call(
                m.ListThreads(chat_id=chat_id, page_id=pages[-1].next_page_id)
            )
        )
    assert len(pages) == 10
    assert all(len(p.threads) == 4 for p in pages)  # 4 threads = 100 events each
    walked = [e.id for p in pages for t in p.threads for e in reversed(t.events)]
    assert walked == list(reversed(everything))  # newest first, nothing twice

    back = [pages[-1]]
    while back[-1].previous_page_id:
        back.append(
            await rtm.call(
                m.ListThreads(chat_id=chat_id, page_id=back[-1].previous_page_id)
            )
        )
    assert [[t.id for t in p.threads] for p in reversed(back)] == [
        [t.id for t in p.threads] for p in pages
    ]
    assert sandbox.count("list_threads") == 10 + 9


async def test_walk_ascending_with_limit(sandbox: Sandbox, connect: Connect) -> None:
    token = await sandbox.create_customer_token()
    chat_id = sandbox.seed_chat(token.entity_id, threads=7, events_per_thread=1)
    rtm = await connect(sandbox, token.access_token)
    first = await rtm.call(m.ListThreads(chat_id=chat_id, sort_order="asc", limit=3))
    second = await rtm.call(m.ListThreads(chat_id=chat_id, page_id=first.next_page_id))
    third = await rtm.call(m.ListThreads(chat_id=chat_id, page_id=second.next_page_id))
    ids = [t.id for p in (first, second, third) for t in p.threads]
    assert ids == [t.id for t in sandbox.store.chats[chat_id].threads]
    assert third.next_page_id is None
    default = await rtm.call(m.ListThreads(chat_id=chat_id))
    assert len(default.threads) == 3  # limit 3 by default, newest first
    assert default.threads[0].id == ids[-1]


@pytest.mark.parametrize(
    "request_",
    [
        m.ListThreads(chat_id="", limit=0),
        m.ListThreads(chat_id="", limit=101),
        m.ListThreads(chat_id="", min_events_count=0),
        m.ListThreads(chat_id="", min_events_count=101),
        m.ListThreads(chat_id="", limit=5, min_events_count=5),
        m.ListThreads(chat_id="", sort_order="sideways"),
        m.ListThreads(chat_id="", page_id="nonsense"),
    ],
    ids=["limit0", "limit101", "min0", "min101", "both", "sort", "page_id"],
)
async def test_list_threads_limits(
    sandbox: Sandbox, connect: Connect, request_: m.ListThreads
) -> None:
    token = await sandbox.create_customer_token()
    chat_id = sandbox.seed_chat(token.entity_id, threads=5)
    rtm = await connect(sandbox, token.access_token)
    request_.chat_id = chat_id
    error = await rtm.error(request_)
    assert isinstance(error, ErrorResponse)
    assert error.error.type == "validation"
    # The edges are allowed.
    await rtm.call(m.ListThreads(chat_id=chat_id, limit=100))
    await rtm.call(m.ListThreads(chat_id=chat_id, min_events_count=100))


async def test_later_pages_take_only_page_id(
    sandbox: Sandbox, connect: Connect
) -> None:
    token = await sandbox.create_customer_token()
    chat_id = sandbox.seed_chat(token.entity_id, threads=5)
    rtm = await connect(sandbox, token.access_token)
    first = await rtm.call(m.ListThreads(chat_id=chat_id, limit=2))
    for extra in ({"limit": 2}, {"sort_order": "desc"}, {"min_events_count": 2}):
        error = await rtm.error(
            m.ListThreads(chat_id=chat_id, page_id=first.next_page_id, **extra)
        )
        assert error.error.type == "validation"
    other = sandbox.seed_chat(token.entity_id, threads=1)
    error = await rtm.error(m.ListThreads(chat_id=other, page_id=first.next_page_id))
    assert error.error.type == "validation"


async def test_list_chats_limits_and_pages(sandbox: Sandbox, connect: Connect) -> None:
    token = await sandbox.create_customer_token()
    chats = [sandbox.seed_chat(token.entity_id) for _ in range(30)]
    rtm = await connect(sandbox, token.access_token)
    first = await rtm.call(m.ListChats())
    assert len(first.chats_summary) == 10  # default
    assert first.total_chats == 30
    assert [c.id for c in first.chats_summary] == list(reversed(chats))[:10]
    biggest = await rtm.call(m.ListChats(limit=25))
    rest = await rtm.call(m.ListChats(page_id=biggest.next_page_id))
    assert len(rest.chats_summary) == 5
    assert rest.next_page_id is None
    back = await rtm.call(m.ListChats(page_id=rest.previous_page_id))
    assert [c.id for c in back.chats_summary] == [c.id for c in biggest.chats_summary]
    for bad in (m.ListChats(limit=0), m.ListChats(limit=26)):
        assert (await rtm.error(bad)).error.type == "validation"
    mixed = m.ListChats(page_id=first.next_page_id, limit=3)
    assert (await rtm.error(mixed)).error.type == "validation"


async def test_walks_stay_exact_while_threads_and_events_are_added(
    sandbox: Sandbox, connect: Connect
) -> None:
    """Pages come from the chat's key index: order, no gaps, no duplicates.

    Threads and events are added between pages; a newest-first walk sees
    exactly the threads there were when it started, an oldest-first walk
    every thread, the new ones last.
    """
    token = await sandbox.create_customer_token()
    chat_id = sandbox.seed_chat(token.entity_id, threads=300, events_per_thread=1)
    chat = sandbox.store.chats[chat_id]
    rtm = await connect(sandbox, token.access_token)

    def grow() -> None:
        thread = sandbox.store.new_thread(chat, active=False)
        sandbox.store.add_event(thread, Message(text="new"), author_id=None)
        sandbox.store.add_event(chat.threads[0], Message(text="late"), author_id=None)

    for order in ("desc", "asc"):
        before = [t.id for t in chat.threads]
        page = await rtm.call(m.ListThreads(chat_id=chat_id, sort_order=order, limit=7))
        walked = [t.id for t in page.threads]
        while page.next_page_id:
            grow()
            page = await rtm.call(
                m.ListThreads(chat_id=chat_id, page_id=page.next_page_id)
            )
            walked += [t.id for t in page.threads]
            assert page.found_threads == len(chat.threads)
        expected = (
            list(reversed(before)) if order == "desc" else [t.id for t in chat.threads]
        )
        assert walked == expected, order
        assert len(set(walked)) == len(walked)


async def test_list_chats_finds_every_types_last_event_in_a_long_chat(
    sandbox: Sandbox, connect: Connect
) -> None:
    """Its walk stops once each type the chat had is found, never before."""
    token = await sandbox.create_customer_token()
    chat_id = sandbox.seed_chat(token.entity_id, threads=2000, events_per_thread=1)
    chat = sandbox.store.chats[chat_id]
    sandbox.store.add_event(chat.threads[0], Custom(content={"a": 1}), author_id=None)
    rtm = await connect(sandbox, token.access_token)
    (summary,) = (await rtm.call(m.ListChats())).chats_summary
    last = summary.last_event_per_type
    assert sorted(last) == ["custom", "message"]
    assert last["custom"].thread_id == chat.threads[0].id
    assert last["message"].thread_id == chat.threads[-1].id
