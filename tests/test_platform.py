"""Platforms: rxlivechat imports and runs where POSIX-only modules do not exist.

Each test runs a real child process under :mod:`tests.windowsish`, which takes away
what Windows' Python lacks (``fcntl``, ``resource``, ``termios``, ``os.fork``...)
and gives ``asyncio.run`` a loop without ``add_reader`` or ``add_signal_handler``,
as Windows' Proactor loop. A module-level ``import fcntl`` anywhere in the package,
or a loop API the Proactor loop lacks on the client's path, fails here on Linux.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from pathlib import Path

import pytest

from rxlivechat.cli.worker import namespace
from rxlivechat.partitions import DEFAULT_PARTITIONS, partition_of
from rxlivechat.sandbox import Sandbox

from .helpers import until
from .redis_server import RedisServer, redis_server, redis_url  # noqa: F401
from .windowsish import POSIX_ONLY_MODULES

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.timeout(120)

# Imports every module of the package; prints {module: the missing module's name}
# for those that could not be imported.
IMPORT_ALL = """
import json, pkgutil, importlib, os, sys
import rxlivechat
failed = {}
for info in pkgutil.walk_packages(rxlivechat.__path__, "rxlivechat."):
    try:
        importlib.import_module(info.name)
    except ImportError as exc:
        failed[info.name] = exc.name
print(json.dumps({
    "failed": failed,
    "loaded": sorted(set(sys.modules) & {"fcntl", "resource", "termios"}),
    "fork": hasattr(os, "fork"),
}))
"""


async def windowsish(
    *args: str, timeout: float = 90, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """Run ``python -m tests.windowsish *args``: (status, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.windowsish",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=None if env is None else os.environ | env,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_the_simulation_refuses_what_windows_lacks() -> None:
    status, _, err = await windowsish("-c", "import fcntl")
    assert status == 1
    assert "ModuleNotFoundError: No module named 'fcntl'" in err
    assert "windowsish: refused fcntl" in err


async def test_every_module_imports_without_posix_only_modules() -> None:
    status, out, err = await windowsish("-c", IMPORT_ALL)
    assert status == 0, err
    report = json.loads(out)
    assert report["loaded"] == []
    assert report["fork"] is False
    # Only optional extras may be missing (in a lean virtualenv): never a POSIX one.
    posix = {
        m: name for m, name in report["failed"].items() if name in POSIX_ONLY_MODULES
    }
    assert posix == {}
    assert "rxlivechat.stores.sqlite" not in report["failed"]
    assert "rxlivechat.cli.worker" not in report["failed"]


async def test_a_chat_kept_in_an_sqlite_store_runs_without_posix_only_modules(
    tmp_path: Path,
) -> None:
    path = tmp_path / "store.db"
    status, out, err = await windowsish("tests.windowsish_chat", str(path))
    assert status == 0, err
    result = json.loads(out)
    assert result["loop"] == "ProactorLike"
    assert "Hi! Windows is fine." in result["received"]
    assert result["checkpoint"] == result["last_id"]  # handled, committed, flushed
    assert result["identity"] is True
    # The per-customer lock, with fcntl refused: a second handle is refused.
    assert result["second_handle"].startswith("refused: customer 'default' of")
    assert re.search(r"\(by process \d+\)", result["second_handle"])
    assert "use RedisStore to share customers" in result["second_handle"]
    assert "windowsish: refused" in err  # the simulation was in force


async def test_the_cli_writes_utf8_where_the_locale_cannot_encode_it() -> None:
    # A redirected stdout on Windows gets the ANSI code page, e.g. cp1252: no "│".
    status, out, err = await windowsish(
        "rxlivechat", "demo", env={"PYTHONIOENCODING": "cp1252"}
    )
    assert status == 0, err
    assert "Error" not in err, err
    lines = out.splitlines()
    assert any(line.startswith("  │ ") for line in lines), out
    assert lines[-1] == "done"


@pytest.mark.parametrize("simulated", [True, False], ids=["windowsish", "posix"])
@pytest.mark.parametrize(
    ("signum", "status"),
    [(signal.SIGTERM, 0), (signal.SIGINT, 130)],
    ids=["SIGTERM", "SIGINT"],
)
async def test_a_worker_asked_to_stop_releases_its_customer_and_exits(
    redis_server: RedisServer,  # noqa: F811
    redis_url: str,  # noqa: F811
    sandbox: Sandbox,
    simulated: bool,
    signum: signal.Signals,
    status: int,
) -> None:
    run = ["-m", "tests.windowsish"] if simulated else ["-m"]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *run,
        "rxlivechat",
        "worker",
        "--redis",
        redis_url,
        "--organization-id",
        sandbox.organization_id,
        "--api-url",
        sandbox.api_url,
        "--accounts-url",
        sandbox.accounts_url,
        "--lease-time",
        "1.5",
        "--worker-id",
        "w1",
        "--add",
        "k1",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    lines: list[dict[str, object]] = []

    async def read() -> None:
        assert process.stdout is not None
        async for raw in process.stdout:
            lines.append(json.loads(raw))

    reader = asyncio.get_running_loop().create_task(read())
    partition = partition_of("k1", DEFAULT_PARTITIONS)  # the lease is its partition's
    lease = f"{namespace(sandbox.organization_id)}:lease:{partition}".encode()
    try:
        await until(
            lambda: (
                {"customer": "k1", "event": "connected"}
                in [{k: line.get(k) for k in ("customer", "event")} for line in lines]
            ),
            timeout=60,
        )
        assert redis_server.command(b"GET", lease) == b"$2"  # "w1"
        process.send_signal(signum)
        assert await asyncio.wait_for(process.wait(), 30) == status
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await reader
    assert process.stderr is not None
    err = (await process.stderr.read()).decode()
    assert ("windowsish: refused" in err) is simulated
    assert {"worker": "w1", "released": "k1"} in lines
    assert redis_server.command(b"EXISTS", lease) == b":0"  # freed, not expired
    workers = f"{namespace(sandbox.organization_id)}:workers".encode()
    assert redis_server.command(b"ZSCORE", workers, b"w1") == b"$-1"  # left


async def test_the_sandbox_stops_on_ctrl_c_without_add_signal_handler() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.windowsish",
        "rxlivechat",
        "sandbox",
        "--port",
        "0",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(60):
            async for raw in process.stdout:
                if raw.startswith(b"serving until interrupted"):
                    break
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), 30) == 130
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.stderr is not None
    assert "windowsish: refused" in (await process.stderr.read()).decode()
