"""A bridge process for the crash tests: ``python -m tests.outbox.bridge ...``.

``python -m tests.outbox.bridge STORE API_URL ACCOUNTS_URL ORG PROGRESS N``

Forwards the source lines ``line 0`` .. ``line N-1`` into the customer's chat
through ``sdk.outbox``. Each line's ``custom_id`` comes from the source
(``line-<i>``), so a line put again after a crash is the same entry. After each
``put`` the bridge records its progress in the file ``PROGRESS`` (the chat id,
then the next line), prints ``put <i>``, and at the end ``drained``. The first
run starts the chat (and prints ``chat <id>``).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import rxlivechat
from rxlivechat import Message


def save(progress: Path, chat_id: str, next_line: int) -> None:
    """Record the progress atomically (a crash leaves the old or the new)."""
    temporary = progress.with_suffix(".tmp")
    temporary.write_text(f"{chat_id} {next_line}")
    os.replace(temporary, progress)


def read(progress: Path) -> tuple[str, int] | None:
    """The chat id and the next line, if a run recorded them."""
    try:
        chat_id, next_line = progress.read_text().split()
    except FileNotFoundError:
        return None
    return chat_id, int(next_line)


async def main(
    store: str, api_url: str, accounts_url: str, org: str, progress: Path, n: int
) -> None:
    sdk = rxlivechat.init(
        organization_id=org,
        client_id="bridge",
        api_url=api_url,
        accounts_url=accounts_url,
        store=store,
        customer_key="bridge",
        request_timeout=10.0,
        reconnect_delay=(0.01, 0.2),
    )
    recorded = read(progress)
    if recorded is not None:
        chat_id, first = recorded
    else:
        chat_id, first = (await sdk.start_chat()).id, 0
        save(progress, chat_id, 0)
        print("chat", chat_id, flush=True)
    outbox = sdk.outbox
    for i in range(first, n):
        await outbox.put(chat_id, Message(text=f"line {i}", custom_id=f"line-{i}"))
        save(progress, chat_id, i + 1)
        print("put", i, flush=True)
        await asyncio.sleep(0.005)  # the source's pace: kills land mid-put too
    await outbox.drain()
    print("drained", flush=True)
    await sdk.destroy()


if __name__ == "__main__":
    store, api_url, accounts_url, org, progress, n = sys.argv[1:]
    asyncio.run(main(store, api_url, accounts_url, org, Path(progress), int(n)))
