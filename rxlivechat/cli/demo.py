"""The main job: a customer and a scripted agent chat on the embedded sandbox.

``python -m rxlivechat demo`` (``make demo``) runs :func:`run_demo`: it starts the
sandbox, connects a customer, starts a chat, lets a scripted agent join, type and
answer, prints the live event stream through an RxPY pipeline, then walks the
chat's history, and exits with status 0.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TextIO

from .. import init
from ..protocol.models import Message
from ..sandbox import Sandbox

__all__ = ["run_demo"]

QUESTIONS = (
    "Hi! Do you ship to Norway?",
    "How long does it take?",
    "Great, thanks!",
)
ANSWERS = (
    "Hello! Yes, we ship to all of Europe.",
    "Usually 3 to 5 working days.",
    "You're welcome. Have a nice day!",
)


def describe(name: str, payload: Any, names: dict[str, str]) -> str:
    """One readable line for an event of the SDK's stream."""

    def who(user_id: str | None) -> str:
        return names.get(user_id or "", (user_id or "system")[:8])

    match name:
        case "new_event":
            event = payload.event
            text = getattr(event, "text", None) or f"<{event.type}>"
            return f"{name:<21} {who(event.author_id):>8}: {text}"
        case "user_is_typing" | "user_stopped_typing" | "user_joined_chat":
            return f"{name:<21} {who(payload.user):>8}"
        case "connected":
            return f"{name:<21} as customer {payload.customer_id[:8]}"
        case _:
            return name


def print_line(write: Callable[[str], object], line: str) -> None:
    """Write one line of the live stream."""
    write(f"  │ {line}\n")


async def run_demo(replies: int = 3, out: TextIO | None = None) -> int:
    """Run the demo; returns the exit status (0)."""
    import sys

    write = (out or sys.stdout).write
    replies = max(1, min(replies, len(QUESTIONS)))
    async with Sandbox() as sandbox:
        write(
            f"sandbox on {sandbox.api_url} (organization {sandbox.organization_id})\n"
        )
        agent = sandbox.agent("Jane")
        async with init(
            organization_id=sandbox.organization_id,
            client_id="rxlivechat-demo",
            api_url=sandbox.api_url,
            accounts_url=sandbox.accounts_url,
        ) as sdk:
            # The live event stream, through an RxPY pipeline.
            names = {agent.id: agent.name}
            sdk.on(
                "customer_id", lambda customer_id: names.update({customer_id: "you"})
            )
            printing = (
                sdk.filter(lambda item: item[0] not in {"user_data", "customer_id"})
                .map(lambda item: describe(item[0], item[1], names))
                .subscribe(lambda line: print_line(write, line))
            )
            await sdk.wait_connected(timeout=10)

            chat = await sdk.start_chat([Message(text=QUESTIONS[0])])
            await agent.join(chat.id)
            for turn in range(replies):
                if turn:
                    await sdk.send_event(chat.id, Message(text=QUESTIONS[turn]))
                await agent.typing(chat.id, True)
                await asyncio.sleep(0.2)
                await agent.typing(chat.id, False)
                await agent.send_message(chat.id, ANSWERS[turn])
            await sdk.rate_chat(chat.id, "good", comment="Quick and friendly")
            await sdk.close_thread(chat.id)
            await asyncio.sleep(0.1)
            printing.dispose()

            write("\nhistory (pages newest first; within a page, oldest first):\n")
            async for page in sdk.get_chat_history(chat.id):
                for event in page.value:
                    text = getattr(event, "text", None) or f"<{event.type}>"
                    author = names.get(event.author_id or "", "system")
                    write(f"  {event.created_at:%H:%M:%S.%f}  {author:>6}: {text}\n")
    write("done\n")
    return 0
