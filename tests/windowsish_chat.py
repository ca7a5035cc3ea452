"""A short chat kept in an SQLiteStore: ``python -m tests.windowsish_chat PATH``.

Run under :mod:`tests.windowsish` by tests/test_platform.py. A sandbox and a
customer whose store is the SQLite file ``PATH``: the customer starts a chat, the
agent answers, the answer is handled (auto-commit) and flushed; a second handle on
the same customer is refused meanwhile (the per-customer lock). After the SDK
closed, the store is read back. Prints one JSON line of what happened.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import rxlivechat
from rxlivechat import Message
from rxlivechat.exceptions import StoreLockedError
from rxlivechat.sandbox import Sandbox
from rxlivechat.stores import SQLiteStore

from .helpers import until


async def chat(path: str) -> dict[str, Any]:
    result: dict[str, Any] = {"loop": type(asyncio.get_running_loop()).__name__}
    async with Sandbox() as sandbox:
        agent = sandbox.agent("Jane")
        received: list[tuple[str, str]] = []

        def record(item: tuple[str, Any]) -> None:
            name, payload = item
            if name == "new_event":
                event = payload.event
                received.append((event.id, getattr(event, "text", event.type)))

        async with rxlivechat.init(
            organization_id=sandbox.organization_id,
            client_id="windowsish",
            api_url=sandbox.api_url,
            accounts_url=sandbox.accounts_url,
            store=path,
        ) as sdk:
            sdk.subscribe(record)
            chat = await sdk.start_chat(
                [Message(text="Hello from (simulated) Windows")]
            )
            await agent.join(chat.id)
            await agent.send_message(chat.id, "Hi! Windows is fine.")
            await until(lambda: any(text.startswith("Hi!") for _, text in received))
            await sdk.flush()
            try:
                async with SQLiteStore(path).customer(
                    sandbox.organization_id, "default"
                ):
                    result["second_handle"] = "opened"
            except StoreLockedError as exc:
                result["second_handle"] = f"refused: {exc}"
        result["received"] = [text for _, text in received]
        result["last_id"] = received[-1][0]  # committed last
        customer = SQLiteStore(path).customer(sandbox.organization_id, "default")
        async with customer:
            snapshot = await customer.load()
        result["checkpoint"] = snapshot.checkpoints[chat.id].event_id
        result["identity"] = snapshot.identity is not None
    return result


if __name__ == "__main__":
    print(json.dumps(asyncio.run(chat(sys.argv[1]))), flush=True)
