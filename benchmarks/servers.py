"""Start and stop the benchmark servers, each in its own process.

Both context managers yield once the server listens and always stop it (SIGINT,
then SIGKILL after a grace period) on the way out.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
START_TIMEOUT = 20.0


@dataclasses.dataclass(frozen=True)
class Server:
    api_url: str
    """``http://127.0.0.1:<port>``: the RTM socket is under it."""
    accounts_url: str
    organization_id: str
    pid: int


@contextlib.contextmanager
def stub() -> Iterator[Server]:
    """The fast stub (:mod:`benchmarks.stub_server`)."""
    command = [sys.executable, "-m", "benchmarks.stub_server", "--port", "0"]
    with _process(command, lambda lines: lines[-1].startswith("READY ")) as (
        proc,
        lines,
    ):
        port = int(lines[-1].split()[1])
        url = f"http://127.0.0.1:{port}"
        yield Server(url, url, "", proc.pid)


@contextlib.contextmanager
def sandbox() -> Iterator[Server]:
    """The rxlivechat sandbox, with room for load (benchmarks/sandbox_server.py)."""
    command = [sys.executable, "-m", "benchmarks.sandbox_server"]
    with _process(command, lambda lines: lines[-1].startswith("serving")) as (
        proc,
        lines,
    ):
        info = dict(line.split(": ", 1) for line in lines if ": " in line)
        yield Server(
            info["api_url"], info["accounts_url"], info["organization_id"], proc.pid
        )


@contextlib.contextmanager
def _process(
    command: list[str], ready: Callable[[list[str]], bool]
) -> Iterator[tuple[subprocess.Popen[bytes], list[str]]]:
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=errors
        )
        try:
            lines = _read_until(proc, ready)
            yield proc, lines
        except Exception:
            errors.seek(0)
            sys.stderr.write(errors.read().decode(errors="replace")[-4000:])
            raise
        finally:
            _stop(proc)


def _read_until(
    proc: subprocess.Popen[bytes], ready: Callable[[list[str]], bool]
) -> list[str]:
    """Lines of ``proc``'s stdout up to the one ``ready`` accepts."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    deadline = time.monotonic() + START_TIMEOUT
    buffer = b""
    lines: list[str] = []
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(timeout=deadline - time.monotonic()):
                break
            chunk = os.read(fd, 65536)
            if not chunk:
                raise RuntimeError(f"{command_name(proc)} exited before it was ready")
            buffer += chunk
            *complete, buffer = buffer.split(b"\n")
            for line in complete:
                lines.append(line.decode())
                if ready(lines):
                    return lines
    raise RuntimeError(f"{command_name(proc)} not ready within {START_TIMEOUT} s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    if proc.stdout is not None:
        proc.stdout.close()


def command_name(proc: subprocess.Popen[bytes]) -> str:
    args = proc.args
    return " ".join(args) if isinstance(args, list) else str(args)
