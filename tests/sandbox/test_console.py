"""The agent console's backend: its page, its JSON API and live feed, its guards.

A raw RTM client plays the customer; the console is driven over HTTP and its
WebSocket, as the page drives it (the page itself: test_console_browser.py).
"""

from __future__ import annotations

import asyncio
import io
import json
import sys
import textwrap
from typing import Any

import aiohttp
import pytest

from rxlivechat.protocol import methods as m
from rxlivechat.protocol.models import (
    Event,
    File,
    FilledForm,
    FilledFormField,
    Message,
    RichMessage,
    RichMessageButton,
    RichMessageElement,
    SystemMessage,
)
from rxlivechat.sandbox import Sandbox
from rxlivechat.sandbox.cli import serve_forever

from .conftest import Connect, Rtm

JSON = {"Content-Type": "application/json"}


def post_state(http: aiohttp.ClientSession, sandbox: Sandbox) -> Any:
    """``POST api/state`` from the console's own page (it starts the console)."""
    return http.post(
        sandbox.console.url + "api/state", headers={"Origin": sandbox.api_url}
    )


def open_feed(http: aiohttp.ClientSession, sandbox: Sandbox) -> Any:
    """The live feed, opened as the page opens it (with its Origin)."""
    return http.ws_connect(sandbox.console.url + "api/ws", origin=sandbox.api_url)


async def started(
    sandbox: Sandbox, connect: Connect, text: str = "Hi"
) -> tuple[Rtm, str]:
    """A customer with an active chat that starts with ``text``."""
    rtm = await connect(sandbox)
    chat = await rtm.call(
        m.StartChat(
            chat=m.StartChatSpec(thread=m.ThreadSpec(events=[Message(text=text)]))
        )
    )
    await rtm.push("incoming_chat")
    return rtm, chat.chat_id


async def act(
    http: aiohttp.ClientSession,
    sandbox: Sandbox,
    chat_id: str,
    action: str,
    body: dict[str, Any] | None = None,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Any:
    url = f"{sandbox.console.url}api/chats/{chat_id}/{action}"
    if headers is None:
        headers = JSON | {"Origin": sandbox.api_url}
    async with http.post(url, data=json.dumps(body or {}), headers=headers) as response:
        assert response.status == status, await response.text()
        return await response.json()


class Feed:
    """The console's live feed, read as the page reads it."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def next(self, timeout: float = 3.0) -> dict[str, Any]:
        message = await self.ws.receive(timeout=timeout)
        assert message.type is aiohttp.WSMsgType.TEXT, message
        update: dict[str, Any] = json.loads(message.data)
        return update

    async def chat_until(self, condition: Any, timeout: float = 3.0) -> dict[str, Any]:
        """The first chat update for which ``condition(chat)`` holds."""
        async with asyncio.timeout(timeout):
            while True:
                update = await self.next(timeout)
                if update["type"] == "chat" and condition(update["chat"]):
                    chat: dict[str, Any] = update["chat"]
                    return chat


# The page -----------------------------------------------------------------------------


async def test_the_page_and_its_files_are_served_with_a_strict_policy(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    assert sandbox.console.url == f"{sandbox.api_url}/console/"
    async with http.get(f"{sandbox.api_url}/console", allow_redirects=False) as bare:
        assert bare.status == 302
        assert bare.headers["Location"] == "/console/"
    for name, kind, mark in [
        ("", "text/html", "<title>Agent console"),
        ("console.js", "text/javascript", "new WebSocket"),
        ("console.css", "text/css", ".chat-item"),
    ]:
        async with http.get(sandbox.console.url + name) as response:
            assert response.status == 200
            assert response.content_type == kind
            assert mark in await response.text()
            policy = response.headers["Content-Security-Policy"]
            assert "default-src 'none'" in policy
            assert "connect-src 'self'" in policy
            assert "frame-ancestors 'none'" in policy
            assert response.headers["X-Content-Type-Options"] == "nosniff"
    async with http.get(sandbox.console.url + "server.py") as other:
        assert other.status == 404


async def test_nothing_changes_until_the_console_is_used(
    sandbox: Sandbox, http: aiohttp.ClientSession, connect: Connect
) -> None:
    rtm, chat_id = await started(sandbox, connect)
    roster = dict(sandbox.store.agents)
    async with http.get(sandbox.console.url) as page:  # the page alone
        assert page.status == 200
    assert sandbox.store.agents == roster
    assert not sandbox.store.chats[chat_id].present & set(roster)
    async with post_state(http, sandbox) as response:
        state = await response.json()
    # It plays the organization's first agent, or its own when there is none.
    agent = next(iter(sandbox.store.agents.values()))
    assert agent.name == (
        next(iter(roster.values())).name if roster else "Console Agent"
    )
    assert state["agent"] == {"id": agent.id, "name": agent.name}
    assert state["organization_id"] == sandbox.organization_id
    assert {"id": "0", "name": "General"} in state["groups"]
    # ... and being an agent online, it takes the waiting chat.
    added = (await rtm.push("user_added_to_chat")).payload
    assert added.user.id == agent.id


async def test_the_agent_to_play_can_be_named_and_the_others_are_targets(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    sandbox.agent("Jane")
    sandbox.console.agent_name = "Bob"
    async with post_state(http, sandbox) as response:
        state = await response.json()
    assert state["agent"] == {"id": sandbox.agent("Bob").id, "name": "Bob"}
    others = [a.name for a in sandbox.store.agents.values() if a.name != "Bob"]
    assert "Jane" in others
    assert [a["name"] for a in state["agents"]] == others  # transfer targets


# Live ---------------------------------------------------------------------------------


async def test_a_customer_is_answered_through_the_console(
    sandbox: Sandbox, http: aiohttp.ClientSession, connect: Connect
) -> None:
    rtm, chat_id = await started(sandbox, connect, "Do you ship to Norway?")
    async with open_feed(http, sandbox) as ws:
        feed = Feed(ws)
        first = await feed.next()
        assert first["type"] == "state"
        (chat,) = first["state"]["chats"]
        assert chat["id"] == chat_id
        assert [e["text"] for e in chat["events"]] == ["Do you ship to Norway?"]
        assert chat["events"][0]["author"] == "customer"

        # Accepting chats: the console's agent joins the waiting chat.
        added = (await rtm.push("user_added_to_chat")).payload
        assert added.user.id == sandbox.console.agent.id
        await feed.chat_until(lambda c: c["joined"])

        # The customer types (a sneak peek), then sends: the console sees both.
        await rtm.call(m.SendSneakPeek(chat_id=chat_id, sneak_peek_text="To Oslo"))
        await feed.chat_until(lambda c: c["sneak_peek"] == "To Oslo")
        await rtm.call(m.SendEvent(chat_id=chat_id, event=Message(text="To Oslo?")))
        assert (await rtm.push("incoming_event")).payload.event.text == "To Oslo?"
        peeked = await feed.chat_until(lambda c: c["events"][-1]["text"] == "To Oslo?")
        assert peeked["sneak_peek"] is None  # the message ended the peek

        # The person types and replies: the customer gets both, as from an agent.
        await act(http, sandbox, chat_id, "typing", {"is_typing": True})
        typing = (await rtm.push("incoming_typing_indicator")).payload
        assert typing.typing_indicator.is_typing
        reply = await act(http, sandbox, chat_id, "message", {"text": "Yes, 3 days."})
        assert reply["events"][-1]["author"] == "me"
        event = (await rtm.push("incoming_event")).payload.event
        assert (event.text, event.author_id) == ("Yes, 3 days.", added.user.id)
        await feed.chat_until(lambda c: c["events"][-1]["text"] == "Yes, 3 days.")

        # Close: the customer's chat is deactivated; the chat stays listed.
        closed = await act(http, sandbox, chat_id, "close")
        assert not closed["active"]
        assert (await rtm.push("chat_deactivated")).payload.chat_id == chat_id
        await feed.chat_until(lambda c: not c["active"])


async def test_a_chat_that_starts_later_is_taken_too(
    sandbox: Sandbox, http: aiohttp.ClientSession, connect: Connect
) -> None:
    async with open_feed(http, sandbox) as ws:
        feed = Feed(ws)
        assert (await feed.next())["state"]["chats"] == []
        rtm, chat_id = await started(sandbox, connect, "Hello?")
        await rtm.push("user_added_to_chat")
        chat = await feed.chat_until(lambda c: c["id"] == chat_id and c["joined"])
        assert chat["events"][0]["text"] == "Hello?"


async def test_transfer_to_another_agent(
    sandbox: Sandbox, http: aiohttp.ClientSession, connect: Connect
) -> None:
    async with post_state(http, sandbox):
        pass
    bob = sandbox.agent("Bob")
    rtm, chat_id = await started(sandbox, connect)
    await rtm.push("user_added_to_chat")
    chat = await act(http, sandbox, chat_id, "transfer", {"agent_id": bob.id})
    assert not chat["joined"]
    assert chat["agents"] == ["Bob"]
    transferred = (await rtm.push("chat_transferred")).payload
    assert transferred.transferred_to.agent_ids == [bob.id]
    # Join it back.
    chat = await act(http, sandbox, chat_id, "join")
    assert chat["joined"]


async def test_transfer_to_a_group(
    sandbox: Sandbox, http: aiohttp.ClientSession, connect: Connect
) -> None:
    rtm, chat_id = await started(sandbox, connect)
    async with post_state(http, sandbox):
        pass
    await rtm.push("user_added_to_chat")
    chat = await act(http, sandbox, chat_id, "transfer", {"group_id": 0})
    assert chat["group_ids"] == [0]
    assert not chat["joined"]
    assert (await rtm.push("user_removed_from_chat")).payload.chat_id == chat_id


async def test_every_event_type_reads_as_text(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    customer = sandbox.new_customer()
    customer.name = "Ada"
    jane = sandbox.agent("Jane")
    chat_id = sandbox.seed_chat(
        customer.id, threads=2, events_per_thread=2, agent=jane, active=True
    )
    thread = sandbox.store.chats[chat_id].threads[-1]
    added: list[tuple[Event, str | None]] = [
        (File(url="https://files.example/a.pdf", name="a.pdf"), customer.id),
        (
            RichMessage(
                template_id="cards",
                elements=[
                    RichMessageElement(
                        title="Pick one", buttons=[RichMessageButton(text="Yes")]
                    )
                ],
            ),
            jane.id,
        ),
        (
            FilledForm(
                form_id="prechat",
                fields=[
                    FilledFormField(type="name", id="1", label="Name:", answer="Ada")
                ],
            ),
            customer.id,
        ),
        (SystemMessage(system_message_type="routing.assigned"), None),
    ]
    for event, author in added:
        sandbox.store.add_event(thread, event, author_id=author)
    async with post_state(http, sandbox) as response:
        state = await response.json()
    (chat,) = [c for c in state["chats"] if c["id"] == chat_id]
    assert chat["customer"]["name"] == "Ada"
    assert chat["active"]
    jane_is = "me" if state["agent"]["name"] == "Jane" else "agent"
    seen = [
        (e["type"], e["author"], e["author_name"], e["text"]) for e in chat["events"]
    ]
    assert ("message", "customer", "Ada") in {s[:3] for s in seen}
    assert ("message", jane_is, "Jane") in {s[:3] for s in seen}
    assert seen[-4:] == [
        ("file", "customer", "Ada", "a.pdf"),
        ("rich_message", jane_is, "Jane", "Pick one [Yes]"),
        ("filled_form", "customer", "Ada", "Name: Ada"),
        ("system_message", "system", None, "routing.assigned"),
    ]
    assert chat["events"][-4]["url"] == "https://files.example/a.pdf"


async def test_open_chats_come_first_then_the_latest(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    older_open = sandbox.seed_chat(active=True)
    closed = sandbox.seed_chat()
    newer_open = sandbox.seed_chat(active=True)
    async with post_state(http, sandbox) as response:
        chats = (await response.json())["chats"]
    assert [c["id"] for c in chats] == [newer_open, older_open, closed]


# Refusals -----------------------------------------------------------------------------


async def test_bad_actions_get_clear_errors(
    sandbox: Sandbox, http: aiohttp.ClientSession, connect: Connect
) -> None:
    _, chat_id = await started(sandbox, connect)
    unknown = await act(http, sandbox, "nochat", "message", {"text": "x"}, status=404)
    assert unknown["error"]["type"] == "not_found"
    await act(http, sandbox, chat_id, "dance", status=404)
    empty = await act(http, sandbox, chat_id, "message", {"text": "  "}, status=400)
    assert empty["error"] == {"type": "validation", "message": "The message is empty"}
    await act(http, sandbox, chat_id, "message", {"txt": "x"}, status=400)
    await act(http, sandbox, chat_id, "transfer", {}, status=400)
    await act(http, sandbox, chat_id, "transfer", {"group_id": 9}, status=400)
    await act(http, sandbox, chat_id, "close")
    inactive = await act(http, sandbox, chat_id, "message", {"text": "x"}, status=400)
    assert inactive["error"]["type"] == "chat_inactive"
    assert sandbox.count("send_event") == 0  # nothing reached the customer's API


async def test_cross_origin_and_foreign_hosts_are_refused(
    sandbox: Sandbox, http: aiohttp.ClientSession, connect: Connect
) -> None:
    _, chat_id = await started(sandbox, connect)
    evil = JSON | {"Origin": "http://evil.example"}
    refused = await act(
        http, sandbox, chat_id, "message", {"text": "x"}, status=403, headers=evil
    )
    assert refused["error"]["type"] == "authorization"
    rebound = JSON | {"Host": f"attacker.example:{sandbox.port}"}
    await act(
        http, sandbox, chat_id, "message", {"text": "x"}, status=403, headers=rebound
    )
    # A form post (what another page can send without a preflight) is refused.
    await act(
        http, sandbox, chat_id, "message", status=415,
        headers={"Content-Type": "text/plain", "Origin": sandbox.api_url},
    )  # fmt: skip
    with pytest.raises(aiohttp.WSServerHandshakeError) as handshake:
        await http.ws_connect(
            sandbox.console.url + "api/ws", headers={"Origin": "http://evil.example"}
        )
    assert handshake.value.status == 403
    same = JSON | {"Origin": sandbox.api_url}
    sent = await act(http, sandbox, chat_id, "message", {"text": "ok"}, headers=same)
    assert [e["text"] for e in sent["events"]][-1] == "ok"
    assert len(sent["events"]) == 2  # the refused ones did nothing


async def test_the_console_works_again_after_a_restart(
    sandbox: Sandbox, http: aiohttp.ClientSession, connect: Connect
) -> None:
    async with open_feed(http, sandbox) as ws:
        await Feed(ws).next()
        await sandbox.restart()
        closed = await ws.receive(timeout=3)
        assert closed.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    rtm, _ = await started(sandbox, connect)
    async with open_feed(http, sandbox) as ws:
        await Feed(ws).next()
        await rtm.push("user_added_to_chat")


async def test_nothing_starts_the_console_without_the_pages_origin(
    sandbox: Sandbox, http: aiohttp.ClientSession, connect: Connect
) -> None:
    """A GET (an ``<img>``, a link), a request without Origin or a cross-site one.

    Before, ``GET /console/api/state`` with no Origin turned the console on and
    its agent joined every chat.
    """
    rtm, chat_id = await started(sandbox, connect)
    roster = dict(sandbox.store.agents)
    async with http.get(sandbox.console.url + "api/state") as r:
        assert r.status == 405
    async with http.post(sandbox.console.url + "api/state") as r:
        assert r.status == 403
        assert (await r.json())["error"]["type"] == "authorization"
    cross_site = {"Origin": sandbox.api_url, "Sec-Fetch-Site": "cross-site"}
    async with http.post(sandbox.console.url + "api/state", headers=cross_site) as r:
        assert r.status == 403
    await act(http, sandbox, chat_id, "join", status=403, headers=JSON)
    await act(http, sandbox, chat_id, "join", status=403, headers=JSON | cross_site)
    for headers in ({}, {"Sec-Fetch-Site": "cross-site"}):
        with pytest.raises(aiohttp.WSServerHandshakeError) as handshake:
            await http.ws_connect(sandbox.console.url + "api/ws", headers=headers)
        assert handshake.value.status == 403
    await asyncio.sleep(0.2)  # what a started console would do, it does at once
    assert sandbox.store.agents == roster
    assert sandbox.store.chats[chat_id].present == {rtm_customer(sandbox, chat_id)}
    same_site = {"Origin": sandbox.api_url, "Sec-Fetch-Site": "same-origin"}
    async with http.post(sandbox.console.url + "api/state", headers=same_site) as r:
        assert r.status == 200
    assert (await rtm.push("user_added_to_chat")).payload.chat_id == chat_id


def rtm_customer(sandbox: Sandbox, chat_id: str) -> str:
    return sandbox.store.chats[chat_id].customer_id


# The sandbox command's banner ---------------------------------------------------------


async def test_the_banner_shows_the_console_and_a_python_snippet_that_runs() -> None:
    out = io.StringIO()
    ready = asyncio.Event()
    serving = asyncio.ensure_future(serve_forever(0, seed=7, out=out, ready=ready))
    try:
        await asyncio.wait_for(ready.wait(), 10)
        text = out.getvalue()
        block, _, rest = text.partition("\n\n")
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        api_url, organization_id = fields["api_url"], fields["organization_id"]
        assert fields["console_url"] == f"{api_url}/console/"
        assert (
            f"Agent console (play the agent in a browser): {api_url}/console/" in rest
        )
        assert f"organizationId: '{organization_id}'" in rest
        assert "@livechat/customer-sdk" in rest
        assert text.rstrip().endswith("serving until interrupted (Ctrl-C)")

        # The Python snippet, pasted into a file and run, connects to this sandbox.
        python = rest.split("; no release yet):\n", 1)[1]
        python = textwrap.dedent(python.split("\nJavaScript", 1)[0])
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", python,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        stdout, stderr = await asyncio.wait_for(process.communicate(), 50)
        assert process.returncode == 0, stderr.decode()
        assert stdout.decode().startswith("connected as customer ")
    finally:
        serving.cancel()
        with pytest.raises(asyncio.CancelledError):
            await serving
