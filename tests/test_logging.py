"""Logging: everything under the ``rxlivechat`` logger, no printing, no token."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest

import rxlivechat
from rxlivechat import CustomerTokenProvider, Token
from rxlivechat.sandbox import Sandbox

from .helpers import connect, until

PACKAGE = Path(rxlivechat.__file__).parent

# The command line and the demo are the only places that write to the terminal.
MAY_WRITE = {
    "__main__.py",
    "cli/check_cassette.py",
    "cli/demo.py",
    "cli/tail.py",
    "cli/worker.py",
    "sandbox/cli.py",
}


async def test_no_access_token_reaches_a_log_record(
    sandbox: Sandbox,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, every level
    issued: list[str] = []
    fetch = CustomerTokenProvider._fetch

    async def recording_fetch(self: CustomerTokenProvider) -> Token:
        token = await fetch(self)
        issued.append(token.access_token)
        return token

    monkeypatch.setattr(CustomerTokenProvider, "_fetch", recording_fetch)

    sdk = connect(sandbox, reconnect_delay=(0.02, 0.1))
    seen: list[str] = []
    sdk.subscribe(lambda item: seen.append(item[0]))
    await sdk.wait_connected(timeout=10)

    # A reconnect after the network dropped, with refused attempts in between
    # (logged: "connection attempt failed").
    sandbox.refuse_connections(0.3)
    await sandbox.drop_connections()
    await until(lambda: seen.count("connection_restored") == 1)

    # A token refresh: LiveChat says the token expired.
    await sandbox.disconnect_customers("access_token_expired")
    await until(lambda: seen.count("connection_restored") == 2)
    await until(lambda: len(issued) == 2)

    # A login refused with a revoked token (the SDK drops it and fetches another).
    sandbox.tokens.revoke(issued[-1])
    await sandbox.drop_connections()
    await until(lambda: seen.count("connection_restored") == 3)
    await sdk.destroy()

    assert len(issued) == 3
    failed = [r for r in caplog.records if "connection attempt failed" in r.message]
    assert failed  # the logging paths ran
    assert all(r.name == "rxlivechat" for r in failed)
    logged = "\n".join(
        f"{r.name} {r.getMessage()} {r.args!r} {r.exc_text or ''}"
        for r in caplog.records
    )
    logged += caplog.text
    for token in issued:
        assert token not in logged
    # And the library printed nothing.
    out = capsys.readouterr()
    assert (out.out, out.err) == ("", "")


def test_the_package_logger_has_a_null_handler() -> None:
    handlers = logging.getLogger("rxlivechat").handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers)


def test_the_library_never_prints() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in {
                "print",
                "breakpoint",
            }:
                offenders.append(f"{name}:{node.lineno} {ast.unparse(node)[:40]}")
            if (
                isinstance(node, ast.Attribute)
                and node.attr in {"stdout", "stderr"}
                and getattr(node.value, "id", None) == "sys"
                and name not in MAY_WRITE
            ):
                offenders.append(f"{name}:{node.lineno} sys.{node.attr}")
    assert offenders == []


def test_every_logger_is_under_rxlivechat() -> None:
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", None) == "getLogger"
            ):
                (arg,) = node.args
                assert isinstance(arg, ast.Constant), path
                assert str(arg.value).split(".")[0] == "rxlivechat", path


async def test_the_life_and_the_requests_are_logged_without_tokens(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG, logger="rxlivechat")
    issued: list[str] = []
    fetch = CustomerTokenProvider._fetch

    async def recording_fetch(self: CustomerTokenProvider) -> Token:
        token = await fetch(self)
        issued.append(token.access_token)
        return token

    monkeypatch.setattr(CustomerTokenProvider, "_fetch", recording_fetch)
    sdk = connect(sandbox, reconnect_delay=(0.02, 0.1))
    seen: list[str] = []
    sdk.subscribe(lambda item: seen.append(item[0]))
    await sdk.wait_connected(timeout=10)
    customer = await sdk.get_customer()
    await sandbox.drop_connections()
    await until(lambda: "connection_restored" in seen)
    # The identity secret (__lc_cst); __lc_cid is the customer id, logged openly.
    cookies = [sdk._engine.identity_cookies["__lc_cst"]]
    await sdk.destroy()

    def logged(level: int, logger: str = "rxlivechat") -> list[str]:
        return [
            r.getMessage()
            for r in caplog.records
            if r.levelno == level and r.name == logger
        ]

    info = logged(logging.INFO)
    assert info[0] == f"connecting to {sandbox.api_url} (organization " + (
        f"{sandbox.organization_id})"
    )
    assert f"logged in as customer {customer.id}" in info
    assert "connection lost" in info
    assert any(m.startswith("reconnecting in ") for m in info)
    assert info[-1] == "disconnected (manual)"
    debug = logged(logging.DEBUG)
    assert "fetching a customer token" in debug
    assert any(m.startswith("customer token fetched") for m in debug)
    assert "socket open; logging in" in debug
    requests = logged(logging.DEBUG, "rxlivechat.requests")
    sent = [m for m in requests if m.startswith("sent get_customer (request ")]
    assert len(sent) == 1
    request_id = sent[0].removeprefix("sent get_customer (request ").rstrip(")")
    (settled,) = [m for m in requests if m.startswith("get_customer (request ")]
    assert settled.startswith(f"get_customer (request {request_id}): ok after ")
    assert settled.endswith(" ms")
    # A clean shutdown is no lost connection: lost once, by the drop only.
    assert seen.count("connection_lost") == 1
    assert seen[-1] == "disconnected"
    text = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert issued
    for token in issued:
        assert token not in text
    assert cookies
    for cookie in cookies:
        assert cookie not in text
