"""Uploaded files: ``upload_file``'s multipart body in, each file served back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from urllib.parse import quote

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from ...exceptions import EntityTooLargeError, NotFoundError, ValidationError
from ...protocol import methods as m
from ..records import StoredFile
from ..security import file_headers, is_executable, upload_content_type, upload_name
from .host import Host
from .replies import error_response, timed_out

__all__ = ["FILES_PATH", "Files"]

FILES_PATH = "/api/file/lc/att"


class Files:
    """Uploads in, files out, within the sandbox's size and time limits."""

    def __init__(self, host: Host) -> None:
        self._host = host

    async def upload(
        self, request: web.Request, customer_id: str
    ) -> m.UploadFileResult:
        """Store the multipart body's ``file`` part; returns its URL."""
        try:  # no gap of http_body_timeout between two reads
            async with asyncio.timeout(self._host.http_body_timeout) as deadline:
                stored = await self._read_upload(request, customer_id, deadline)
        except TimeoutError:
            raise timed_out(request) from None
        except (ValueError, HttpProcessingError) as exc:  # a malformed multipart body
            raise ValidationError(f"Malformed multipart body: {exc}") from None
        # The name is one path segment, quoted whole: the URL always resolves
        # to the file (upload_name took out separators and "..").
        url = (
            f"{self._host.api_url}{FILES_PATH}/{self._host.organization_id}/{stored.key}/"
            f"{quote(stored.name, safe='')}"
        )
        try:
            self._host.uploads.add(url, stored)
        except ValueError:  # larger than the whole budget
            raise EntityTooLargeError("Upload limit exceeded (10MB).") from None
        return m.UploadFileResult(url=url)

    async def _read_upload(
        self, request: web.Request, customer_id: str, deadline: asyncio.Timeout
    ) -> StoredFile:
        def progress() -> None:
            loop = asyncio.get_running_loop()
            deadline.reschedule(loop.time() + self._host.http_body_timeout)

        if not request.content_type.startswith("multipart/"):
            raise ValidationError("upload_file needs multipart/form-data")
        if (request.content_length or 0) > self._host.max_upload_bytes + 64 * 1024:
            await drain(request, self._host.max_upload_bytes, progress)
            raise EntityTooLargeError("Upload limit exceeded (10MB).")
        reader = await request.multipart()
        stored: StoredFile | None = None
        while (part := await reader.next()) is not None:
            progress()
            if stored is not None or getattr(part, "name", None) != "file":
                await part.release()
                continue
            if not isinstance(part, BodyPartReader):
                raise ValidationError("The file part cannot be multipart itself")
            name = upload_name(part.filename or "file")
            try:
                content_type = upload_content_type(
                    part.headers.get("Content-Type"), name
                )
            except ValueError as exc:
                await drain(request, self._host.max_upload_bytes, progress)
                raise ValidationError(str(exc)) from None
            data = bytearray()
            while chunk := await part.read_chunk(64 * 1024):
                progress()
                data += chunk
                if len(data) > self._host.max_upload_bytes:
                    await drain(request, self._host.max_upload_bytes, progress)
                    raise EntityTooLargeError("Upload limit exceeded (10MB).")
            if is_executable(name, bytes(data[:8])):
                # docs/protocol.md §2.3: "executables are refused".
                raise ValidationError("Executable files cannot be uploaded")
            stored = StoredFile(
                key=self._host.ids.file_key(),
                name=name,
                content_type=content_type,
                data=bytes(data),
                customer_id=customer_id,
            )
        if stored is None:
            raise ValidationError("upload_file needs a multipart part named 'file'")
        return stored

    async def serve(self, request: web.Request) -> web.StreamResponse:
        """Serve an uploaded file (404 once evicted, or when foreign)."""
        stored = None
        if request.match_info["org"] == self._host.organization_id:
            stored = self._host.uploads.find(
                request.match_info["key"], request.match_info["name"]
            )
        if stored is None:  # unknown, foreign, or evicted to keep the budget
            return error_response(NotFoundError("File not found"))
        content_type, headers = file_headers(stored.content_type, stored.name)
        response = web.Response(body=stored.data, headers=headers)
        response.headers["Content-Type"] = content_type
        return response


async def drain(request: web.Request, limit: int, progress: Callable[[], None]) -> None:
    """Read and drop up to ``limit`` more bytes, so the client sees the reply.

    A body longer than that is left to aiohttp's lingering close.
    """
    while limit > 0 and (chunk := await request.content.readany()):
        limit -= len(chunk)
        progress()
