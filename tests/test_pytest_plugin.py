"""The pytest plugin, loaded the way users load it: by its entry point, in a new
pytest process (pytester), in pytest-asyncio's auto and strict modes."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .test_layers import _isolated

pytest_plugins = ["pytester"]

DOCS = Path(__file__).parent.parent / "docs" / "howto" / "sandbox-testing.md"

# The tests users write: a customer, an agent and a fault, each from a fixture.
SCENARIO = """
import pytest
from rxlivechat import Message
from rxlivechat.exceptions import SDKClosedError

SEEN = []


{mark}
async def test_an_agent_answers_the_customer(
    livechat_sandbox, livechat_agent, livechat_customer
):
    SEEN.append(livechat_customer)
    chat = await livechat_customer.start_chat([Message(text="Hello?")])
    assert await livechat_agent.next_chat() == chat.id
    await livechat_agent.join(chat.id)
    await livechat_agent.send_message(chat.id, "Hi, Ada!")
    history = await livechat_customer.get_chat(chat.id)
    assert [e.text for e in history.thread.events] == ["Hello?", "Hi, Ada!"]
    assert livechat_sandbox.count("start_chat") == 1


{mark}
async def test_the_customer_reconnects_after_a_drop(
    livechat_sandbox, livechat_customer, livechat_faults
):
    await livechat_faults.drop_connections()
    await livechat_sandbox.wait_for_login(livechat_customer.customer_id, timeout=10)
    await livechat_customer.wait_connected(timeout=10)
    assert livechat_sandbox.count("login") == 2
    livechat_faults.fail_next("get_customer", "internal")
    with pytest.raises(Exception, match="internal"):
        await livechat_customer.get_customer()


def test_the_customer_was_destroyed_after_its_test():
    (customer,) = SEEN[:1]
    with pytest.raises(SDKClosedError):
        customer.start_chat()
"""


def configure(pytester: pytest.Pytester, mode: str) -> None:
    pytester.makeini(
        f"""
        [pytest]
        asyncio_mode = {mode}
        asyncio_default_fixture_loop_scope = function
        filterwarnings = error
        """
    )


def test_the_plugin_is_registered_by_its_entry_point() -> None:
    (entry,) = [
        e
        for e in importlib.metadata.entry_points(group="pytest11")
        if e.value.startswith("rxlivechat")
    ]
    assert entry.value == "rxlivechat.testing.pytest_plugin"


def test_the_sandbox_imports_neither_the_plugin_nor_the_client() -> None:
    probe = (
        "import rxlivechat.sandbox, rxlivechat.sandbox.cli\n"
        "loaded = ('pytest', 'reactivex', 'rxlivechat.sdk',"
        " 'rxlivechat.testing', 'rxlivechat.testing.pytest_plugin')\n"
        "print(','.join(m for m in loaded if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", _isolated(probe)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == ""


def test_the_fixtures_are_listed_with_their_docs(pytester: pytest.Pytester) -> None:
    configure(pytester, "strict")
    result = pytester.runpytest_subprocess("--fixtures", "-p", "no:cacheprovider")
    out = result.stdout.str()
    for name in (
        "livechat_sandbox",
        "livechat_agent",
        "livechat_customer",
        "livechat_faults",
        "livechat_sandbox_options",
        "livechat_customer_options",
        "livechat_replay",
    ):
        assert re.search(rf"^{name}\b.*rxlivechat", out, re.M), name
    assert "A running sandbox on 127.0.0.1" in out


@pytest.mark.parametrize(
    ("mode", "mark"), [("auto", ""), ("strict", "@pytest.mark.asyncio")]
)
def test_the_fixtures_work_in_both_asyncio_modes(
    pytester: pytest.Pytester, mode: str, mark: str
) -> None:
    configure(pytester, mode)
    pytester.makepyfile(test_bot=SCENARIO.format(mark=mark))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_the_options_fixtures_configure_the_sandbox_and_the_customer(
    pytester: pytest.Pytester,
) -> None:
    configure(pytester, "auto")
    pytester.makepyfile(
        test_options="""
        import pytest

        ORGANIZATIONS = []


        @pytest.fixture
        def livechat_sandbox_options():
            return {"seed": 42}


        @pytest.fixture
        def livechat_customer_options():
            return {"customer": {"name": "Ada"}, "page": {"url": "https://shop.example/"}}


        @pytest.mark.parametrize("run", [1, 2])
        async def test_seeded_and_named(livechat_sandbox, livechat_customer, run):
            ORGANIZATIONS.append(livechat_sandbox.organization_id)
            customer = livechat_sandbox.store.customers[livechat_customer.customer_id]
            assert customer.name == "Ada"
            assert customer.page_url == "https://shop.example/"
            assert len(set(ORGANIZATIONS)) == 1  # the same seed, the same ids
        """
    )
    pytester.makepyfile(
        test_marker="""
        import pytest


        @pytest.mark.livechat_sandbox(chats_per_customer=3, agents=[])
        async def test_marked(livechat_sandbox):
            assert livechat_sandbox.handlers.chats_per_customer == 3
            assert livechat_sandbox.store.agents == {}


        async def test_unmarked(livechat_sandbox):
            assert livechat_sandbox.handlers.chats_per_customer == 1
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--strict-markers")
    result.assert_outcomes(passed=4)


def test_the_tls_sandbox_gets_a_customer_that_trusts_it(
    pytester: pytest.Pytester,
) -> None:
    configure(pytester, "auto")
    pytester.makepyfile(
        test_tls="""
        import pytest


        @pytest.fixture
        def livechat_sandbox_options():
            return {"tls": True}


        async def test_over_tls(livechat_sandbox, livechat_customer):
            assert livechat_sandbox.api_url.startswith("https://")
            assert livechat_customer.connected
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_without_pytest_asyncio_the_fixtures_say_what_is_missing(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_missing="""
        def test_needs_the_sandbox(livechat_sandbox):
            pass
        """
    )
    # pytest-asyncio made unimportable, as where it is not installed.
    run = textwrap.dedent(
        """
        import sys

        class Uninstalled:
            def find_spec(self, name, path=None, target=None):
                if name.partition(".")[0] == "pytest_asyncio":
                    raise ModuleNotFoundError(f"No module named {name!r}")

        sys.meta_path.insert(0, Uninstalled())
        import pytest
        # (--assert=plain: pytest's import hook would find the module anyway)
        args = ["-p", "no:asyncio", "-p", "no:cacheprovider", "--assert=plain"]
        sys.exit(pytest.main(args))
        """
    )
    result = pytester.run(sys.executable, "-c", run)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["*the livechat_sandbox fixture needs pytest-asyncio: pip install pytest-a*"]
    )


def test_the_docs_fixture_examples_pass_in_auto_mode(
    pytester: pytest.Pytester,
) -> None:
    # docs/test_docs.py runs the same blocks in strict mode (pytest-asyncio's default).
    blocks = re.findall(
        r"<!-- runnable: pytest -->\n```python\n(.*?)\n```", DOCS.read_text(), re.S
    )
    codes = [block for block in blocks if "livechat_customer" in block]
    assert len(codes) >= 2  # the echo bot, and the network's faults
    configure(pytester, "auto")
    pytester.makepyfile(**{f"test_example_{i}": code for i, code in enumerate(codes)})
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 2 * len(codes)
    assert set(outcomes) == {"passed"}


def test_the_faults_fixture_models_a_network(pytester: pytest.Pytester) -> None:
    configure(pytester, "auto")
    pytester.makepyfile(
        test_network="""
        import time

        import pytest
        from rxlivechat import Message


        @pytest.fixture
        def livechat_sandbox_options():
            return {"seed": 3}


        async def test_latency_and_lost_replies(
            livechat_sandbox, livechat_customer, livechat_faults
        ):
            chat = await livechat_customer.start_chat()
            livechat_faults.latency(0.1)
            started = time.monotonic()
            await livechat_customer.get_customer()
            assert time.monotonic() - started >= 0.2
            livechat_faults.lose_replies("send_event", probability=1)
            # Applied, reply lost: found again by its custom_id, not re-sent.
            sent = await livechat_customer.send_event(chat.id, Message(text="hi"))
            assert sent.text == "hi" and sent.id
            await livechat_customer.get_customer()  # other actions: unaffected
            assert livechat_sandbox.count("send_event") == 1
            with pytest.raises(ValueError, match="probability"):
                livechat_faults.lose_replies(probability=2)
            livechat_faults.latency(0)
            livechat_faults.lose_replies("send_event", probability=0)
            await livechat_customer.send_event(chat.id, Message(text="hi"))
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


# A session recorded with --livechat-record, then replayed from the cassette:
# while recording the sandbox plays the agent and the drop; on replay, the cassette.
CASSETTE_TEST = """
import asyncio
import pathlib

import pytest
from rxlivechat import Message

TEXT = {text!r}


async def until(check):
    async with asyncio.timeout(10):
        while not check():
            await asyncio.sleep(0.01)


@pytest.mark.livechat_cassette("cassettes/session.jsonl")
async def test_session(livechat_sandbox, livechat_replay, livechat_customer):
    recording = livechat_replay is None
    seen = []
    livechat_customer.subscribe(lambda item: seen.append(item[0]))
    texts = []
    livechat_customer.on(
        "new_event", lambda e: texts.append(getattr(e.event, "text", None))
    )
    chat = await livechat_customer.start_chat([Message(text=TEXT)])
    if recording:
        agent = livechat_sandbox.agent("Jane")
        await agent.join(chat.id)
        await agent.send_message(chat.id, "Hi!")
    await until(lambda: "Hi!" in texts)
    await livechat_customer.send_file(
        chat.id, b"notes", name="notes.txt", content_type="text/plain"
    )
    await livechat_customer.update_chat_properties(
        chat.id, {{"test": {{"string_property": "x"}}}}
    )
    if recording:
        await livechat_sandbox.drop_connections()
    await until(lambda: "connection_restored" in seen)
    await livechat_customer.send_event(chat.id, Message(text="after the drop"))
    await until(lambda: "after the drop" in texts)
    mode = "recorded" if recording else "replayed"
    pathlib.Path(f"{{mode}}.txt").write_text("\\n".join(seen))
"""


def test_a_cassette_is_recorded_then_replayed_through_the_marker(
    pytester: pytest.Pytester,
) -> None:
    configure(pytester, "auto")
    pytester.makepyfile(test_cassette=CASSETTE_TEST.format(text="Hello?"))
    recorded = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--strict-markers", "--livechat-record"
    )
    recorded.assert_outcomes(passed=1)
    cassette = pytester.path / "cassettes" / "session.jsonl"
    assert b'"path":"/v3.6/customer/action/upload_file"' in cassette.read_bytes()
    replayed = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    replayed.assert_outcomes(passed=1)
    events = (pytester.path / "recorded.txt").read_text()
    assert "connection_lost" in events
    assert (pytester.path / "replayed.txt").read_text() == events
    # Another text: the replay fails, and says what it expected and got.
    pytester.makepyfile(test_cassette=CASSETTE_TEST.format(text="Something else"))
    diverged = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    out = diverged.stdout.str()
    assert diverged.ret != 0
    assert "CassetteMismatch" in out
    assert "the cassette expected 'start_chat' on socket 1" in out
    assert re.search(r'^E?\s*-\s+"text": "Hello\?"', out, re.M)
    assert re.search(r'^E?\s*\+\s+"text": "Something else"', out, re.M)
