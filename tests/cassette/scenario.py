"""The scripted session the cassette tests record, then replay.

A chat, messages both ways, a file upload, properties, a drop and a reconnect.
While recording, the sandbox plays the agent and the drop; on replay the
cassette does, and the same calls must produce the same events in the same order.
"""

from __future__ import annotations

from typing import Any

from rxlivechat import CustomerSDK, Message, NewEvent
from rxlivechat.sandbox import Sandbox

from ..helpers import Recorder, until

HELLO = "Hello, is anyone there?"
ANSWER = "Hi! How can I help?"
LATER = "Still there after the drop?"
FILE = b"shipping notes\n" * 40
PROPERTIES = {"test": {"string_property": "rolled back"}}


async def session(sdk: CustomerSDK, sandbox: Sandbox | None = None) -> list[Any]:
    """Run the session; ``sandbox`` while recording (it acts the agent's part).

    Returns:
        What the customer saw: each event's name, with the texts, ids and
        properties that say it is the same event.
    """
    seen = Recorder(sdk)
    await sdk.wait_connected(timeout=10)
    chat = await sdk.start_chat([Message(text=HELLO)])
    agent = None
    if sandbox is not None:
        agent = sandbox.agent("Jane")
        assert await agent.next_chat() == chat.id
        await agent.join(chat.id)
        await agent.send_message(chat.id, ANSWER)
    await until(lambda: ANSWER in _texts(seen))
    await sdk.send_event(chat.id, Message(text="A file follows"))
    await sdk.send_file(chat.id, FILE, name="notes.txt", content_type="text/plain")
    await sdk.update_chat_properties(chat.id, PROPERTIES)
    if sandbox is not None:
        await sandbox.drop_connections()
    await seen.wait_for("connection_restored")
    await sdk.send_event(chat.id, Message(text=LATER))
    if agent is not None:
        await agent.send_message(chat.id, "Yes, I am.")
    await until(lambda: "Yes, I am." in _texts(seen))
    await sdk.destroy()
    return [_summary(name, payload) for name, payload in seen.items]


def _texts(seen: Recorder) -> list[str]:
    return [
        e.event.text
        for e in seen.of("new_event")
        if isinstance(e, NewEvent) and isinstance(e.event, Message)
    ]


def _summary(name: str, payload: Any) -> Any:
    if isinstance(payload, NewEvent):
        event = payload.event
        return (name, payload.chat, event.id, getattr(event, "text", None))
    fields = ("chat_id", "id", "customer_id", "properties", "reason")
    return (name, *(str(getattr(payload, f, "")) for f in fields))
