"""``send_file``: a file checked up front, then uploaded with progress and cancel.

The file is checked (type, ≤ 10 MB) when ``send_file`` is called, before any byte
is sent. The engine's Web API client uploads it in 64 KiB chunks and reports the
fraction handed to the socket; :class:`FileUpload` is its Rx face.
"""

from __future__ import annotations

import asyncio
import errno
import io
import mimetypes
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import CodeType
from typing import IO, Any, TypeAlias

from reactivex import Observable, abc
from reactivex.disposable import Disposable
from reactivex.subject import BehaviorSubject

from ..engine import PreparedFile
from ..exceptions import InvalidArgumentError, UploadCancelledError
from ..protocol.limits import LIMITS
from ..results import SendFileResult
from .runs import warn_unused

__all__ = ["MAX_FILE_SIZE", "FileSource", "FileUpload", "PreparedFile", "prepare_file"]

MAX_FILE_SIZE = LIMITS.upload_bytes
"""The API's upload limit (10 MB), checked before uploading."""


FileSource: TypeAlias = (
    str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes]
)
"""What ``send_file`` accepts: a path, the bytes, or a binary file object."""

Upload = Callable[[PreparedFile, Callable[[float], None]], Awaitable[str]]
"""Uploads a file, reporting progress; returns its URL (the engine's ``upload``)."""


def prepare_file(
    file: Any, *, name: str | None = None, content_type: str | None = None
) -> PreparedFile:
    """Read and check ``file``.

    Raises:
        FileNotFoundError: ``file`` is a path to no file.
        InvalidArgumentError: ``file`` is not a file source, or over 10 MB.
    """
    if isinstance(file, str | os.PathLike):
        path = Path(file)
        if not path.is_file():
            raise FileNotFoundError(errno.ENOENT, "no such file", str(path))
        if path.stat().st_size > MAX_FILE_SIZE:
            raise InvalidArgumentError(f"{path.name} is over the 10 MB upload limit")
        data = path.read_bytes()
        name = name or path.name
    elif isinstance(file, bytes | bytearray | memoryview):
        data = bytes(file)
    elif isinstance(file, io.IOBase) or hasattr(file, "read"):
        chunk = file.read(MAX_FILE_SIZE + 1)
        if not isinstance(chunk, bytes):
            raise InvalidArgumentError("file objects must be opened in binary mode")
        data = chunk
        name = name or Path(str(getattr(file, "name", "") or "")).name or None
    else:
        raise InvalidArgumentError(
            "file must be a path, bytes or a binary file object, "
            f"not {type(file).__name__}"
        )
    if len(data) > MAX_FILE_SIZE:
        raise InvalidArgumentError("the file is over the 10 MB upload limit")
    name = name or "file"
    guessed = mimetypes.guess_type(name)[0]
    return PreparedFile(
        name=name,
        content_type=content_type or guessed or "application/octet-stream",
        data=data,
    )


class FileUpload(Observable[SendFileResult]):
    """One ``send_file``: an awaitable observable of the result, with progress.

    .. code-block:: text

        progress  0.0--0.25--0.5--0.75--1.0|
        result    ---------------------------(SendFileResult)|

    Each subscription uploads (it is cold, like every method); awaiting it
    subscribes once. :meth:`cancel` aborts every upload in progress, and their
    subscribers get :class:`UploadCancelledError`. Collected without ever being
    subscribed, awaited or cancelled, it warns (``RuntimeWarning``): nothing was
    uploaded.
    """

    def __init__(
        self,
        upload: Upload,
        file: PreparedFile,
        send: Callable[[str], Awaitable[None]],
        *,
        on_progress: Callable[[float], None] | None = None,
    ) -> None:
        super().__init__()
        # The method that made it (send_file, upload_file), named if it warns.
        self._caller: CodeType = sys._getframe(1).f_code
        self._used = False
        self._upload = upload
        self.file = file
        """The checked file."""
        self._send = send
        self._on_progress = on_progress
        self._progress: BehaviorSubject[float] = BehaviorSubject(0.0)
        self.progress: Observable[float] = self._progress
        """Fractions 0..1 of the file uploaded; completes when the upload succeeds,
        errors (like the result) when it fails or is cancelled."""
        self._tasks: set[asyncio.Task[str]] = set()
        self._cancelled = False

    def cancel(self) -> None:
        """Abort the upload; the result errors with :class:`UploadCancelledError`."""
        self._cancelled = self._used = True
        for task in list(self._tasks):
            task.cancel()

    def _subscribe_core(
        self,
        observer: abc.ObserverBase[SendFileResult],
        scheduler: abc.SchedulerBase | None = None,
    ) -> abc.DisposableBase:
        self._used = True
        if self._cancelled:
            observer.on_error(UploadCancelledError("the upload was cancelled"))
            return Disposable()
        task = asyncio.get_running_loop().create_task(self._run())
        self._tasks.add(task)
        disposed = False

        def settle(task: asyncio.Task[str]) -> None:
            self._tasks.discard(task)
            error: Exception | None = None
            if task.cancelled():
                error = UploadCancelledError("the upload was cancelled")
            elif (exc := task.exception()) is not None:
                error = exc if isinstance(exc, Exception) else Exception(exc)
            if not self._tasks:  # the last upload ended: so does its progress
                if error is None:
                    self._progress.on_completed()
                else:
                    self._progress.on_error(error)
            if disposed:
                return
            if error is not None:
                observer.on_error(error)
            else:
                observer.on_next(SendFileResult(url=task.result()))
                observer.on_completed()

        def dispose() -> None:
            nonlocal disposed
            disposed = True
            task.cancel()

        task.add_done_callback(settle)
        return Disposable(dispose)

    def __del__(self) -> None:
        if not getattr(self, "_used", True):
            warn_unused(self._caller)

    def _report(self, fraction: float) -> None:
        self._progress.on_next(fraction)
        if self._on_progress is not None:
            self._on_progress(fraction)

    async def _run(self) -> str:
        url = await self._upload(self.file, self._report)
        await self._send(url)
        return url
