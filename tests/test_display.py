"""Display: readable ``str()`` for terminals, ``_repr_html_`` for Jupyter."""

from __future__ import annotations

import datetime
import io
import subprocess
import sys
from html.parser import HTMLParser
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
from rxlivechat.display import (
    FULL_TEXT_BUDGET,
    MAX_LINES,
    TEXT_CUT,
    TEXT_LINES,
    Transcript,
    event_text,
    html,
    text,
)
from rxlivechat.events import Connected, NewEvent
from rxlivechat.protocol.base import Model
from rxlivechat.protocol.methods import GetUrlInfoResult
from rxlivechat.protocol.models import Event, RichMessageElement
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


def test_a_long_container_shows_its_first_and_last_lines_and_how_many_more() -> None:
    events = [message(str(i), seconds=i) for i in range(MAX_LINES + 5)]
    lines = str(thread(*events)).splitlines()
    half = MAX_LINES // 2
    assert len(lines) == 1 + MAX_LINES + 1  # heading, events, "more"
    assert lines[half + 1] == "  … 5 more"
    assert [line.split()[-1] for line in lines[1 : half + 1]] == [
        str(i) for i in range(half)
    ]
    assert lines[-1].endswith(f"  {MAX_LINES + 4}")  # the newest event is shown
    rendered = html(thread(*events))
    assert rendered.count("<tr>") == MAX_LINES + 2  # header + "more"
    assert "… 5 more" in rendered
    assert f">{MAX_LINES + 4}</td>" in rendered


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
    assert "<th dir='auto'>Jane</th>" in named._repr_html_()


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


# Big values stay small ----------------------------------------------------------------

EVENTS = 50_000


def big_history() -> tuple[HistoryPage, Chat, Transcript]:
    """A 50,000-event page (500 threads of 100), a chat, a transcript of it."""
    threads = []
    for t in range(500):
        events: list[Event] = [
            Message(
                id=f"T{t}_{i}",
                text=f"message {i} of thread {t}",
                author_id=CUSTOMER if i % 2 else AGENT,
                created_at=at(t * 100 + i),
                thread_id=f"T{t}",
            )
            for i in range(100)
        ]
        threads.append(
            Thread(
                id=f"T{t}", created_at=at(t), active=False, user_ids=[], events=events
            )
        )
    value = [e for t in threads for e in t.events or ()]
    page = HistoryPage(done=True, value=value, threads=threads)
    users: list[Customer | Agent] = [
        Customer(id=CUSTOMER, name="Ann"),
        Agent(id=AGENT, name="Jane"),
    ]
    whole = Thread(id="ONE", created_at=T0, active=True, user_ids=[], events=value)
    return page, Chat(id="C1", users=users, thread=whole), Transcript(value, users)


def jupyter_output(value: Any) -> dict[str, str]:
    """What Jupyter gets for a cell's last expression: ``{mime type: text}``."""
    formatters = pytest.importorskip("IPython.core.formatters")
    data, _ = formatters.DisplayFormatter().format(value)  # as a kernel's shell does
    return {kind: str(content) for kind, content in data.items()}


def test_a_50000_event_page_chat_and_transcript_stay_small_in_jupyter() -> None:
    # Before: text/plain 21.8 MB (page), 9.8 MB (chat); text/html 3.7 MB (transcript).
    page, chat, transcript = big_history()
    first, last = page.value[0], page.value[-1]
    assert isinstance(first, Message)
    assert isinstance(last, Message)
    left_out = [
        (page, "<49997 more>"),
        (chat, "<49997 more>"),
        (transcript, "… 49950 more"),
    ]
    for value, marker in left_out:
        output = jupyter_output(value)
        plain, rendered = output["text/plain"], output["text/html"]
        assert len(plain.encode()) < 10_000, type(value)
        assert len(rendered.encode()) < 20_000, type(value)
        # Summarised, not cut blindly: the first and last events and the count.
        for shown in (plain, rendered):
            assert first.text in shown
            assert last.text in shown
        assert marker in plain
        assert f"… {EVENTS - MAX_LINES} more" in rendered
    assert "<49997 more>" in repr(page)  # value: 2 first, the count, 1 last
    assert "<497 more>" in repr(page)  # threads likewise, each thread cut too


def test_a_capped_repr_is_the_plain_repr_for_short_lists() -> None:
    short = thread(*(message(str(i), seconds=i) for i in range(4)))
    assert repr(short) == Model.__repr__(short)  # msgspec's own repr, unchanged
    long = thread(*(message(str(i), seconds=i) for i in range(5)))
    assert repr(long) == Model.__repr__(long).replace(
        f", {message('2', seconds=2)!r}, {message('3', seconds=3)!r}", ", <2 more>"
    )
    assert repr(HistoryPage(done=False)) == "HistoryPage(done=False)"


# HTML: safe, readable ----------------------------------------------------------------

HOSTILE = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>&amp;"

_ALLOWED = {
    "style": set(),
    "table": {"class"},
    "caption": set(),
    "tr": set(),
    "th": {"dir"},
    "td": {"class", "dir", "title", "colspan"},
    "details": set(),
    "summary": set(),
}


class _Tags(HTMLParser):
    """Every tag and attribute of a document, and the text it displays."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(document: str) -> _Tags:
    tags = _Tags()
    tags.feed(document)
    tags.close()
    return tags


def hostile_values() -> list[Any]:
    """Values carrying hostile text in every place that shows user text."""
    evil = Message(
        text=HOSTILE * 40 + "\n" * 10 + HOSTILE,  # long: folded in <details>
        id=HOSTILE,
        author_id=HOSTILE,
        created_at=T0,
    )
    users: list[Customer | Agent] = [
        Customer(id=HOSTILE, name=HOSTILE, email=HOSTILE),
        Agent(id=AGENT, name=HOSTILE),
    ]
    hostile_thread = Thread(
        id=HOSTILE, created_at=T0, active=True, user_ids=[], events=[evil] * 60
    )
    return [
        evil,
        Message(text=HOSTILE, author_id=AGENT),
        hostile_thread,
        Chat(id=HOSTILE, users=users, thread=hostile_thread),
        HistoryPage(done=False, value=[evil], threads=[hostile_thread]),
        ChatsSummary(
            chats_summary=[
                ChatsSummaryItem(id=HOSTILE, active=True, users=[], last_event=evil)
            ],
            total_chats=1,
        ),
        ThreadsSummary(
            threads_summary=[ThreadSummaryItem(id=HOSTILE, order=1, total_events=1)],
            total_threads=1,
        ),
        NewEvent(chat=HOSTILE, thread=HOSTILE, event=evil),
        UserTyping(chat=HOSTILE, user=HOSTILE),
        Customer(id=HOSTILE, name=HOSTILE),
        File(url=HOSTILE, name=HOSTILE),
        Transcript([evil] * 60, users={HOSTILE: HOSTILE}),
    ]


@pytest.mark.parametrize("value", hostile_values(), ids=lambda v: type(v).__name__)
def test_html_never_carries_user_text_unescaped(value: Any) -> None:
    document = value._repr_html_()
    tags = parsed(document)
    for tag, attrs in tags.tags:  # nothing but our own tags and attributes
        assert tag in _ALLOWED, tag
        for name, _ in attrs:
            assert name in _ALLOWED[tag], (tag, name)
    shown = "".join(tags.text)
    assert "<script>alert(1)</script>" in shown  # displayed as text, intact


def test_text_cells_keep_line_breaks_and_their_direction() -> None:
    rtl = "שלום, אפשר לקבל עזרה?\nمرحبا، كيف يمكنني المساعدة؟"  # noqa: RUF001
    for value in (message(rtl), Transcript([message(rtl)])):
        document = value._repr_html_()
        (cell,) = [
            attrs for tag, attrs in parsed(document).tags if ("class", "x") in attrs
        ]
        assert ("dir", "auto") in cell
        assert rtl in "".join(parsed(document).text)  # the line break is kept
        assert ".rxlc .x{white-space:pre-wrap" in document
    # Author names are user text too.
    chat = Chat(
        id="C1",
        users=[Customer(id=CUSTOMER, name="דנה")],
        thread=thread(message("hi")),
    )
    assert "dir='auto'>דנה</td>" in chat._repr_html_()


def test_a_long_text_shows_its_start_and_opens_whole_on_a_click() -> None:
    long = "word " * 2000  # 10,000 characters
    document = message(long)._repr_html_()
    summary = document.split("<summary>")[1].split("</summary>")[0]
    assert summary == long[:TEXT_CUT] + "…"
    assert f"</summary>{long}</details>" in document  # the whole text, one click
    many_lines = "\n".join(f"line {i}" for i in range(30))
    folded = message(many_lines)._repr_html_()
    assert "<summary>" + "\n".join(f"line {i}" for i in range(TEXT_LINES)) in folded
    assert many_lines in folded
    # The whole texts of one table share a budget: 50 of the largest messages
    # (16 KiB) would be 800 kB of HTML.
    largest = "y" * 16_384
    many = Transcript([message(largest, seconds=i) for i in range(50)])
    document = many._repr_html_()
    assert len(document) < FULL_TEXT_BUDGET + 50 * (TEXT_CUT + 200)
    whole = FULL_TEXT_BUDGET // len(largest)
    assert document.count(f"</summary>{largest}</details>") == whole
    assert document.count("(16384 characters, more than this table holds") == (
        50 - whole
    )
    assert len(many.summary()) < 50 * (TEXT_CUT + 30)  # text/plain: starts only
    short = message("short\ntext")._repr_html_()
    assert "<details>" not in short


def test_a_transcript_shows_its_first_and_last_events_as_text_in_jupyter() -> None:
    events = [message(f"m{i}", seconds=i) for i in range(MAX_LINES + 10)]
    transcript = Transcript(events, users={CUSTOMER: "Ann"})
    lines = transcript.summary().splitlines()
    assert lines[0] == f"Transcript of {MAX_LINES + 10} events"
    assert lines[1].endswith("Ann  m0")
    assert lines[-1].endswith(f"Ann  m{MAX_LINES + 9}")
    assert "… 10 more" in lines
    assert jupyter_output(transcript)["text/plain"] == transcript.summary()
    assert len(str(transcript).splitlines()) == MAX_LINES + 10  # print(): all
    multi = Transcript([message("one\ntwo", seconds=1)], users={CUSTOMER: "Ann"})
    first = "12:03:05  Ann  one"
    assert str(multi).splitlines() == [first, " " * len("12:03:05  Ann  ") + "two"]
