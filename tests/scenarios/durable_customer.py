"""A customer run as a service, for the durability test: killed and restarted.

``python -m tests.scenarios.durable_customer STORE API_URL ACCOUNTS_URL ORG OUT``

Connects with ``store=STORE`` (a path or a redis:// URL), starts a chat if the
customer has none, and appends the text of every agent message its subscriber
receives to the file ``OUT``, one per line (``m12``), flushed before the
subscriber returns (so before the SDK commits it). Every 0.1 s it flushes the
store and then appends ``d12``: every message up to ``m12`` is committed for
good, so no later life may replay it. Prints ``customer <id>``, ``chat <id>``
and ``ready`` on stdout, then runs until killed.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any, TextIO

import rxlivechat
from rxlivechat import Connected, Message, NewEvent


async def serve(
    store: str, api_url: str, accounts_url: str, org: str, received: TextIO
) -> None:
    # Written synchronously on purpose: on disk before the subscriber returns.
    sdk = rxlivechat.init(
        organization_id=org,
        client_id="durable-test",
        api_url=api_url,
        accounts_url=accounts_url,
        store=store,
        reconnect_delay=(0.01, 0.1),
    )

    handled: list[str] = []

    def handle(new: NewEvent) -> None:
        event = new.event
        if isinstance(event, Message) and event.author_id != sdk.customer_id:
            received.write(f"{event.text}\n")
            received.flush()
            handled.append(event.text)

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
        await asyncio.sleep(0.1)
        if handled:
            last = handled[-1]
            await sdk.flush()  # every commit made before it is now written
            received.write(f"d{last[1:]}\n")
            received.flush()


if __name__ == "__main__":
    store, api_url, accounts_url, org, out = sys.argv[1:6]
    with open(out, "a", encoding="utf-8") as received:
        asyncio.run(serve(store, api_url, accounts_url, org, received))
