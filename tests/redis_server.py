"""A real ``redis-server`` for tests: 127.0.0.1, a free port, no persistence.

Use the fixtures from any test package by importing them into its conftest::

    from tests.redis_server import redis_server, redis_url  # noqa: F401

``redis_server`` (one per session) starts Debian's ``redis-server`` with
``--save "" --appendonly no`` in a temporary directory and stops it at the end;
``redis_url`` empties it before each test. Both skip, with the reason, where
``redis-server`` is not installed (``.ci/run`` installs it).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["RedisServer", "free_port", "redis_server", "redis_url"]

_MISSING = (
    "redis-server is not installed (Debian: apt-get install redis-server; "
    ".ci/run installs it)"
)


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RedisServer:
    """One ``redis-server`` process, started by :meth:`start`, ended by :meth:`stop`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, port: int | None = None, attempts: int = 3) -> None:
        """Start on ``port``, or a free one (retried if another process takes it)."""
        executable = shutil.which("redis-server")
        if executable is None:
            raise RuntimeError(_MISSING)
        for _ in range(attempts):
            self.port = port or free_port()
            options = {
                "--bind": "127.0.0.1",
                "--port": str(self.port),
                "--save": "",
                "--appendonly": "no",
                "--dir": str(self.directory),
            }
            self._process = subprocess.Popen(
                [executable, *(word for pair in options.items() for word in pair)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if self._wait_ready():
                return
            self.stop()
        raise RuntimeError(f"redis-server did not start (last port {self.port})")

    def _wait_ready(self, timeout: float = 10.0) -> bool:
        assert self._process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            try:
                if self.command(b"PING") == b"+PONG":
                    return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def command(self, *words: bytes) -> bytes:
        """Send one command (RESP) and return the first line of the reply."""
        request = b"*%d\r\n" % len(words) + b"".join(
            b"$%d\r\n%s\r\n" % (len(word), word) for word in words
        )
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as conn:
            conn.sendall(request)
            reply = b""
            while not reply.endswith(b"\r\n"):
                chunk = conn.recv(4096)
                if not chunk:
                    break
                reply += chunk
        return reply.split(b"\r\n", 1)[0]

    def stop(self) -> None:
        """End the server (SIGTERM, then SIGKILL)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A ``redis-server`` for the whole session (skips where it is not installed)."""
    if shutil.which("redis-server") is None:
        pytest.skip(_MISSING)
    with tempfile.TemporaryDirectory(prefix="rxlivechat-redis-") as directory:
        server = RedisServer(Path(directory))
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The URL of the session's ``redis-server``, emptied for this test."""
    assert redis_server.command(b"FLUSHALL") == b"+OK"
    return redis_server.url
