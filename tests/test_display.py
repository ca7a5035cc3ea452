"""Display: readable ``str()`` for terminals, ``_repr_html_`` for Jupyter."""

from __future__ import annotations

import datetime
import io
import subprocess
import sys
from typing import Any

import pytest

import rxlivechat
from rxlivechat import (
    Agent,
    Chat,
    ChatsSummary,
    ChatsSummaryItem,
    ChatThread,
    Custom,
    Customer,
    File,
    FilledForm,
    HistoryPage,
    Message,
    RichMessage,
    SystemMessage,
    Thread,
    ThreadsSummary,
    ThreadSummaryItem,
    Token,
    UnknownEvent,
    UserTyping,
)
from rxlivechat.display import MAX_LINES, Transcript, event_text, html, text
from rxlivechat.events import Connected, NewEvent
from rxlivechat.protocol.methods import GetUrlInfoResult
from rxlivechat.protocol.models import RichMessageElement
from rxlivechat.sandbox import Sandbox

from .test_layers import _isolated

T0 = datetime.datetime(2025, 5, 1, 12, 3, 4, 123456, tzinfo=datetime.UTC)
CUSTOMER = "0b4e2a1c-5d6f-4a8b-9c0d-1e2f3a4b5c6d"
AGENT = "3c9f41d27a5b4e6f8a9b0c1d2e3f4a5b"


def at(seconds: int) -> datetime.datetime:
    return T0 + datetime.timedelta(seconds=seconds)


def message(text: str, author: str = CUSTOMER, seconds: int = 0) -> Message:
    return Message(
        text=text, id=f"T1_{seconds}", author_id=author, created_at=at(seconds)
    )


def thread(*events: Any) -> Thread:
    return Thread(
        id="T1", created_at=T0, active=True, user_ids=[CUSTOMER], events=list(events)
    )


# Events -----------------------------------------------------------------------------


def test_an_event_prints_as_one_line_with_time_author_and_text() -> None:
    line = str(message("Hello there"))
    assert line == "2025-05-01 12:03:04  0b4e2a1c  Hello there"


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (Message(text="hi"), "hi"),
        (
            File(
                url="https://x/a/report.pdf",
                content_type="application/pdf",
                size=3_000_000,
            ),
            "[file] report.pdf (application/pdf, 3.0 MB)",
        ),
        (File(url="https://x/a/photo.png", name="me.png"), "[file] me.png"),
        (
            SystemMessage(system_message_type="manual_archived_customer", text="Bye"),
            "Bye",
        ),
        (SystemMessage(system_message_type="routing.idle"), "[routing.idle]"),
        (
            RichMessage(
                template_id="cards",
                elements=[RichMessageElement(title="A"), RichMessageElement(title="B")],
            ),
            "[rich_message cards] A | B",
        ),
        (FilledForm(form_id="f", fields=[]), "[filled_form] 0 fields"),
        (Custom(content={"k": 1}), "[custom] {'k': 1}"),
        (UnknownEvent(original_type="poll", fields={}), "[poll]"),
    ],
)
def test_event_text_says_what_each_kind_of_event_says(
    event: Any, expected: str
) -> None:
    assert event_text(event) == expected
    assert expected.split()[0] in str(event)


def test_a_long_text_is_cut_to_one_short_line() -> None:
    line = str(message("word " * 100 + "\nsecond line"))
    assert "\n" not in line
    assert line.endswith("…")
    assert len(line) < 160


def test_urls_are_shown_whole_for_copying() -> None:
    url = "https://cdn.livechat-files.com/api/file/lc/att/8948324/" + "a" * 80 + ".png"
    info = GetUrlInfoResult(url=url, title="t" * 100, image_url=url)
    shown = str(info)
    assert shown.count(url) == 2
    assert "…" in shown  # a long title is still cut
    assert html(info).count(url) == 2
    assert url in repr(File(url=url, name="a.png"))


def test_an_event_without_author_or_time_still_prints() -> None:
    assert "system" in str(Message(text="x"))


def test_repr_leaves_out_the_fields_at_their_defaults() -> None:
    assert repr(Message(text="hi")) == "Message(text='hi')"


# Containers ---------------------------------------------------------------------------


def test_a_thread_prints_a_heading_and_one_line_per_event() -> None:
    lines = str(thread(message("a"), message("b", AGENT, 1))).splitlines()
    assert lines[0] == "Thread T1 (active, 2 events, 2025-05-01 12:03:04)"
    assert lines[1].endswith("  a")
    assert lines[2].endswith("  b")
    assert AGENT[:8] in lines[2]


def test_a_chat_prints_its_users_by_name_and_its_thread() -> None:
    chat = Chat(
        id="CHAT1",
        users=[Customer(id=CUSTOMER, name="Ann"), Agent(id=AGENT, name="Jane")],
        thread=thread(message("hi"), message("hello", AGENT, 1)),
    )
    shown = str(chat)
    assert shown.splitlines()[0] == (
        f"Chat CHAT1 (Customer Ann ({CUSTOMER}), Agent Jane ({AGENT}))"
    )
    assert "thread T1 (active, 2 events)" in shown
    assert "Jane  hello" in shown  # authors by name when the chat knows them


def test_a_history_page_prints_its_shape_and_events() -> None:
    page = HistoryPage(
        done=False, value=[message("a"), message("b", seconds=1)], threads=[thread()]
    )
    first = str(page).splitlines()[0]
    assert first == "HistoryPage (more pages): 1 thread, 2 events"
    assert str(HistoryPage(done=True)) == (
        "HistoryPage (last page): 0 threads, 0 events"
    )


def test_summaries_print_one_line_per_item() -> None:
    chats = ChatsSummary(
        chats_summary=[
            ChatsSummaryItem(
                id="C1", active=True, users=[CUSTOMER], last_event=message("last one")
            )
        ],
        total_chats=3,
    )
    assert str(chats) == (
        "ChatsSummary: 1 of 3 chats\n  C1 (active, 1 user, last: last one)"
    )
    threads = ThreadsSummary(
        threads_summary=[ThreadSummaryItem(id="T1", order=1, total_events=1)],
        total_threads=1,
    )
    assert str(threads) == "ThreadsSummary: 1 of 1 thread\n  T1 (1 event)"


def test_a_long_container_shows_the_first_lines_and_how_many_more() -> None:
    events = [message(str(i), seconds=i) for i in range(MAX_LINES + 5)]
    shown = str(thread(*events))
    assert shown.splitlines()[-1] == "  … 5 more"
    assert html(thread(*events)).count("<tr>") == MAX_LINES + 2  # header + "more"


def test_event_payloads_print_readably() -> None:
    new = NewEvent(chat="C1", thread="T1", event=message("hi"))
    assert str(new) == f"new_event in C1: {message('hi')}"
    connected = Connected(chats_summary=[], total_chats=0, customer_id=CUSTOMER)
    assert str(connected) == f"connected as customer {CUSTOMER} (0 chats)"
    typing = UserTyping(chat="C1", user=AGENT)
    assert str(typing) == f"UserTyping(chat='C1', user='{AGENT}')"


def test_nested_values_are_shown_by_their_label() -> None:
    thread_ = ChatThread(
        id="T1",
        chat="C1",
        active=False,
        order=1,
        users=[CUSTOMER],
        events=[message("x")],
        created_at=T0,
    )
    assert str(thread_).startswith("ChatThread T1 of chat C1 (closed, 1 event")
    from rxlivechat.protocol.pushes import IncomingChat

    incoming = IncomingChat(chat=Chat(id="C1", users=[]))
    assert str(incoming) == "IncomingChat(chat=<Chat C1>)"


# HTML ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        message("hi"),
        thread(message("hi")),
        Chat(id="C1", users=[Customer(id=CUSTOMER)], thread=thread(message("hi"))),
        Chat(id="C1", users=[]),
        HistoryPage(done=True, value=[message("hi")], threads=[thread()]),
        ChatsSummary(chats_summary=[], total_chats=0),
        ThreadsSummary(threads_summary=[], total_threads=0),
        NewEvent(chat="C1", thread="T1", event=message("hi")),
        UserTyping(chat="C1", user=AGENT),
        Customer(id=CUSTOMER, name="Ann"),
    ],
)
def test_every_model_renders_as_an_html_table(value: Any) -> None:
    rendered = value._repr_html_()
    assert rendered.startswith("<style>")
    assert "<table class='rxlc'>" in rendered
    assert rendered == html(value)


def test_html_escapes_what_users_wrote() -> None:
    rendered = message("<script>alert('x')</script>")._repr_html_()
    assert "<script>alert" not in rendered
    assert "&lt;script&gt;" in rendered


# Secrets --------------------------------------------------------------------------


def test_a_token_never_shows_its_secret() -> None:
    token = Token(access_token="dal:SECRET", entity_id="c1")
    for shown in (str(token), repr(token), token._repr_html_(), text(token)):
        assert "SECRET" not in shown
        assert "c1" in shown


# Transcript ---------------------------------------------------------------------------


def test_a_transcript_orders_events_by_time_and_names_the_authors() -> None:
    events = [
        message("second", AGENT, 5),
        message("first", CUSTOMER, 1),
        SystemMessage(system_message_type="x", text="closed", created_at=at(9)),
        message("by someone unknown", "ffffffffffff", 7),
    ]
    transcript = Transcript(events, users=[Customer(id=CUSTOMER), Agent(id=AGENT)])
    assert str(transcript).splitlines() == [
        "12:03:05  customer  first",
        "12:03:09  3c9f41d2  second",  # an agent without a name: a short id
        "12:03:11  ffffffff  by someone unknown",
        "12:03:13  system    closed",
    ]
    named = Transcript(events, users={AGENT: "Jane", CUSTOMER: "Ann"})
    assert [line.split()[1] for line in named.lines()] == [
        "Ann",
        "Jane",
        "ffffffff",
        "system",
    ]
    assert len(named) == 4
    assert repr(named) == "<Transcript of 4 events>"
    assert "<th>Jane</th>" in named._repr_html_()


# Progress -------------------------------------------------------------------------


def test_progress_bar_follows_fractions_and_closes_at_one() -> None:
    from rxlivechat.display import progress_bar

    out = io.StringIO()
    update = progress_bar("upload", file=out, mininterval=0)
    for fraction in (0.0, 0.25, 0.25, 0.5, 1.0):
        update(fraction)
    shown = out.getvalue()
    assert "upload" in shown
    assert "100/100" in shown


# Real values ------------------------------------------------------------------------


async def test_values_from_a_session_print_and_render(sandbox: Sandbox) -> None:
    agent = sandbox.agent("Jane")
    async with rxlivechat.init(
        organization_id=sandbox.organization_id,
        client_id="display",
        api_url=sandbox.api_url,
        accounts_url=sandbox.accounts_url,
        customer={"name": "Ann"},
    ) as sdk:
        seen: list[tuple[str, Any]] = []
        sdk.subscribe(seen.append)
        chat = await sdk.start_chat([Message(text="Hi!")])
        await agent.join(chat.id)
        await agent.send_message(chat.id, "Hello Ann")
        page = await sdk.get_chat_history(chat.id).next()
        summary = await sdk.get_chats_summary()
        for value in [chat, page, summary, *(payload for _, payload in seen)]:
            if isinstance(value, rxlivechat.protocol.base.Model):
                assert str(value)
                assert "<table" in value._repr_html_() or "<pre>" in value._repr_html_()
        assert "Hi!" in str(chat)
        assert "Hello Ann" in str(page)
        assert "Hello Ann" in page._repr_html_()
        assert str(summary).startswith("ChatsSummary: 1 of 1 chat")


def test_display_imports_no_asyncio_aiohttp_or_reactivex() -> None:
    probe = (
        "import sys, rxlivechat.display, rxlivechat.protocol.models as m\n"
        "str(m.Message(text='x')); m.Message(text='x')._repr_html_()\n"
        "print(','.join(sorted(n for n in ('asyncio', 'aiohttp', 'reactivex') "
        "if n in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", _isolated(probe)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == ""
