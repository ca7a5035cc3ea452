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
import socket
import subprocess
import sys
import threading
import time
import types
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest

import rxlivechat
from rxlivechat import (
    Chat,
    ChatsSummary,
    Customer,
    CustomerSDK,
    HistoryPage,
    InvalidArgumentError,
    Message,
    NotConnectedError,
    SDKClosedError,
    StreamOverflowError,
)
from rxlivechat.blocking import HANDWRITTEN
from rxlivechat.protocol import methods as m
from rxlivechat.protocol.base import EmptyResult
from rxlivechat.sync import Sandbox, SyncCustomerSDK, connect_sync_pool

from .helpers import interruptible
from .test_sync_stub import blocking as blocking_signatures, shape, stub_module, stubbed

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
    # A clean shutdown says so (disconnected, manual), then the events end
    # (after the connection's events, if it connected meanwhile).
    items = list(events)
    assert [(name, payload.reason) for name, payload in items[-1:]] == [
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
    texts = [getattr(e, "text", None) for e in history.events()]
    assert texts == ["a", "b", "c"]
    # Iterating means pages, as `async for` on the async history does.
    pages = list(history)
    assert all(isinstance(page, HistoryPage) for page in pages)
    assert [getattr(e, "text", None) for p in pages for e in p.value] == texts
    page = history.next()
    assert [getattr(e, "text", None) for e in page.value] == ["a", "b", "c"]
    assert history.next().done


def test_update_last_seen_timestamp_blocks(sdk: SyncCustomerSDK) -> None:
    chat = sdk.start_chat()
    when = datetime.datetime(2021, 1, 2, tzinfo=datetime.UTC)
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


def test_the_old_names_still_import_and_the_sandbox_loads_only_when_used() -> None:
    probe = (
        "import sys, rxlivechat, rxlivechat.sync as s\n"
        "print('rxlivechat.sandbox' in sys.modules)\n"
        "from rxlivechat.sync import BACKLOG, MAX_QUEUED_EVENTS, Sandbox, SyncAgent\n"
        "from rxlivechat.sync import SyncChatHistory, SyncCustomerPool, SyncEvents\n"
        "from rxlivechat.sync import SyncCustomerSDK, connect_sync, connect_sync_pool\n"
        "import rxlivechat.sandbox.sync as sandbox, rxlivechat.sync_pool as pool\n"
        "print(Sandbox is sandbox.Sandbox, SyncAgent is sandbox.SyncAgent)\n"
        "print(connect_sync_pool is pool.connect_sync_pool)\n"
        "print(sorted(s.__all__) == s.__all__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=LIMIT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "True", "True", "True"]


LIFECYCLE = {"destroy"}  # close() instead
SAME = {"on", "once", "off", "set_sneak_peek", "get_chat_history", "wait_connected"}
SAME |= {"commit", "events"}
"""Methods whose blocking form has exactly the same parameters (no timeout added)."""


def test_every_sdk_method_has_a_blocking_form_with_the_same_parameters() -> None:
    stub = stub_module().BlockingMethods
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
        # Full annotations, overloads included: the stub's for the generated
        # methods (what mypy sees), the method's own for the hand-written ones.
        if name in HANDWRITTEN:
            hints = typing.get_type_hints(blocking)
            for parameter, hint in typing.get_type_hints(function).items():
                if parameter not in ("return", "timeout"):
                    assert hints[parameter] == hint, (name, parameter)
        else:
            got_shapes = [shape(signature) for signature in stubbed(stub, name)]
            wanted = [shape(signature) for signature in blocking_signatures(name)]
            assert got_shapes == wanted, name


# Events read after the actions ------------------------------------------------------


def test_events_read_after_the_actions_still_get_them(
    sdk: SyncCustomerSDK, sandbox: Sandbox
) -> None:
    # The script acts first and reads after: the events waited for it.
    chat = sdk.start_chat([Message(text="Hi")])
    agent = sandbox.agent("Jane")
    agent.join(chat.id)
    agent.send_message(chat.id, "Hello")
    names: list[str] = []
    for name, _ in sdk.events(timeout=0.5):
        names.append(name)
    assert names.index("connected") < names.index("incoming_chat")  # since login
    assert "incoming_chat" in names
    assert "new_event" in names
    # Between two loops nothing is lost: what came meanwhile waits too.
    sdk.send_event(chat.id, Message(text="again"))
    later = [p.event.text for n, p in sdk.events(timeout=0.5) if n == "new_event"]
    assert later == ["again"]


def test_events_overflow_policies(sdk: SyncCustomerSDK) -> None:
    chat = sdk.start_chat()
    list(sdk.events(timeout=0.2))  # read what came so far
    oldest = sdk.events(timeout=0.5, bound=2)
    failing = sdk.events(timeout=0.5, bound=2, overflow="fail")
    for text in ("a", "b", "c", "d"):
        sdk.send_event(chat.id, Message(text=text))
    assert [p.event.text for _, p in oldest] == ["c", "d"]
    assert oldest.dropped == 2
    with pytest.raises(StreamOverflowError):
        list(failing)
    with pytest.raises(InvalidArgumentError):
        sdk.events(bound=0)


# Closed: say what and what to do -----------------------------------------------------


def test_a_closed_facade_says_what_was_closed_and_what_to_do(
    sandbox: Sandbox,
) -> None:
    sdk = rxlivechat.connect_sync(
        organization_id=sandbox.organization_id,
        client_id="c",
        api_url=sandbox.api_url,
        accounts_url=sandbox.accounts_url,
    )
    sdk.close()
    with pytest.raises(
        SDKClosedError,
        match=r"this SyncCustomerSDK was closed.*"
        r"connect_sync\(\)",
    ):
        sdk.get_customer()
    with pytest.raises(SDKClosedError, match="this SyncCustomerSDK was closed"):
        sdk.wait_connected(1)
    sandbox_closed = Sandbox()
    sandbox_closed.start()
    runner = sandbox_closed._runner
    sandbox_closed.close()
    assert runner is not None
    with pytest.raises(SDKClosedError, match="this sync Sandbox was closed"):
        runner.call(lambda: None)


def test_a_refused_connection_is_named_at_once() -> None:
    with socket.socket() as held:  # bound, not listening: refuses
        held.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{held.getsockname()[1]}"
        with rxlivechat.connect_sync(
            organization_id="o", client_id="c", api_url=url, accounts_url=url
        ) as sdk:
            started = time.monotonic()
            with pytest.raises(NotConnectedError, match="Cannot connect to host"):
                sdk.wait_connected(20)
            with pytest.raises(NotConnectedError, match="Cannot connect to host"):
                sdk.get_customer()
            assert time.monotonic() - started < 2


# atexit: one hook, never one per facade ---------------------------------------------

CYCLES = """
import atexit
import rxlivechat
from rxlivechat.sync import Sandbox

with Sandbox() as sandbox:
    options = dict(
        organization_id=sandbox.organization_id,
        client_id="c",
        api_url=sandbox.api_url,
        accounts_url=sandbox.accounts_url,
        auto_connect=False,
    )
    before = atexit._ncallbacks()
    for _ in range(300):
        rxlivechat.connect_sync(**options).close()
    with rxlivechat.connect_sync(**options):
        during = atexit._ncallbacks()
    print(before, during, atexit._ncallbacks())
"""


def test_connect_close_cycles_leave_the_atexit_registry_as_it_was(
    tmp_path: Path,
) -> None:
    result = run_script(CYCLES, tmp_path)
    assert result.returncode == 0, result.stderr
    before, during, after = map(int, result.stdout.split())
    assert before == during == after


# A pool: one thread for many customers ----------------------------------------------


def test_a_sync_pool_runs_many_customers_on_one_thread(sandbox: Sandbox) -> None:
    before = threading.active_count()
    with connect_sync_pool(
        organization_id=sandbox.organization_id,
        client_id="c",
        api_url=sandbox.api_url,
        accounts_url=sandbox.accounts_url,
        max_concurrent_logins=5,
    ) as pool:
        customers = [pool.add(f"c{i}") for i in range(20)]
        pool.wait_connected(timeout=30)
        assert pool.connected == 20
        assert threading.active_count() == before + 1  # the pool's one thread
        chats = [c.start_chat([Message(text=c.key)]) for c in customers[:3]]
        assert len({chat.id for chat in chats}) == 3
        events = customers[0].events(timeout=0.3)
        assert "connected" in [name for name, _ in events]
        customers[1].close()  # leaves the pool; the others go on
        assert "c1" not in pool
        with pytest.raises(SDKClosedError, match="left its SyncCustomerPool"):
            customers[1].get_customer()
        assert customers[2].get_customer().id == customers[2].customer_id
        assert len(pool) == 19
    assert threading.active_count() == before
    with pytest.raises(SDKClosedError, match="this SyncCustomerPool was closed"):
        pool.add("late")
