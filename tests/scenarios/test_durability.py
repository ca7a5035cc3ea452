"""A customer run as a service survives SIGKILL: same identity, no lost event.

The sandbox runs here. In the first tests the customer is a real child process
(:mod:`tests.scenarios.durable_customer`) killed at random moments while a
scripted agent keeps talking, and restarted on the same store each time; the
others run one SDK life after another in this process: auto and manual commits,
the commit operator, replay once per life, the store's errors.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import random
import signal
import sqlite3
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import reactivex as rx
from reactivex import operators as ops

import rxlivechat
from rxlivechat import (
    CustomerSDK,
    InvalidArgumentError,
    Message,
    NewEvent,
    StoreCorruptError,
    StoreError,
    StoreLockedError,
)
from rxlivechat.engine.recovery import RECOVERY_PAGE_SIZE
from rxlivechat.sandbox import Sandbox, ScriptedAgent
from rxlivechat.stores import Identity, MemoryStore, RedisStore, SQLiteStore

from ..helpers import Recorder, connect, until
from ..redis_server import RedisServer

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = 400
KILLS = 12
RATE = 30.0
"""The agent's messages a second (on average)."""
FLUSH_INTERVAL = 0.05
"""The child's store flushes this often (the stores' default)."""


class Life:
    """One run of the customer process, until it is killed."""

    def __init__(self, process: asyncio.subprocess.Process, out: Path) -> None:
        self.process = process
        self.out = out

    @classmethod
    async def start(cls, sandbox: Sandbox, store: str, out: Path) -> Life:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.scenarios.durable_customer",
            store,
            sandbox.api_url,
            sandbox.accounts_url,
            sandbox.organization_id,
            str(out),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
        )
        return cls(process, out)

    async def said(self, word: str) -> str:
        """The rest of the next line starting with ``word``."""
        assert self.process.stdout is not None
        async with asyncio.timeout(30):
            while True:
                line = (await self.process.stdout.readline()).decode()
                assert line, f"the customer exited ({await self.process.wait()})"
                if line.startswith(word):
                    return line[len(word) :].strip()

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    def lines(self, kind: str) -> list[int]:
        if not self.out.exists():
            return []
        words = self.out.read_text().split()
        return [int(word[1:]) for word in words if word.startswith(kind)]

    def received(self) -> list[int]:
        """The numbers of the messages this life's subscriber got, in order."""
        return self.lines("m")

    def durable(self) -> int:
        """The newest message this life knew committed for good (-1: none)."""
        return max(self.lines("d"), default=-1)


class Tally:
    """What the lives of a killed customer received, counted per message."""

    def __init__(self, lives: list[Life], sent_at: list[float]) -> None:
        self.sent = len(sent_at)
        self.lives_of: Counter[int] = Counter()
        for life in lives:
            self.lives_of.update(set(life.received()))
        self.lost = self.sent - len(self.lives_of.keys() & set(range(self.sent)))
        self.duplicates = sum(n - 1 for n in self.lives_of.values())
        self.max_lives = max(self.lives_of.values(), default=0)
        # The most messages the agent sent within any one flush interval.
        self.burst = max(
            bisect.bisect_right(sent_at, t + FLUSH_INTERVAL) - i
            for i, t in enumerate(sent_at)
        )
        self.bound = (self.burst + RECOVERY_PAGE_SIZE) * KILLS

    def __str__(self) -> str:
        worst = sorted(m for m, n in self.lives_of.items() if n == self.max_lives)
        return (
            f"{KILLS} kills, {self.sent} messages: lost {self.lost}, "
            f"{self.duplicates} duplicates (bound {self.bound}), "
            f"at most {self.max_lives} lives a message ({worst[:8]}...)"
        )


async def handed_out_live(life: Life, sent_at: list[float]) -> None:
    """Wait until ``life`` handed out a message sent after its replay began.

    A life hands out its replay in one burst, then the live messages; killed
    in between, before the replay is written, it would replay it in a third
    life (at least once allows that). The SDK writes the replay before it hands
    out anything live. A checkpoint that never advances never gets here.
    """
    async with asyncio.timeout(20):
        while not life.received():
            await asyncio.sleep(0.005)
        live = len(sent_at) + 1  # the message in flight may be in the replay
        while life.received()[-1] < live:
            await asyncio.sleep(0.005)


async def run_killed_customer(store: str, tmp_path: Path, seed: int) -> Tally:
    """Kill the customer :data:`KILLS` times while an agent sends :data:`MESSAGES`."""
    rng = random.Random(seed)
    sent_at: list[float] = []
    async with Sandbox() as sandbox:
        agent = sandbox.agent("Jane")
        lives = [await Life.start(sandbox, store, tmp_path / "life0.txt")]
        try:
            first = lives[0]
            customer_id = await first.said("customer")
            chat_id = await first.said("chat")
            await first.said("ready")
            await agent.join(chat_id)
            loop = asyncio.get_running_loop()
            killing = True

            async def talk() -> None:
                # Hundreds of messages, and on until the last kill is done.
                while len(sent_at) < MESSAGES or killing:
                    await agent.send_message(chat_id, f"m{len(sent_at)}")
                    sent_at.append(loop.time())
                    await asyncio.sleep(rng.uniform(0.0, 2 / RATE))

            talking = asyncio.ensure_future(talk())
            for n in range(1, KILLS + 1):
                life = lives[-1]
                # Half the kills come as soon as the life handed out a live
                # message, the others at a random moment of its first 0.8 s.
                early = rng.random() < 0.5
                moment = loop.time() + rng.uniform(0.05, 0.8)
                await handed_out_live(life, sent_at)
                if not early:
                    await asyncio.sleep(max(0.0, moment - loop.time()))
                await life.kill()
                lives.append(
                    await Life.start(sandbox, store, tmp_path / f"life{n}.txt")
                )
                # The same customer every life: the stored cookies gave it back.
                assert await lives[-1].said("customer") == customer_id
            killing = False
            await talking
            async with asyncio.timeout(40):
                while not set(range(len(sent_at))) <= {
                    m for life in lives for m in life.received()
                }:
                    await asyncio.sleep(0.02)
        finally:
            for life in lives:
                await life.kill()

    tally = Tally(lives, sent_at)
    print(tally)
    seen = -1  # the newest message any earlier life received
    durable = -1  # the newest message an earlier life knew committed for good
    for life in lives:
        log = life.received()
        if log:
            # Each life: in order, every message once (no gap, no repeat).
            assert log == list(range(log[0], log[0] + len(log)))
            assert log[0] <= seen + 1, "a message was lost between two lives"
            # Repeats are only what was handed out and not yet written.
            assert log[0] > durable, "a committed message was delivered again"
            seen = max(seen, log[-1])
        durable = max(durable, life.durable())
    return tally


def assert_bounded(tally: Tally) -> None:
    assert tally.lost == 0
    assert tally.max_lives <= 2, str(tally)
    assert tally.duplicates <= tally.bound, str(tally)


@pytest.mark.slow
async def test_a_killed_sqlite_customer_keeps_its_identity_and_every_message(
    tmp_path: Path,
) -> None:
    assert_bounded(
        await run_killed_customer(str(tmp_path / "customer.db"), tmp_path, seed=15)
    )


@pytest.mark.slow
async def test_a_killed_redis_customer_keeps_its_identity_and_every_message(
    tmp_path: Path, redis_url: str
) -> None:
    assert_bounded(await run_killed_customer(redis_url, tmp_path, seed=16))


# One process, one life after another: the SDK on the same store -----------------


def agent_texts(seen: Recorder, agent: ScriptedAgent) -> list[str]:
    return seen.texts_by(agent.id)


async def first_life(
    sandbox: Sandbox, store: str, **options: Any
) -> tuple[CustomerSDK, Recorder, str, ScriptedAgent]:
    """A customer with a chat an agent joined."""
    sdk = connect(sandbox, store=store, **options)
    seen = Recorder(sdk)
    await sdk.wait_connected(timeout=5)
    chat = await sdk.start_chat()
    agent = sandbox.agent("Jane")
    await agent.join(chat.id)
    return sdk, seen, chat.id, agent


async def test_auto_commit_replays_only_what_came_while_down(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    store = str(tmp_path / "customer.db")
    sdk, seen, chat_id, agent = await first_life(sandbox, store)
    for i in range(3):
        await agent.send_message(chat_id, f"a{i}")
    await until(lambda: len(agent_texts(seen, agent)) == 3)
    customer_id = sdk.customer_id
    await sdk.destroy()
    for i in range(3, 5):  # nobody listens
        await agent.send_message(chat_id, f"a{i}")

    sdk = connect(sandbox, store=store)
    seen = Recorder(sdk)
    await seen.wait_for("connected")
    await agent.send_message(chat_id, "live")
    await until(lambda: "live" in agent_texts(seen, agent))
    assert sdk.customer_id == customer_id
    assert agent_texts(seen, agent) == ["a3", "a4", "live"]  # replay first, once
    await sdk.destroy()


async def test_a_restart_writes_its_replay_before_anything_live(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "customer.db"
    sdk, seen, chat_id, agent = await first_life(sandbox, str(path))
    await agent.send_message(chat_id, "a0")
    await until(lambda: agent_texts(seen, agent) == ["a0"])
    await sdk.destroy()
    for i in (1, 2):  # nobody listens
        await agent.send_message(chat_id, f"a{i}")

    # No batch would be written for an hour: only the replay's own write counts.
    sdk = connect(sandbox, store=SQLiteStore(path, flush_interval=3600))
    seen = Recorder(sdk)
    await seen.wait_for("connected")
    await agent.send_message(chat_id, "live")
    await until(lambda: "live" in agent_texts(seen, agent))
    ids = {
        e.event.text: e.event.id
        for e in seen.of("new_event")
        if isinstance(e.event, Message)
    }

    def written() -> str:  # read beside the SDK, as a new life would
        with contextlib.closing(sqlite3.connect(path)) as db:
            (event_id,) = db.execute("SELECT event_id FROM checkpoints").fetchone()
        return str(event_id)

    # a2, or "live" if it was sent before the recovery asked (then replayed too,
    # and the write may still be under way); left to the hourly batch, it would
    # stay a0.
    await until(lambda: written() in (ids["a2"], ids["live"]))
    await sdk.destroy()


async def test_manual_commit_moves_the_checkpoint_only_past_a_gapless_prefix(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    store = str(tmp_path / "customer.db")
    sdk, seen, chat_id, agent = await first_life(sandbox, store, auto_commit=False)
    for i in range(5):
        await agent.send_message(chat_id, f"a{i}")
    await until(lambda: len(agent_texts(seen, agent)) == 5)
    news = {
        e.event.text: e for e in seen.of("new_event") if isinstance(e.event, Message)
    }
    assert sdk.commit(news["a0"])
    assert sdk.commit(("new_event", news["a1"]))  # the event stream's pair
    assert sdk.commit(news["a3"].event, chat_id)  # a2 is not: a3 waits on it
    assert not sdk.commit(news["a0"])  # committed already
    await sdk.destroy()

    sdk = connect(sandbox, store=store, auto_commit=False)
    seen = Recorder(sdk)
    await seen.wait_for("connected")
    await until(lambda: len(agent_texts(seen, agent)) == 3)
    assert agent_texts(seen, agent) == ["a2", "a3", "a4"]
    await sdk.destroy()


async def test_a_replay_comes_once_per_life_even_across_reconnects(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    store = str(tmp_path / "customer.db")
    sdk, seen, chat_id, agent = await first_life(sandbox, store, auto_commit=False)
    await agent.send_message(chat_id, "a0")
    await until(lambda: agent_texts(seen, agent) == ["a0"])
    await sdk.destroy()  # never committed

    fast = {"reconnect_delay": (0.005, 0.05), "reconnects_per_minute": 10_000}
    sdk = connect(sandbox, store=store, auto_commit=False, **fast)
    seen = Recorder(sdk)
    await until(lambda: agent_texts(seen, agent) == ["a0"])
    await sandbox.drop_connections()
    await seen.wait_for("connection_restored")
    await agent.send_message(chat_id, "a1")
    await until(lambda: "a1" in agent_texts(seen, agent))
    assert agent_texts(seen, agent) == ["a0", "a1"]  # not replayed again
    await sdk.destroy()


async def test_the_commit_operator_commits_at_the_end_of_an_async_pipeline(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    store = str(tmp_path / "customer.db")
    sdk, _, chat_id, agent = await first_life(sandbox, store, auto_commit=False)
    archived: list[str] = []

    async def archive(new: NewEvent) -> NewEvent:
        await asyncio.sleep(0.01)  # the handling outlives on_next
        if isinstance(new.event, Message) and new.event.author_id == agent.id:
            archived.append(new.event.text)
        return new

    def is_new_event(item: tuple[str, Any]) -> bool:
        return item[0] == "new_event"

    def archived_later(item: tuple[str, Any]) -> rx.Observable[NewEvent]:
        return rx.from_future(asyncio.ensure_future(archive(item[1])))

    sdk.pipe(
        ops.filter(is_new_event),
        ops.flat_map(archived_later),
        rxlivechat.commit(sdk),
    ).subscribe()
    for i in range(3):
        await agent.send_message(chat_id, f"a{i}")
    await until(lambda: len(archived) == 3)
    await until(lambda: sdk.uncommitted == 0)
    await sdk.destroy()

    sdk = connect(sandbox, store=store, auto_commit=False)
    seen = Recorder(sdk)
    await seen.wait_for("connected")
    await agent.send_message(chat_id, "live")
    await until(lambda: "live" in agent_texts(seen, agent))
    assert agent_texts(seen, agent) == ["live"]  # everything archived was committed
    await sdk.destroy()


async def test_a_customer_open_in_another_sdk_is_refused_with_a_clear_error(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    store = str(tmp_path / "customer.db")
    holder = connect(sandbox, store=store)
    await holder.wait_connected(timeout=5)
    second = connect(sandbox, store=store)
    seen = Recorder(second)
    with pytest.raises(StoreLockedError):
        await second.wait_connected(timeout=5)
    assert isinstance(seen.of("error")[0], StoreLockedError)
    assert seen.of("disconnected")[0].reason == "store_error"
    other = connect(sandbox, store=store, customer_key="another")  # a customer each
    await other.wait_connected(timeout=5)
    for sdk in (holder, second, other):
        await sdk.destroy()


async def test_a_file_that_is_no_store_is_refused_and_left_alone(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database, and precious\n" * 100)
    sdk = connect(sandbox, store=str(path))
    with pytest.raises(StoreCorruptError):
        await sdk.wait_connected(timeout=5)
    assert path.read_text() == "not a database, and precious\n" * 100
    await sdk.destroy()


async def test_an_emptied_store_stops_the_sdk_instead_of_making_a_new_customer(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "customer.db"
    sdk = connect(sandbox, store=str(path))
    await sdk.wait_connected(timeout=5)
    await sdk.destroy()
    path.write_bytes(b"")  # a failed restore, a full disk
    sdk = connect(sandbox, store=str(path))
    seen = Recorder(sdk)
    with pytest.raises(StoreCorruptError, match="is empty"):
        await sdk.wait_connected(timeout=5)
    assert isinstance(seen.of("error")[0], StoreCorruptError)
    assert seen.of("disconnected")[0].reason == "store_error"
    assert sdk.customer_id is None  # never logged in as anyone
    await sdk.destroy()
    assert path.read_bytes() == b""


async def test_a_flushed_redis_is_reported_and_never_quietly_a_new_customer(
    sandbox: Sandbox,
    redis_url: str,
    redis_server: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sdk, seen, chat_id, agent = await first_life(sandbox, redis_url)
    await agent.send_message(chat_id, "a0")
    await until(lambda: agent_texts(seen, agent) == ["a0"])
    await sdk.flush()
    customer_id = sdk.customer_id
    assert redis_server.command(b"FLUSHALL") == b"+OK"  # or a restart, no AOF
    await agent.send_message(chat_id, "a1")
    await until(lambda: bool(seen.of("error")))
    for error in seen.of("error"):  # one per failed try of the batch
        assert isinstance(error, StoreError)
        assert "vanished" in str(error)
    assert "vanished" in caplog.text  # a WARNING too
    with pytest.raises(StoreError, match="vanished"):
        await sdk.flush()
    assert agent_texts(seen, agent) == ["a0", "a1"]  # delivery goes on
    await sdk.destroy()  # a1's commit cannot be written: logged, not raised

    sdk = connect(sandbox, store=redis_url)
    seen = Recorder(sdk)
    with pytest.raises(StoreError, match="on_lost_identity='new'"):
        await sdk.wait_connected(timeout=5)
    assert seen.of("disconnected")[0].reason == "store_error"
    assert sdk.customer_id is None
    await sdk.destroy()

    sdk = connect(sandbox, store=RedisStore(redis_url, on_lost_identity="new"))
    await sdk.wait_connected(timeout=5)
    assert sdk.customer_id not in (None, customer_id)  # a new customer, as asked
    await sdk.destroy()


async def test_commit_refuses_what_is_not_an_event(sandbox: Sandbox) -> None:
    sdk = connect(sandbox, auto_commit=False)
    with pytest.raises(InvalidArgumentError):
        sdk.commit("e1")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        sdk.commit(Message(id="e1", text="x"))  # no chat
    with pytest.raises(InvalidArgumentError):
        sdk.commit(Message(text="x"), "c1")  # no id
    await sdk.destroy()


async def test_an_identity_the_accounts_api_refuses_is_reported_and_replaced(
    sandbox: Sandbox,
) -> None:
    store = MemoryStore()
    ghost = Identity(
        customer_id="ghost",
        organization_id=sandbox.organization_id,
        client_id="test-client",
        cookies={"__lc_cid": "ghost", "__lc_cst": "not-its-secret"},
    )
    async with store.customer(sandbox.organization_id) as customer:
        await customer.save_identity(ghost)
    sdk = connect(sandbox, store=store)
    seen = Recorder(sdk)
    await sdk.wait_connected(timeout=5)
    assert sdk.customer_id not in (None, "ghost")  # a new customer
    (error,) = seen.of("error")
    assert isinstance(error, StoreError)
    assert "ghost" in str(error)
    async with store.customer(sandbox.organization_id) as customer:
        identity = (await customer.load()).identity
    assert identity is not None
    assert identity.customer_id == sdk.customer_id
    assert identity.cookies["__lc_cid"] == sdk.customer_id
    await sdk.destroy()
