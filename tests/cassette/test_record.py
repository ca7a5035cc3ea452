"""Recording: what reaches the file, what never does, and what a crash leaves."""

from __future__ import annotations

import asyncio
import signal
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec
import pytest

import rxlivechat
from rxlivechat.cassette import REDACTED, Recording, RedactFields
from rxlivechat.exceptions import InvalidArgumentError
from rxlivechat.protocol.cassette import (
    CassetteError,
    Close,
    Header,
    Http,
    Open,
    Receive,
    Send,
    read,
)
from rxlivechat.sandbox import Sandbox

from ..helpers import connect, until
from .scenario import ANSWER, HELLO


def actions(records: Sequence[Any], kind: type[Send | Receive]) -> list[str]:
    """The actions of the frames sent (``Send``) or received (``Receive``)."""
    return [r.frame.get("action") for r in records if isinstance(r, kind)]


async def test_a_session_is_recorded_frame_by_frame_and_exchange_by_exchange(
    recorded: tuple[Path, list[object], Sandbox],
) -> None:
    cassette, _, sandbox = recorded
    with cassette.open("rb") as file:
        header, records = read(file)
    assert isinstance(header, Header)
    assert header.organization_id == sandbox.organization_id
    assert header.api_version == "3.6"
    sent = actions(records, Send)
    assert sent.count("login") == 2  # before and after the drop
    for action in ("start_chat", "send_event", "update_chat_properties"):
        assert action in sent
    assert "incoming_event" in actions(records, Receive)
    assert [(r.conn, r.by) for r in records if isinstance(r, Close)] == [
        (1, "server"),
        (2, "client"),
    ]
    assert [r.conn for r in records if isinstance(r, Open)] == [1, 2]
    http = {
        (r.method, r.path.rpartition("/")[2]): r for r in records if isinstance(r, Http)
    }
    assert http["POST", "token"].status == 200
    upload = http["POST", "upload_file"]
    assert upload.request == {
        "file": {"name": "notes.txt", "content_type": "text/plain", "size": 600}
    }
    assert upload.response["url"].endswith("/notes.txt")
    times = [r.t for r in records]
    assert times == sorted(times)
    assert times[0] >= 0


async def test_a_cassette_holds_no_token_cookie_or_secret(
    recorded: tuple[Path, list[object], Sandbox],
) -> None:
    cassette, _, sandbox = recorded
    text = cassette.read_bytes()
    tokens = {r.payload.token for r in sandbox.requests if r.action == "login"}
    (customer_id,) = {r.customer_id for r in sandbox.requests if r.customer_id}
    secrets = {t.removeprefix("Bearer ") for t in tokens}
    secrets.add(sandbox.tokens.identity_secret(customer_id))
    assert len(secrets) >= 2
    assert all(len(s) >= 16 for s in secrets)
    for secret in secrets:
        assert secret.encode() not in text
    for header in (b"__lc_cid=", b"__lc_cst=", b"Cookie:", b"Authorization:"):
        assert header not in text  # no header is ever recorded
    assert text.count(REDACTED.encode()) >= 3  # the token reply, two logins


async def test_the_redaction_hook_blanks_user_fields(tmp_path: Path) -> None:
    cassette = tmp_path / "shared.jsonl"
    async with Sandbox() as sandbox:
        sdk = connect(
            sandbox,
            customer={"name": "Ada Lovelace", "email": "ada@example.com"},
            record=Recording(cassette, redact=RedactFields("name", "email", "text")),
        )
        await sdk.wait_connected(timeout=10)
        await sdk.start_chat([rxlivechat.Message(text=HELLO)])
        await sdk.destroy()
    text = cassette.read_text()
    for private in ("Ada Lovelace", "ada@example.com", HELLO):
        assert private not in text
    with cassette.open("rb") as file:
        header, records = read(file)
    assert {"name", "email", "text", "access_token"} <= set(header.redacted)
    assert "start_chat" in actions(records, Send)


async def test_recording_to_a_path_that_cannot_be_written_fails_first(
    tmp_path: Path,
) -> None:
    async with Sandbox() as sandbox:
        with pytest.raises(InvalidArgumentError, match="cannot record"):
            connect(sandbox, record=tmp_path / "missing" / "session.jsonl")
        assert sandbox.count() == 0


async def test_recording_streams_a_line_per_record(tmp_path: Path) -> None:
    cassette = tmp_path / "live.jsonl"
    async with Sandbox() as sandbox:
        sdk = connect(sandbox, record=cassette)
        await sdk.wait_connected(timeout=10)
        # Written as they happen (within FLUSH_DELAY): readable while the
        # customer is still connected.
        await until(lambda: b'"action":"list_chats"' in cassette.read_bytes())
        with cassette.open("rb") as file:
            _, records = read(file)
        assert "list_chats" in actions(records, Send)
        before = cassette.stat().st_size
        await sdk.start_chat([rxlivechat.Message(text=HELLO)])
        await until(lambda: cassette.stat().st_size > before)
        await sdk.destroy()


CRASHING = textwrap.dedent(
    """
    import asyncio, sys
    import rxlivechat

    async def main():
        sdk = rxlivechat.init(
            organization_id=sys.argv[1], client_id="c", api_url=sys.argv[2],
            accounts_url=sys.argv[2], record=sys.argv[3],
        )
        await sdk.wait_connected(timeout=20)
        await sdk.start_chat([rxlivechat.Message(text="before the crash")])
        print("ready", flush=True)
        await asyncio.sleep(60)

    asyncio.run(main())
    """
)


async def test_a_crash_leaves_a_readable_prefix_and_a_cut_line_is_ignored(
    tmp_path: Path,
) -> None:
    cassette = tmp_path / "crashed.jsonl"
    async with Sandbox() as sandbox:
        argv = [sys.executable, "-c", CRASHING, sandbox.organization_id]
        argv += [sandbox.api_url, str(cassette)]
        child = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE
        )
        try:
            assert child.stdout is not None
            line = await asyncio.wait_for(child.stdout.readline(), 60)
            assert line == b"ready\n"
            # Written at the end of the loop turn that read the reply.
            await until(lambda: b'"action":"start_chat"' in cassette.read_bytes())
        finally:
            child.send_signal(signal.SIGKILL)  # mid-session: no clean close
            await asyncio.wait_for(child.wait(), 30)
    whole = cassette.read_bytes()
    with cassette.open("rb") as file:
        _, records = read(file)
    assert "start_chat" in actions(records, Send)
    # A crash mid-write: the last line cut anywhere still reads up to it.
    last = whole.rstrip(b"\n").rfind(b"\n") + 1
    for cut in (last + 1, last + 10, len(whole) - 2):
        cut_file = tmp_path / f"cut{cut}.jsonl"
        cut_file.write_bytes(whole[:cut])
        with cut_file.open("rb") as file:
            _, kept = read(file)
        assert len(kept) == len(records) - 1
    # A broken line that is not the last is an error, not silently skipped.
    broken = tmp_path / "broken.jsonl"
    lines = whole.splitlines(keepends=True)
    broken.write_bytes(b"".join([*lines[:3], lines[3][:10] + b"\n", *lines[4:]]))
    with broken.open("rb") as file, pytest.raises(CassetteError, match="line 4"):
        read(file)


def test_a_file_that_is_not_a_cassette_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.jsonl"
    other.write_bytes(
        msgspec.json.encode({"kind": "send", "t": 0, "conn": 1, "frame": {}})
    )
    with other.open("rb") as file, pytest.raises(CassetteError, match="header"):
        read(file)
    assert ANSWER  # the scenario's texts are what the other tests look for


async def test_frames_that_are_not_json_or_span_lines_keep_the_file_readable(
    tmp_path: Path,
) -> None:
    cassette = tmp_path / "odd.jsonl"
    async with Sandbox() as sandbox:
        sdk = connect(sandbox, record=cassette)
        await sdk.wait_connected(timeout=10)
        await sandbox.send_raw(b'{"broken": ')
        await sandbox.send_raw(b'{"action": "x",\n "type": "push", "payload": {}}')
        await until(lambda: b'"x"' in cassette.read_bytes())
        await sdk.destroy()
    with cassette.open("rb") as file:
        _, records = read(file)
    frames = [r.frame for r in records if isinstance(r, Receive)]
    assert '{"broken": ' in frames  # read back as its text
    assert {"action": "x", "type": "push", "payload": {}} in frames


async def test_a_burst_is_written_with_bounded_memory(tmp_path: Path) -> None:
    cassette = tmp_path / "burst.jsonl"
    frame = b'{"action":"incoming_event","type":"push","version":"3.6","payload":{"x":"'
    frame += b"y" * 1000 + b'"}}'
    count = 5000
    async with Sandbox() as sandbox:
        sdk = connect(sandbox, record=cassette)
        await sdk.wait_connected(timeout=10)
        recorder = sdk._engine._recorder  # (what it holds, counted)
        assert recorder is not None
        most = (0, 0)
        sampling = True

        async def sample() -> None:
            nonlocal most
            while sampling:
                lines, held = recorder.held
                most = (max(most[0], lines), max(most[1], held))
                await asyncio.sleep(0)

        sampler = asyncio.ensure_future(sample())
        for _ in range(count // 100):
            await asyncio.gather(*(sandbox.send_raw(frame) for _ in range(100)))
        await until(lambda: cassette.read_bytes().count(b'"y') >= count, 30)
        sampling = False
        await sampler
        await sdk.destroy()
    assert cassette.read_bytes().count(b"y" * 1000) == count  # none lost
    assert 0 < most[0] <= 256  # lines held at once
    assert most[1] <= 256 * (len(frame) + 100)  # bytes held: ~290 KB of 5 MB
