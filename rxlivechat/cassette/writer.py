"""Cassette files are written by one thread, so a slow disk never stalls a loop.

Every recorder of the process hands its lines, a chunk at a time, to one daemon
thread that writes them (``write`` releases the GIL); the thread runs while a
cassette is open, and ends with the last one. A recorder has at most
:data:`IN_FLIGHT` chunks queued: past that, handing one over waits for the
disk, so memory stays bounded whatever the disk's pace. Closing waits until
the file's chunks are written, so a destroyed SDK leaves a complete cassette.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
from typing import IO

__all__ = ["CLOSE_WAIT", "IN_FLIGHT", "FileWriter"]

log = logging.getLogger("rxlivechat")

IN_FLIGHT = 8
"""Chunks of one file queued at most before handing one over waits."""

CLOSE_WAIT = 10.0
"""Seconds closing waits at most for the file's chunks to be written."""

_Item = tuple["FileWriter", bytes | threading.Event | None]
_queue: queue.SimpleQueue[_Item] | None = None
_thread: threading.Thread | None = None
_open = 0  # files open: the thread runs while there are any
_lock = threading.Lock()


class FileWriter:
    """A file written in the background, chunk by chunk, in order.

    Args:
        path: the file (created, or replaced).

    Raises:
        OSError: the file cannot be created.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._file: IO[bytes] = open(path, "wb", buffering=0)  # noqa: SIM115
        self._room = threading.Semaphore(IN_FLIGHT)
        self._queue = _opened()
        self.error: OSError | None = None
        """Why a write failed (the chunks after it are dropped)."""

    def write(self, data: bytes) -> None:
        """Queue ``data`` (waits while :data:`IN_FLIGHT` chunks are queued)."""
        self._room.acquire()
        self._queue.put((self, data))

    def close(self) -> None:
        """Write what is queued, then close the file (waits :data:`CLOSE_WAIT`)."""
        done = threading.Event()
        self._queue.put((self, done))
        if not done.wait(CLOSE_WAIT):
            log.error("the cassette's last records were not written in time")

    def _run(self, item: bytes | threading.Event) -> None:
        """In the writer thread: write a chunk, or close."""
        if isinstance(item, threading.Event):
            try:
                self._file.close()
            finally:
                item.set()
            return
        try:
            if self.error is None:
                self._file.write(item)
        except OSError as exc:  # a full disk: the recorder stops
            self.error = exc
        finally:
            self._room.release()


def _opened() -> queue.SimpleQueue[_Item]:
    """The writer thread's queue, for a file just opened (starts the thread)."""
    global _queue, _thread, _open
    with _lock:
        _open += 1
        if _queue is None:
            _queue = queue.SimpleQueue()
            _thread = threading.Thread(
                target=_serve, args=(_queue,), name="rxlivechat-cassettes", daemon=True
            )
            _thread.start()
        return _queue


def _closed() -> bool:
    """A file was closed; whether it was the last (the thread then ends)."""
    global _queue, _thread, _open
    with _lock:
        _open -= 1
        if _open:
            return False
        _queue = _thread = None  # the next file starts a thread of its own
        return True


def _serve(items: queue.SimpleQueue[_Item]) -> None:
    while True:
        writer, item = items.get()
        if item is None:  # the process exits
            return
        writer._run(item)  # the thread is the writer's own
        if isinstance(item, threading.Event) and _closed():
            return


@atexit.register
def _drain() -> None:
    """At exit: write what is queued (files never closed lose nothing queued)."""
    with _lock:
        items, thread = _queue, _thread
    if items is None or thread is None:
        return
    items.put((None, None))  # type: ignore[arg-type]
    thread.join(CLOSE_WAIT)
