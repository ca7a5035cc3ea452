"""Each action declared once: constraints on its Struct, v1 names over v3.6 methods.

Against the sandbox: a refusal names the caller's argument (not the wire field
it is sent as), nothing is sent, and each v1 alias sends exactly the request of
its v3.6 twin.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import rxlivechat.methods
from rxlivechat import CustomerSDK, InvalidArgumentError
from rxlivechat.protocol import methods as m
from rxlivechat.protocol.models import (
    Message,
    Postback,
    RichMessageButton,
    RichMessageElement,
)
from rxlivechat.sandbox import Sandbox

WHEN = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)

# (call, what the message must say): the argument's own name, and why.
REFUSALS: dict[str, tuple[Callable[[CustomerSDK], Any], str]] = {
    "an empty chat id sent as id": (
        lambda s: s.deactivate_chat(""),
        "chat_id must not be empty",
    ),
    "v1's close_thread, through deactivate_chat": (
        lambda s: s.close_thread(""),
        "chat_id must not be empty",
    ),
    "a group id sent as id": (
        lambda s: s.list_group_properties(-1),
        "group_id: expected int >= 0",
    ),
    "a text sent as sneak_peek_text": (
        lambda s: s.send_sneak_peek("C", 5),  # type: ignore[arg-type]
        "text: expected str, got int",
    ),
    "resume_chat's chat id, nested in chat.id": (
        lambda s: s.resume_chat(""),
        "chat_id must not be empty",
    ),
    "a URL": (
        lambda s: s.get_url_info("example.com"),
        "url must be an http(s) URL",
    ),
    "a sort order": (
        lambda s: s.list_chats(sort_order="newest"),  # type: ignore[arg-type]
        "sort_order must be 'asc' or 'desc'",
    ),
    "a form type": (
        lambda s: s.get_form(0, "survey"),  # type: ignore[arg-type]
        "type must be 'prechat', 'postchat' or 'ticket'",
    ),
    "a naive time": (
        lambda s: s.mark_events_as_seen("C", datetime.datetime(2030, 1, 1)),
        "seen_up_to must be timezone-aware",
    ),
    "empty property names": (
        lambda s: s.delete_chat_properties("C", {}),
        "properties must not be empty",
    ),
    "a session field of two keys": (
        lambda s: s.set_customer_session_fields([{"a": "b", "c": "d"}]),
        "session_fields[0] must be a single-key map",
    ),
    "a bool as a greeting id": (
        lambda s: s.accept_greeting(True, "u"),
        "greeting_id: expected int, got bool",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
async def test_a_refusal_names_the_argument(
    case: str, sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    call, said = REFUSALS[case]
    before = sandbox.count()
    with pytest.raises(InvalidArgumentError) as refused:
        call(sdk)
    assert said in str(refused.value)
    assert sandbox.count() == before


def _sent(sandbox: Sandbox, action: str) -> list[Any]:
    return [r.payload for r in sandbox.requests if r.action == action]


async def test_each_v1_alias_sends_its_v36_twins_request(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    chat = await sdk.start_chat([Message(text="hi")])
    assert chat.thread is not None
    thread_id = chat.thread.id
    agent = sandbox.agent("Jane")
    await agent.join(chat.id)
    choice = RichMessageButton(text="Yes", type="message", postback_id="yes")
    button = await agent.send_rich_message(
        chat.id, [RichMessageElement(title="Ready?", buttons=[choice])]
    )
    assert button.id is not None
    props = {"routing": {"transcript_email": "a@example.com"}}

    await sdk.update_chat_thread_properties(chat.id, thread_id, props)
    await sdk.update_thread_properties(chat.id, thread_id, props)
    v1, v36 = _sent(sandbox, "update_thread_properties")
    assert v1 == v36 == m.UpdateThreadProperties(chat.id, thread_id, props)

    seen = await sdk.update_last_seen_timestamp(chat.id, WHEN)
    assert seen.timestamp == WHEN
    await sdk.mark_events_as_seen(chat.id, WHEN)
    v1, v36 = _sent(sandbox, "mark_events_as_seen")
    assert v1 == v36 == m.MarkEventsAsSeen(chat_id=chat.id, seen_up_to=WHEN)

    postback = Postback(id="yes", toggled=True)
    await sdk.send_postback(chat.id, thread_id, button.id, "yes")
    await sdk.send_rich_message_postback(chat.id, thread_id, button.id, postback)
    v1, v36 = _sent(sandbox, "send_rich_message_postback")
    assert v1 == v36

    closed = await sdk.close_thread(chat.id)
    assert closed.success is True
    await sdk.resume_chat(chat.id)
    assert await sdk.deactivate_chat(chat.id) is not None
    v1, v36 = _sent(sandbox, "deactivate_chat")
    assert v1 == v36 == m.DeactivateChat(id=chat.id)


def test_no_method_writes_the_engines_chat_state() -> None:
    """Chat state is the engine's (bounded by MAX_CHATS): methods report to it."""
    folder = Path(rxlivechat.methods.__file__).parent
    for source in sorted(folder.glob("*.py")):
        for number, line in enumerate(source.read_text().splitlines(), 1):
            assert not re.search(r"active_chats\[[^]]*\]\s*=", line), (
                f"{source.name}:{number} writes the engine's chat state: "
                "call engine.remember_chat(chat_id, active)"
            )
