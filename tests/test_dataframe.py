"""Data out: every typed value to plain Python, and history to a pandas DataFrame."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest

import rxlivechat
from rxlivechat import HistoryPage, InvalidArgumentError, Message
from rxlivechat.dataframe import (
    COLUMNS,
    event_records,
    events_to_dataframe,
    history_to_dataframe,
)
from rxlivechat.protocol.base import Model
from rxlivechat.protocol.methods import GetChat
from rxlivechat.sandbox import Sandbox

from .helpers import connect, until


def assert_plain(value: Any) -> None:
    """``value`` converts to JSON-ready builtins, and back to an equal value."""
    builtins = msgspec.to_builtins(value)
    json.dumps(builtins)  # only dict, list, str, int, float, bool, None
    if isinstance(value, msgspec.Struct):
        assert msgspec.convert(builtins, type(value)) == value
    elif isinstance(value, list):
        assert [
            msgspec.convert(b, type(v)) for b, v in zip(builtins, value, strict=True)
        ] == value


# to_builtins ------------------------------------------------------------------------


async def test_every_result_and_event_payload_converts_to_plain_python(
    sandbox: Sandbox,
) -> None:
    agent = sandbox.agent("Jane")
    sdk = connect(sandbox, customer={"name": "Ann"})
    seen: list[tuple[str, Any]] = []
    sdk.subscribe(seen.append)
    await sdk.wait_connected(timeout=5)

    chat = await sdk.start_chat([Message(text="Hi")])
    await agent.join(chat.id)
    await agent.typing(chat.id, True)
    await agent.send_message(chat.id, "Hello")
    results: list[Any] = [
        chat,
        await sdk.send_event(chat.id, Message(text="Question")),
        await sdk.update_chat_properties(chat.id, {"test": {"string_property": "v"}}),
        await sdk.update_customer(name="Ann", fields={"plan": "pro"}),
        await sdk.update_customer_page("https://example.com/p", title="P"),
        await sdk.update_last_seen_timestamp(chat.id),
        await sdk.send_file(chat.id, b"%PDF-1.4", name="a.pdf"),
        await sdk.get_chats_summary(),
        await sdk.get_chat_threads_summary(chat.id),
        await sdk.get_chat_history(chat.id).next(),
        await sdk.rate_chat(chat.id, "good", comment="Nice"),
        await sdk.close_thread(chat.id),
        await sdk.call(GetChat(chat_id=chat.id)),
    ]
    assert chat.thread is not None
    results.append(await sdk.get_chat_threads(chat.id, [chat.thread.id]))
    await until(lambda: any(name == "thread_closed" for name, _ in seen))
    await sdk.destroy()

    kinds = set()
    for value in results + [payload for _, payload in seen]:
        if isinstance(value, Model | list):
            assert_plain(value)
            kinds.add(type(value).__name__)
    for expected in (
        "Chat",
        "ChatsSummary",
        "ThreadsSummary",
        "HistoryPage",
        "RateChatResult",
        "CloseThreadResult",
        "LastSeenTimestamp",
        "SendFileResult",
        "EmptyResult",
        "Message",
        "list",
        "Connected",
        "NewEvent",
        "UserTyping",
        "UserInChat",
        "ThreadClosed",
        "ThreadSummary",
        "Customer",
        "Agent",
    ):
        assert expected in kinds, expected


# DataFrames -----------------------------------------------------------------------


async def test_history_to_dataframe_is_one_row_per_event_oldest_first(
    sandbox: Sandbox, sdk: rxlivechat.CustomerSDK
) -> None:
    agent = sandbox.agent("Jane")
    chat = await sdk.start_chat([Message(text="Hi")])
    await agent.join(chat.id)
    await agent.send_message(chat.id, "Hello")
    await sdk.send_file(chat.id, b"%PDF-1.4", name="a.pdf")
    await sdk.close_thread(chat.id)
    full = await sdk.call(GetChat(chat_id=chat.id))

    reports: list[tuple[int, int]] = []
    df = await history_to_dataframe(
        sdk.get_chat_history(chat.id),
        users=full.users,
        progress=lambda pages, events: reports.append((pages, events)),
    )

    assert list(df.columns) == list(COLUMNS)
    dtype = str(df["created_at"].dtype)
    assert dtype.startswith("datetime64[")
    assert dtype.endswith(", UTC]")
    assert df["created_at"].is_monotonic_increasing
    assert list(df["type"]) == ["message", "message", "file", "system_message"]
    assert list(df["author_type"]) == ["customer", "agent", "customer", "system"]
    assert df["author_name"].iloc[1] == "Jane"
    assert df["text"].iloc[0] == "Hi"
    assert df["text"].iloc[2].startswith("[file] a.pdf")
    assert df["url"].iloc[2].endswith("/a.pdf")
    assert set(df["chat_id"]) == {chat.id}
    assert reports == [(1, 4)]


async def test_progress_and_max_pages_follow_the_walk(
    sandbox: Sandbox, sdk: rxlivechat.CustomerSDK, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sdk.customer_id is not None
    chat_id = sandbox.seed_chat(sdk.customer_id, threads=6, events_per_thread=2)
    history = sdk.get_chat_history(chat_id, events_per_page=2)  # one thread per page

    reports: list[tuple[int, int]] = []
    df = await history_to_dataframe(
        history, progress=lambda *report: reports.append(report)
    )
    assert reports == [(n, 2 * n) for n in range(1, 7)]
    assert len(df) == 12

    newest = await history_to_dataframe(history, max_pages=2, progress=True)
    assert len(newest) == 4
    assert "4 events" in capsys.readouterr().err  # the tqdm bar, on stderr


async def test_an_export_passes_its_page_size_on(
    sandbox: Sandbox, sdk: rxlivechat.CustomerSDK
) -> None:
    assert sdk.customer_id is not None
    chat_id = sandbox.seed_chat(sdk.customer_id, threads=500, events_per_thread=100)
    history = sdk.get_chat_history(chat_id)  # 25 events a page: 500 requests

    df = await history_to_dataframe(history, threads_per_page=100)

    assert sandbox.count("list_threads") == 5
    assert len(df) == 50_000
    assert df["created_at"].is_monotonic_increasing
    assert df["event_id"].is_unique
    few = await history_to_dataframe(history, events_per_page=100, max_pages=2)
    assert len(few) == 200  # two threads of 100
    assert sandbox.count("list_threads") == 5 + 2
    with pytest.raises(InvalidArgumentError, match="need a ChatHistory"):
        await history_to_dataframe(_pages(), threads_per_page=100)
    with pytest.raises(InvalidArgumentError, match="not both"):
        await history_to_dataframe(history, events_per_page=5, threads_per_page=5)
    assert sandbox.count("list_threads") == 7  # refused before any request


async def _pages() -> AsyncIterator[HistoryPage]:
    yield HistoryPage(done=True)


def test_events_to_dataframe_of_nothing_has_the_columns() -> None:
    df = events_to_dataframe([])
    assert list(df.columns) == list(COLUMNS)
    assert len(df) == 0
    assert "UTC" in str(df["created_at"].dtype)


def test_event_records_are_plain_dicts_without_pandas() -> None:
    rows = event_records([Message(text="hi")], chat_id="C1", users={"a": "Ann"})
    assert rows == [
        {
            "chat_id": "C1",
            "thread_id": None,
            "event_id": None,
            "created_at": None,
            "type": "message",
            "author_id": None,
            "author_type": "system",
            "author_name": None,
            "text": "hi",
            "url": None,
            "custom_id": None,
            "recipients": None,
        }
    ]


async def test_without_pandas_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"rxlivechat\[pandas\]"):
        events_to_dataframe([])

    class NoHistory:
        def __aiter__(self) -> Any:
            raise AssertionError("walked before checking for pandas")

    with pytest.raises(ImportError, match=r"rxlivechat\[pandas\]"):
        await history_to_dataframe(NoHistory())


def test_import_rxlivechat_does_not_import_pandas_tqdm_or_matplotlib() -> None:
    probe = (
        "import sys, rxlivechat, rxlivechat.display, rxlivechat.dataframe\n"
        "print(','.join(sorted(m for m in ('pandas', 'tqdm', 'matplotlib', 'numpy') "
        "if m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


def test_the_columns_people_read_come_before_the_ids() -> None:
    read = ["created_at", "author_name", "type", "text", "url"]
    ids = ["event_id", "thread_id", "chat_id", "author_id"]
    assert max(map(COLUMNS.index, read)) < min(map(COLUMNS.index, ids))
