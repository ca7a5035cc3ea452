"""send_file: checked before upload, progress, cancel, and the file served back."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import aiohttp
import pytest

from rxlivechat import (
    CustomerSDK,
    File,
    InvalidArgumentError,
    SendFileResult,
    UploadCancelledError,
)
from rxlivechat.methods.upload import MAX_FILE_SIZE, prepare_file
from rxlivechat.sandbox import Sandbox

from ..helpers import awaited


def test_prepare_file_refuses_what_cannot_be_sent(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(b"\0" * (MAX_FILE_SIZE + 1))
    with pytest.raises(InvalidArgumentError, match="10 MB"):
        prepare_file(big)
    with pytest.raises(InvalidArgumentError, match="10 MB"):
        prepare_file(b"\0" * (MAX_FILE_SIZE + 1))
    with pytest.raises(FileNotFoundError, match="no such file"):
        prepare_file(tmp_path / "missing.png")
    with pytest.raises(InvalidArgumentError, match="binary"):
        prepare_file(io.StringIO("text"))
    with pytest.raises(InvalidArgumentError):
        prepare_file(12345)


def test_prepare_file_names_and_types(tmp_path: Path) -> None:
    picture = tmp_path / "cat.png"
    picture.write_bytes(b"\x89PNG")
    assert prepare_file(picture).name == "cat.png"
    assert prepare_file(picture).content_type == "image/png"
    assert prepare_file(b"abc").name == "file"
    assert prepare_file(io.BytesIO(b"abc"), name="a.txt").content_type == "text/plain"


async def fetch(url: str) -> bytes:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert response.status == 200
        return await response.read()


async def test_send_file_uploads_reports_progress_and_sends_the_event(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    chat = await sdk.start_chat()
    data = bytes(range(256)) * 4096  # 1 MiB
    reported: list[float] = []
    upload = sdk.send_file(chat.id, data, on_progress=reported.append, name="a.bin")
    observed: list[float] = []
    upload.progress.subscribe(observed.append)
    result = await upload
    assert isinstance(result, SendFileResult)
    assert await fetch(result.url) == data
    assert reported == sorted(reported)
    assert reported[-1] == 1.0
    assert len(reported) >= 16  # chunked, not one jump
    assert observed[0] == 0.0
    assert observed[-1] == 1.0
    threads = await sdk.get_chat_threads(
        chat.id, [chat.thread.id if chat.thread else ""]
    )
    files = [e for e in threads[0].events if isinstance(e, File)]
    assert [f.url for f in files] == [result.url]


async def test_a_too_big_file_is_refused_before_any_byte_is_sent(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    chat = await sdk.start_chat()
    with pytest.raises(InvalidArgumentError):
        sdk.send_file(chat.id, b"\0" * (MAX_FILE_SIZE + 1))
    assert sandbox.count("upload_file") == 0


async def test_cancel_aborts_the_upload(sdk: CustomerSDK, sandbox: Sandbox) -> None:
    chat = await sdk.start_chat()
    sandbox.delay_replies(30.0, action="upload_file")  # still running at cancel()
    upload = sdk.send_file(chat.id, b"x" * 200_000)
    progress_ended: list[Exception] = []
    upload.progress.subscribe(on_error=progress_ended.append)
    running = asyncio.ensure_future(awaited(upload))
    await asyncio.sleep(0.05)
    upload.cancel()
    with pytest.raises(UploadCancelledError):
        await running
    await asyncio.sleep(0)
    assert [type(e) for e in progress_ended] == [UploadCancelledError]  # no hang
    with pytest.raises(UploadCancelledError):
        await upload  # a cancelled upload stays cancelled


async def test_an_upload_server_error_is_typed(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    chat = await sdk.start_chat()
    sandbox.fail_next("upload_file", "entity_too_large")
    from rxlivechat import EntityTooLargeError

    with pytest.raises(EntityTooLargeError):
        await sdk.send_file(chat.id, b"abc")
