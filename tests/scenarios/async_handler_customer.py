"""A customer with an ``async def`` handler, for the crash test: killed mid-handler.

``python -m tests.scenarios.async_handler_customer STORE API_URL ACCOUNTS_URL ORG OUT
[hang]``

Connects with ``store=STORE`` and auto-commit, starts a chat if the customer has
none, and handles each agent message in an async handler (one at a time, the
default): appends ``begin TEXT`` to ``OUT``, and ``end TEXT`` when done. With
``hang``, a message starting with ``slow`` never ends: the handler waits until
the process is killed. Prints ``customer <id>``, ``chat <id>`` and ``ready``,
then ``flushed`` after each flush of the store, every 0.05 s: a ``flushed``
that began after an ``end`` line means that message is committed for good.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any, TextIO

import rxlivechat
from rxlivechat import Connected, Message, NewEvent


async def serve(
    store: str,
    api_url: str,
    accounts_url: str,
    org: str,
    out: TextIO,
    hang: bool,
) -> None:
    sdk = rxlivechat.init(
        organization_id=org,
        client_id="async-handler-test",
        api_url=api_url,
        accounts_url=accounts_url,
        store=store,
        reconnect_delay=(0.01, 0.1),
    )

    def write(line: str) -> None:
        out.write(f"{line}\n")
        out.flush()

    async def handle(new: NewEvent) -> None:
        event = new.event
        if not isinstance(event, Message) or event.author_id == sdk.customer_id:
            return
        write(f"begin {event.text}")
        await asyncio.sleep(0.01)  # the work takes a while
        if hang and event.text.startswith("slow"):
            await asyncio.Event().wait()  # until SIGKILL
        write(f"end {event.text}")

    connected: asyncio.Future[Connected] = asyncio.get_running_loop().create_future()

    def on_connected(payload: Any) -> None:
        if not connected.done():
            connected.set_result(payload)

    sdk.on("new_event", handle)
    sdk.once("connected", on_connected)
    summary = await connected
    print(f"customer {summary.customer_id}", flush=True)
    if not summary.chats_summary:
        chat = await sdk.start_chat()
        print(f"chat {chat.id}", flush=True)
    print("ready", flush=True)
    while True:
        await asyncio.sleep(0.05)
        await sdk.flush()
        print("flushed", flush=True)


if __name__ == "__main__":
    store, api_url, accounts_url, org, path = sys.argv[1:6]
    with open(path, "a", encoding="utf-8") as out:
        asyncio.run(
            serve(store, api_url, accounts_url, org, out, "hang" in sys.argv[6:])
        )
