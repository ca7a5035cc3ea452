"""The blocking facade: scripts without ``async``, run as real child processes.

The README's sync quickstart runs as a plain script; Ctrl-C while blocked and
an exception (with or without ``with`` blocks) end the child promptly with
nothing left running. In-process tests check typed results, timeouts, events,
listeners and history against a sandbox served from its own thread.
"""

from __future__ import annotations

import datetime
import inspect
import re
import signal
import subprocess
import sys
import threading
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

import rxlivechat
from rxlivechat import (
    Chat,
    ChatsSummary,
    Customer,
    CustomerSDK,
    InvalidArgumentError,
    Message,
    SDKClosedError,
)
from rxlivechat.protocol import methods as m
from rxlivechat.protocol.base import EmptyResult
from rxlivechat.sync import Sandbox, SyncCustomerSDK

from .helpers import interruptible

ROOT = Path(__file__).parent.parent
LIMIT = 60  # seconds a child may take: a hang fails the test, never blocks CI

CONNECT = """
import threading
import rxlivechat
from rxlivechat.sync import Sandbox

def leftovers():
    return sorted(t.name for t in threading.enumerate() if t.name != "MainThread")
"""


def sync_quickstart() -> str:
    """The README's sync quickstart block."""
    readme = (ROOT / "README.md").read_text()
    match = re.search(
        r"<!-- runnable: the sync quickstart[^>]*-->\n```python\n(.*?)\n```",
        readme,
        re.S,
    )
    assert match, "the README has no sync quickstart block"
    return match.group(1)


def run_script(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "script.py"
    script.write_text(code)
    return subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=LIMIT,
        cwd=tmp_path,
        check=False,
    )


# Child processes ------------------------------------------------------------------


def test_the_readme_sync_quickstart_runs_as_a_plain_script(tmp_path: Path) -> None:
    code = sync_quickstart()
    assert "async" not in code
    assert "await" not in code
    check = "\nimport threading\nprint('threads:', threading.active_count())\n"
    result = run_script(code + check, tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-2:] == ["history: 3 events", "threads: 1"]
    assert any(
        line.startswith("live: ") and line.endswith("Yes, we ship to all of Europe.")
        for line in lines
    )


def test_ctrl_c_while_blocked_in_events_leaves_nothing_running(
    tmp_path: Path,
) -> None:
    script = tmp_path / "blocked.py"
    script.write_text(
        CONNECT
        + """
try:
    with Sandbox() as sandbox, rxlivechat.connect_sync(
        organization_id=sandbox.organization_id,
        client_id="c",
        api_url=sandbox.api_url,
        accounts_url=sandbox.accounts_url,
    ) as sdk:
        sdk.wait_connected(timeout=10)
        print("blocked", flush=True)
        for _ in sdk.events():  # no timeout: blocks until Ctrl-C
            pass
except KeyboardInterrupt:
    print("interrupted; left:", leftovers(), flush=True)
    raise
"""
    )
    child = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        preexec_fn=interruptible,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "blocked\n"
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=LIMIT)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert out == "interrupted; left: []\n"
    assert "KeyboardInterrupt" in err
    assert child.returncode != 0


def test_an_exception_in_a_with_block_closes_everything(tmp_path: Path) -> None:
    result = run_script(
        CONNECT
        + """
try:
    with Sandbox() as sandbox, rxlivechat.connect_sync(
        organization_id=sandbox.organization_id,
        client_id="c",
        api_url=sandbox.api_url,
        accounts_url=sandbox.accounts_url,
    ) as sdk:
        chat = sdk.start_chat()
        raise KeyError(chat.id)
finally:
    print("left:", leftovers(), flush=True)
""",
        tmp_path,
    )
    assert result.returncode == 1
    assert result.stdout == "left: []\n"
    assert "KeyError" in result.stderr


def test_a_script_that_never_closes_still_exits(tmp_path: Path) -> None:
    # No with, no close(): the threads are daemons and close at exit.
    result = run_script(
        CONNECT
        + """
sandbox = Sandbox()
sandbox.start()
sdk = rxlivechat.connect_sync(
    organization_id=sandbox.organization_id,
    client_id="c",
    api_url=sandbox.api_url,
    accounts_url=sandbox.accounts_url,
)
sdk.start_chat()
print("running:", leftovers(), flush=True)
raise KeyError("a bug")
""",
        tmp_path,
    )
    assert result.returncode == 1
    assert result.stdout == "running: ['rxlivechat-sandbox', 'rxlivechat-sdk']\n"
    assert "KeyError: 'a bug'" in result.stderr


# In process -------------------------------------------------------------------------


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as server:
        yield server


@pytest.fixture
def sdk(sandbox: Sandbox) -> Iterator[SyncCustomerSDK]:
    with rxlivechat.connect_sync(
        organization_id=sandbox.organization_id,
        client_id="test-client",
        api_url=sandbox.api_url,
        accounts_url=sandbox.accounts_url,
        request_timeout=5.0,
    ) as customer:
        customer.wait_connected(timeout=10)
        yield customer


def ours() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("rxlivechat")]


def test_methods_block_and_return_typed_results(
    sdk: SyncCustomerSDK, sandbox: Sandbox
) -> None:
    chat = sdk.start_chat([Message(text="Hello")])
    assert isinstance(chat, Chat)
    sent = sdk.send_event(chat.id, {"type": "message", "text": "plain"})
    assert isinstance(sent, Message)
    assert (sent.text, sent.author_id) == ("plain", sdk.customer_id)
    assert isinstance(sdk.get_customer(), Customer)
    summary = sdk.get_chats_summary()
    assert isinstance(summary, ChatsSummary)
    assert [c.id for c in summary.chats_summary] == [chat.id]
    assert sdk.call(m.GetChat(chat_id=chat.id)).id == chat.id
    assert sdk.send_sneak_peek(chat.id, "typing") == EmptyResult()
    assert sandbox.count("send_sneak_peek") == 1


def test_bad_input_is_raised_in_the_callers_thread_before_sending(
    sdk: SyncCustomerSDK, sandbox: Sandbox
) -> None:
    chat = sdk.start_chat()
    with pytest.raises(InvalidArgumentError, match=r"event\.text: expected str"):
        sdk.send_event(chat.id, {"type": "message", "text": 5})
    assert sandbox.count("send_event") == 0


def test_a_timeout_raises_and_the_sdk_keeps_serving(
    sdk: SyncCustomerSDK, sandbox: Sandbox
) -> None:
    async def delay() -> None:
        sandbox.sandbox.delay_replies(30, "get_customer")

    sandbox.run(delay)
    with pytest.raises(TimeoutError):
        sdk.get_customer(timeout=0.2)
    assert isinstance(sdk.get_chats_summary(timeout=10), ChatsSummary)


def test_events_iterate_until_the_timeout(
    sdk: SyncCustomerSDK, sandbox: Sandbox
) -> None:
    events = sdk.events(timeout=0.5)
    chat = sdk.start_chat([Message(text="Hi")])
    agent = sandbox.agent("Jane")
    agent.join(chat.id)
    agent.send_message(chat.id, "Hello")
    names = [name for name, _ in events]  # ends 0.5 s after the last one
    assert "incoming_chat" in names
    assert "new_event" in names
    assert list(events) == []  # ended for good


def test_events_end_when_the_sdk_closes(sandbox: Sandbox) -> None:
    sdk = rxlivechat.connect_sync(
        organization_id=sandbox.organization_id,
        client_id="c",
        api_url=sandbox.api_url,
        accounts_url=sandbox.accounts_url,
    )
    events = sdk.events()  # no timeout
    sdk.close()
    # A clean shutdown says so (disconnected, manual), then the events end.
    assert [(name, payload.reason) for name, payload in events] == [
        ("disconnected", "manual")
    ]
    assert ours() == ["rxlivechat-sandbox"]
    with pytest.raises(SDKClosedError):
        sdk.get_customer()
    sdk.close()  # twice is fine


def test_listeners_run_and_cannot_block(sdk: SyncCustomerSDK, sandbox: Sandbox) -> None:
    seen: list[str] = []
    errors: list[Exception] = []

    def on_event(payload: rxlivechat.NewEvent) -> None:
        seen.append(str(getattr(payload.event, "text", "")))
        try:
            sdk.get_customer()
        except RuntimeError as exc:
            errors.append(exc)

    sdk.on("new_event", on_event)
    chat = sdk.start_chat()
    events = sdk.events(timeout=5)
    sdk.send_event(chat.id, Message(text="one"))
    next(name for name, _ in events if name == "new_event")
    assert seen == ["one"]
    assert "would wait for ever" in str(errors[0])
    sdk.off("new_event", on_event)


def test_history_is_a_blocking_iterator(sdk: SyncCustomerSDK, sandbox: Sandbox) -> None:
    chat = sdk.start_chat([Message(text="a"), Message(text="b")])
    sdk.send_event(chat.id, Message(text="c"))
    history = sdk.get_chat_history(chat.id, events_per_page=1)
    texts = [getattr(e, "text", None) for e in history]
    assert texts == ["a", "b", "c"]
    page = history.next()
    assert [getattr(e, "text", None) for e in page.value] == ["a", "b", "c"]
    assert history.next().done


def test_update_last_seen_timestamp_blocks(sdk: SyncCustomerSDK) -> None:
    chat = sdk.start_chat()
    when = datetime.datetime(2031, 1, 2, tzinfo=datetime.UTC)
    assert sdk.update_last_seen_timestamp(chat.id, when).timestamp == when


def test_close_stops_the_thread(sandbox: Sandbox) -> None:
    sdk = rxlivechat.connect_sync(
        organization_id=sandbox.organization_id,
        client_id="c",
        api_url=sandbox.api_url,
        accounts_url=sandbox.accounts_url,
    )
    assert "rxlivechat-sdk" in ours()
    sdk.close()
    assert ours() == ["rxlivechat-sandbox"]


def test_bad_options_leave_no_thread() -> None:
    with pytest.raises(InvalidArgumentError):
        rxlivechat.connect_sync(organization_id="", client_id="c")
    assert ours() == []


# The facade covers the SDK ------------------------------------------------------------

LIFECYCLE = {"destroy"}  # close() instead
SAME = {"on", "once", "off", "set_sneak_peek", "get_chat_history", "wait_connected"}
SAME |= {"commit"}
"""Methods whose blocking form has exactly the same parameters (no timeout added)."""


def test_every_sdk_method_has_a_blocking_form_with_the_same_parameters() -> None:
    for name in dir(CustomerSDK):
        function = inspect.getattr_static(CustomerSDK, name)
        if name.startswith("_") or not isinstance(function, types.FunctionType):
            continue
        if not function.__module__.startswith("rxlivechat") or name in LIFECYCLE:
            continue
        blocking = getattr(SyncCustomerSDK, name, None)
        assert blocking is not None, f"SyncCustomerSDK has no {name}()"
        expected = [
            (p.name, p.kind, p.default)
            for p in inspect.signature(function).parameters.values()
            if p.name != "timeout"
        ]
        got = [
            (p.name, p.kind, p.default)
            for p in inspect.signature(blocking).parameters.values()
            if p.name != "timeout"
        ]
        assert got == expected, name
        if name not in SAME:
            timeout = inspect.signature(blocking).parameters["timeout"]
            assert timeout.kind == inspect.Parameter.KEYWORD_ONLY, name
