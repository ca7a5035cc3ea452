"""Soak: many customers on one sandbox for minutes, under random connection drops.

    .venv/bin/python benchmarks/soak.py --customers 200 --minutes 3
    .venv/bin/python benchmarks/soak.py --latency 0.06 --lose-replies 0.01

Every customer has a chat with a scripted agent that keeps writing; a chaos task
aborts random customers' sockets. At the end it reports messages sent, received,
lost and duplicated, reconnects, and the process's memory before and after (the
second half of the run must not grow: no leak per reconnect or per message).

``--latency`` puts a network between the customers and the sandbox (each message
that late each way, plus up to ``--jitter``); ``--lose-replies`` makes the sandbox
apply that share of the customers' requests and then drop the connection before
the reply (``Sandbox.lose_replies``). Customers then also write (``send_event``),
and never send again what failed: a request that failed with ``ConnectionLost``
may or may not be in the chat (both counted), one that succeeded must be there
once, and none may be there twice unless the client itself sent it again
(``--resend`` plays the naive user who does: each duplicate is one of those).
Sandbox and customers share one process: this measures robustness and memory,
not speed. The sandbox keeps every message, so RSS grows with the run; the
client-side heap (tracemalloc, sandbox and aiohttp.web frames excluded) is the
figure that must stay flat between the middle and the end.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import time
import tracemalloc
from collections import Counter
from typing import Any

import rxlivechat
from rxlivechat import Disconnected, Message, NewEvent
from rxlivechat.exceptions import ConnectionLost, LiveChatError
from rxlivechat.sandbox import Sandbox

# Leave out what the sandbox holds (and this script's own counters), wherever in
# the call stack it was allocated.
_SERVER_SIDE = (
    tracemalloc.Filter(False, "*/rxlivechat/sandbox/*", all_frames=True),
    tracemalloc.Filter(False, "*/aiohttp/web*", all_frames=True),
    tracemalloc.Filter(False, "*/benchmarks/soak.py"),
)


def client_kib() -> int:
    """Memory allocated from client-side code (the sandbox's own excluded)."""
    snapshot = tracemalloc.take_snapshot().filter_traces(_SERVER_SIDE)
    return sum(stat.size for stat in snapshot.statistics("filename")) // 1024


def client_objects() -> int:
    """Live objects of the client's own classes (sandbox and protocol excluded).

    The cheap measure (``--no-tracemalloc``): one walk of the heap, under a
    second, where a tracemalloc snapshot holds the loop for many seconds.
    """
    counted = 0
    for o in gc.get_objects():
        module = getattr(type(o), "__module__", None)
        if isinstance(module, str) and module.startswith("rxlivechat."):
            counted += not module.startswith(
                ("rxlivechat.sandbox", "rxlivechat.protocol")
            )
    return counted


def heap_sample(memory: dict[str, int], when: str) -> None:
    """RSS, and the client's heap by tracemalloc if it runs, else by objects."""
    frozen = time.monotonic()
    gc.collect()
    memory[f"rss {when}"] = rss_kib()
    if tracemalloc.is_tracing():
        memory[f"client {when}"] = client_kib()
    else:
        memory[f"objects {when}"] = client_objects()
        memory[f"tasks {when}"] = len(asyncio.all_tasks())
    memory[f"frozen {when}"] = round(time.monotonic() - frozen)  # loop stood still


def _stopped(reason: Disconnected, stopped: list[Any]) -> None:
    """Count a stop for good; destroy() at the end says "manual" and does not."""
    if reason.reason != "manual":
        stopped.append(reason)


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def texts_in_chat(sandbox: Sandbox, chat_id: str) -> Counter[str]:
    """How many times each message text is in the chat, as the sandbox keeps it."""
    chat = sandbox.store.chats[chat_id]
    return Counter(
        e.text for t in chat.threads for e in t.events if isinstance(e, Message)
    )


async def soak(
    customers: int,
    seconds: float,
    drops_per_second: float,
    *,
    latency: float = 0.0,
    jitter: float = 0.0,
    lose_replies: float = 0.0,
    writes_per_second: float = 20.0,
    resend: bool = False,
) -> dict[str, Any]:
    rng = random.Random(1)
    customers_write = bool(latency or lose_replies)
    async with Sandbox(seed=1) as sandbox:
        sandbox.latency(latency, jitter=jitter)
        sdks: list[rxlivechat.CustomerSDK] = []
        received: list[Counter[str]] = []
        lost_events: list[int] = []
        stopped: list[Any] = []
        for _ in range(customers):
            sdk = rxlivechat.init(
                organization_id=sandbox.organization_id,
                client_id="soak",
                api_url=sandbox.api_url,
                accounts_url=sandbox.accounts_url,
                reconnect_delay=(0.05, 1.0),
                request_timeout=30,
            )
            counts: Counter[str] = Counter()

            def count(event: Any, counts: Counter[str] = counts) -> None:
                if isinstance(event, NewEvent) and isinstance(event.event, Message):
                    counts[event.event.text] += 1

            sdk.on("new_event", count)
            sdk.on("connection_lost", lambda _: lost_events.append(1))
            sdk.on("disconnected", lambda d: _stopped(d, stopped))
            sdks.append(sdk)
            received.append(counts)
        await asyncio.gather(*(s.wait_connected(timeout=60) for s in sdks))
        chats = await asyncio.gather(*(s.start_chat() for s in sdks))
        agent = sandbox.agent("Soak agent")
        for chat in chats:
            await agent.join(chat.id)
        sandbox.lose_replies(probability=lose_replies)

        sent = [0] * customers
        stop = asyncio.Event()
        memory: dict[str, int] = {}
        # What the customers wrote, by outcome of their send_event.
        written: dict[str, list[str]] = {
            "answered": [],
            "connection lost": [],
            "sent again": [],
        }
        failed: Counter[str] = Counter()
        busy: set[int] = set()  # customers with a message on the way

        async def talk() -> None:
            while not stop.is_set():
                i = rng.randrange(customers)
                sent[i] += 1
                await agent.send_message(chats[i].id, f"{i}:{sent[i]}")
                await asyncio.sleep(0.001)

        async def write(i: int, text: str, *, again: bool = False) -> None:
            try:
                await sdks[i].send_event(chats[i].id, Message(text=text))
                written["answered"].append(text)
            except ConnectionLost:  # may or may not be applied
                written["connection lost"].append(text)
                if resend and not again:  # the naive user: send it again, once
                    written["sent again"].append(text)
                    await write(i, text, again=True)
            except LiveChatError as error:
                failed[type(error).__name__] += 1
            finally:
                busy.discard(i)

        async def customers_talk() -> None:
            writing: set[asyncio.Task[None]] = set()
            n = 0
            while customers_write and not stop.is_set():
                await asyncio.sleep(rng.expovariate(writes_per_second))
                i = rng.randrange(customers)
                if i in busy:
                    continue  # one message at a time per customer, like a person
                n += 1
                busy.add(i)
                task = asyncio.ensure_future(write(i, f"c{i}:{n}"))
                writing.add(task)
                task.add_done_callback(writing.discard)
            await asyncio.gather(*writing)

        async def chaos() -> None:
            while not stop.is_set():
                await asyncio.sleep(rng.expovariate(drops_per_second))
                victim = sdks[rng.randrange(customers)].customer_id
                if victim is not None:
                    for conn in sandbox.connections_of(victim):
                        conn.abort()

        async def sample() -> None:
            await asyncio.sleep(seconds / 2)
            heap_sample(memory, "middle")

        heap_sample(memory, "start")
        started = time.monotonic()
        workers = [
            asyncio.ensure_future(c()) for c in (talk, customers_talk, chaos, sample)
        ]
        await asyncio.sleep(seconds)
        stop.set()
        await asyncio.gather(*workers)
        settling = time.monotonic()
        replies_lost = sandbox.faults.replies_lost
        sandbox.lose_replies(probability=0)  # the network heals; the latency stays
        # Let every customer reconnect and catch up.
        await asyncio.gather(*(s.wait_connected(timeout=60) for s in sdks))

        def from_agent(i: int) -> int:
            return sum(not text.startswith("c") for text in received[i])

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(
            from_agent(i) < sent[i] for i in range(customers)
        ):
            await asyncio.sleep(0.1)
        settled = time.monotonic() - settling
        heap_sample(memory, "end")
        elapsed = time.monotonic() - started
        missing = sum(max(0, sent[i] - from_agent(i)) for i in range(customers))
        in_chats: Counter[str] = Counter()
        for chat in chats:
            in_chats.update(texts_in_chat(sandbox, chat.id))
        # More new_events than the chat holds of that text (a text the script
        # sent again may be in the chat twice: two events, each due once).
        duplicated = sum(
            max(0, n - in_chats[text]) if text.startswith("c") else n - 1
            for counts in received
            for text, n in counts.items()
        )
        uncertain = written["connection lost"]
        for sdk in sdks:
            await sdk.destroy()
    result: dict[str, Any] = {
        "customers": customers,
        "seconds (of which settling at the end)": f"{elapsed:.1f} ({settled:.1f})",
        "latency (s)": f"{latency} + up to {jitter}",
        "share of replies lost": lose_replies,
        "messages sent": sum(sent),
        "messages received": sum(from_agent(i) for i in range(customers)),
        "lost": missing,
        "duplicated": duplicated,
    }
    if customers_write:
        customer_texts = [text for text in in_chats if text.startswith("c")]
        result |= {
            "replies lost by the sandbox": replies_lost,
            "customer messages answered": len(written["answered"]),
            "answered, not in the chat (lost)": sum(
                in_chats[text] == 0 for text in written["answered"]
            ),
            "failed with ConnectionLost": len(uncertain),
            "of which in the chat (applied)": sum(in_chats[t] > 0 for t in uncertain),
            "failed otherwise": dict(failed) or 0,
            "sent again by the script (--resend)": len(written["sent again"]),
            "customer messages in the chats twice or more": sum(
                in_chats[text] > 1 for text in customer_texts
            ),
        }
    return (
        result
        | {
            "connection drops seen": len(lost_events),
            "customers stopped for good": len(stopped),
        }
        | memory_figures(memory)
    )


def memory_figures(memory: dict[str, int]) -> dict[str, Any]:
    def mib(when: str) -> float:
        return round(memory.get(f"rss {when}", 0) / 1024, 1)

    figures: dict[str, Any] = {
        "RSS start → middle → end (MiB)": f"{mib('start')} → {mib('middle')} → "
        f"{mib('end')}",
    }
    if "client end" in memory:
        figures["client-side heap, middle → end (KiB)"] = (
            f"{memory.get('client middle', 0)} → {memory['client end']}"
        )
    else:
        for key, name in (
            ("objects", "client objects (rxlivechat classes)"),
            ("tasks", "asyncio tasks"),
        ):
            figures[f"{name}, start → middle → end"] = " → ".join(
                str(memory.get(f"{key} {when}", 0))
                for when in ("start", "middle", "end")
            )
    figures["loop frozen by the middle heap sample (s)"] = memory.get(
        "frozen middle", 0
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--drops-per-second", type=float, default=5.0)
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds each way, per message"
    )
    parser.add_argument("--jitter", type=float, default=0.0, help="up to, seconds")
    parser.add_argument(
        "--lose-replies",
        type=float,
        default=0.0,
        help="share of requests applied whose reply is then lost (0 to 1)",
    )
    parser.add_argument(
        "--writes-per-second",
        type=float,
        default=20.0,
        help="customer messages, all customers together (with a network fault)",
    )
    parser.add_argument(
        "--resend",
        action="store_true",
        help="send again, once, what failed with ConnectionLost (the naive retry)",
    )
    parser.add_argument(
        "--no-tracemalloc",
        action="store_true",
        help="count the client's objects instead (its snapshots hold the loop)",
    )
    args = parser.parse_args()
    if not args.no_tracemalloc:
        tracemalloc.start(25)
    result = asyncio.run(
        soak(
            args.customers,
            args.minutes * 60,
            args.drops_per_second,
            latency=args.latency,
            jitter=args.jitter,
            lose_replies=args.lose_replies,
            writes_per_second=args.writes_per_second,
            resend=args.resend,
        )
    )
    print("| measure | value |\n|---|---|")
    for key, value in result.items():
        print(f"| {key} | {value} |")


if __name__ == "__main__":
    main()
