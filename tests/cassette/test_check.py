"""check-cassette: a cassette's requests sent to a sandbox, the answers compared;
and the record command."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from rxlivechat import Message
from rxlivechat.cassette.check import check_cassette
from rxlivechat.protocol.cassette import Send, read
from rxlivechat.sandbox import Sandbox

from ..helpers import connect

PROPERTIES = {"test": {"string_property": "as recorded"}}


async def customer_session(cassette: Path) -> None:
    """A session of the customer's requests only (no agent acts in a check)."""
    async with Sandbox() as sandbox:
        sdk = connect(sandbox, record=cassette)
        await sdk.wait_connected(timeout=10)
        chat = await sdk.start_chat([Message(text="Hello")])
        await sdk.send_event(chat.id, Message(text="One more thing"))
        await sdk.send_file(chat.id, b"notes", name="n.txt", content_type="text/plain")
        await sdk.update_chat_properties(chat.id, PROPERTIES)
        await sdk.get_chat(chat.id)
        await sdk.destroy()


async def cli(*args: str) -> tuple[int, str]:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "rxlivechat",
        *args,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(child.communicate(), 120)
    assert child.returncode is not None
    return child.returncode, out.decode()


async def test_a_sandbox_matches_its_own_cassette_and_a_planted_difference_is_found(
    tmp_path: Path,
) -> None:
    cassette = tmp_path / "session.jsonl"
    await customer_session(cassette)
    async with Sandbox() as other:  # another organization, other ids
        differences = await check_cassette(
            cassette,
            api_url=other.api_url,
            accounts_url=other.accounts_url,
            organization_id=other.organization_id,
        )
    assert differences == []
    assert await cli("check-cassette", str(cassette)) == (
        0,
        "the answers match the cassette (ids and times aside)\n",
    )
    # Plant a difference: the recorded get_chat reply says another value.
    lines = cassette.read_text().splitlines(keepends=True)
    (line,) = [
        n
        for n, text in enumerate(lines, 1)
        if '"action":"get_chat","type":"response"' in text
    ]
    lines[line - 1] = lines[line - 1].replace('"as recorded"', '"as planted"')
    cassette.write_text("".join(lines))
    status, out = await cli("check-cassette", str(cassette))
    assert status == 1
    (difference, summary) = out.splitlines()
    assert difference == (
        f"line {line - 1}: get_chat: payload.properties.test.string_property:"
        ' "as recorded", recorded "as planted"'
    )
    assert summary == "1 difference(s) from the cassette"


async def test_check_cassette_says_when_the_file_is_not_a_cassette(
    tmp_path: Path,
) -> None:
    other = tmp_path / "notes.jsonl"
    other.write_text('{"hello": "world"}\n')
    status, out = await cli("check-cassette", str(other))
    assert status == 2
    assert "check-cassette:" in out


async def test_the_record_command_records_a_session(tmp_path: Path) -> None:
    cassette = tmp_path / "quick.jsonl"
    status, out = await cli("record", "--out", str(cassette), "--", "--seconds", "3")
    assert status == 0
    assert '"event":"connected"' in out
    with cassette.open("rb") as file:
        _, records = read(file)
    sent = [r.frame["action"] for r in records if isinstance(r, Send)]
    assert sent[:2] == ["login", "list_chats"]
