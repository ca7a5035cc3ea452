"""The command line, run as a user would: in a subprocess."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import rxlivechat
from rxlivechat.sandbox import Sandbox

from .helpers import interruptible

CLI = [sys.executable, "-m", "rxlivechat"]
SCRIPT = Path(sys.executable).with_name("rxlivechat")


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.mark.parametrize(
    ("command", "mentions"),
    [
        ((), ["demo", "sandbox", "tail", "--version"]),
        (("demo",), ["--messages", "scripted agent"]),
        (("sandbox",), ["--port", "--tls", "--seed", "127.0.0.1"]),
        (("tail",), ["--organization-id", "--seconds", "JSON"]),
    ],
)
def test_help_describes_every_command(
    command: tuple[str, ...], mentions: list[str]
) -> None:
    result = run(*command, "--help")
    assert result.returncode == 0, result.stderr
    for word in mentions:
        assert word in result.stdout


def test_no_command_is_a_usage_error() -> None:
    result = run()
    assert result.returncode == 2
    assert "usage: rxlivechat" in result.stderr


@pytest.mark.skipif(not SCRIPT.exists(), reason="the package is not installed here")
def test_the_installed_script_is_the_same_cli() -> None:
    result = subprocess.run(
        [str(SCRIPT), "--version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert result.stdout.strip() == f"rxlivechat {rxlivechat.__version__}"


def test_demo_exits_0_after_a_whole_conversation() -> None:
    result = run("demo")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("sandbox on http://127.0.0.1:")
    assert "new_event" in out
    assert "Hello! Yes, we ship to all of Europe." in out
    assert "history (pages newest first; within a page, oldest first):" in out
    assert out.rstrip().endswith("done")


def test_tail_prints_the_event_stream_as_json_lines() -> None:
    result = run("tail", "--seconds", "1")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    events = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all(set(e) == {"event", "payload"} for e in events)
    names = [e["event"] for e in events]
    assert names.index("customer_id") < names.index("connected")
    said = [
        e["payload"]["event"]["text"]
        for e in events
        if e["event"] == "new_event" and e["payload"]["event"]["type"] == "message"
    ]
    assert "Hi! This is the sandbox's scripted agent." in said


def test_sandbox_prints_how_to_reach_it_then_serves_until_interrupted() -> None:
    proc = subprocess.Popen(
        [*CLI, "sandbox", "--port", "0", "--seed", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
        preexec_fn=interruptible,
    )
    try:
        assert proc.stdout is not None
        info: dict[str, str] = {}
        for line in proc.stdout:
            if line.startswith("serving until interrupted"):
                break
            key, _, value = line.rstrip("\n").partition(": ")
            info[key] = value
        assert set(info) >= {
            "api_url",
            "accounts_url",
            "rtm_url",
            "organization_id",
            "customer_id",
            "access_token",
        }, info
        assert info["api_url"].startswith("http://127.0.0.1:")

        # One request with the printed token: the customer it belongs to.
        request = urllib.request.Request(
            f"{info['api_url']}/v3.6/customer/action/get_customer"
            f"?organization_id={info['organization_id']}",
            data=b"{}",
            headers={
                "Authorization": f"Bearer {info['access_token']}",
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            customer = json.loads(response.read())
        assert customer["id"] == info["customer_id"]

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def _closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_sandbox_on_a_busy_port_says_so_in_one_line() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("sandbox", "--port", str(port))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"rxlivechat sandbox: port {port} is already in use "
        "(--port 0 picks a free port)\n"
    )


def test_tail_that_cannot_connect_says_why_at_once_and_exits_69() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    started = time.monotonic()
    result = run(
        "tail",
        *("--organization-id", "org", "--api-url", url, "--accounts-url", url),
    )
    assert time.monotonic() - started < 20  # the first failure, not a 30 s wait
    assert result.returncode == 69  # EX_UNAVAILABLE
    (line,) = result.stderr.splitlines()  # one line, no traceback
    assert line.startswith("rxlivechat tail: not connected: ")
    assert "cannot fetch a customer token" in line
    assert "Cannot connect to host 127.0.0.1" in line
    assert "retrying" not in line  # it exits: it does not say it goes on
    events = [json.loads(line)["event"] for line in result.stdout.splitlines()]
    assert "error" in events
    assert "connected" not in events


def test_tail_seconds_is_a_deadline_for_a_connection_that_does_not_come() -> None:
    # A server that accepts and never answers: only the deadline ends it.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        result = run(
            "tail",
            *("--seconds", "1", "--organization-id", "org"),
            *("--api-url", url, "--accounts-url", url),
        )
    assert result.returncode == 69
    (line,) = result.stderr.splitlines()
    assert line.startswith("rxlivechat tail: not connected within 1 s")


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (("--api-url", "127.0.0.1:1234"), "no scheme"),
        (("--api-url", "http://127.0.0.1:1234"), "accounts_url is missing"),
    ],
)
def test_tail_with_a_bad_url_is_a_usage_error_naming_it(
    options: tuple[str, ...], named: str
) -> None:
    result = run("tail", "--organization-id", "org", *options)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("rxlivechat tail: ")
    assert named in line


async def test_tail_with_a_wrong_organization_fails_at_once_in_one_line(
    sandbox: Sandbox,
) -> None:
    # No --seconds: only the permanent refusal can end it before the wait below.
    proc = await asyncio.create_subprocess_exec(
        *CLI,
        *("tail", "--organization-id", "no-such-organization"),
        *("--api-url", sandbox.api_url, "--accounts-url", sandbox.accounts_url),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(25):  # under the 30 s connect wait
            out, err = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 69
    (line,) = err.decode().splitlines()
    assert line.startswith("rxlivechat tail: not connected: the accounts API refused")
    assert "HTTP 400" in line
    assert b'"event":"error"' in out
