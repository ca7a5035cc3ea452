"""Why the server disconnected, and what the engine does: as the docs say, never a loop.

Each case cites the LiveChat docs (repository livechat-public-docs):
customer-sdk = src/pages/extending-chat-widget/customer-sdk/index.mdx.
"""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp.web
import pytest

from rxlivechat import (
    MisdirectedRequestError,
    SDKClosedError,
    Token,
    UsersLimitReachedError,
)
from rxlivechat.engine.engine import (
    FATAL_LOGIN_ERRORS,
    RECONNECT_REASONS,
    REFRESH_TOKEN_REASONS,
    REGION_REASON,
)
from rxlivechat.engine.web import WebClient
from rxlivechat.protocol.methods import GetCustomer
from rxlivechat.protocol.pushes import DisconnectionData
from rxlivechat.sandbox import Sandbox

from ..helpers import Recorder, connect, until

RECONNECT_DOC = Path(__file__).parents[2] / "docs" / "reconnect.md"


def _doc_rows() -> dict[str, set[str]]:
    """docs/reconnect.md's reason table: what the SDK does → the reasons named."""
    text = RECONNECT_DOC.read_text()
    section = text.split("## Why the server disconnected", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, set[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and "`" in cells[0]:
            rows[cells[1]] = set(re.findall(r"`([a-z_]+)`", cells[0]))
    return rows


def test_the_docs_table_says_what_the_engine_does() -> None:
    rows = _doc_rows()

    def row(starting: str) -> set[str]:
        (found,) = [r for action, r in rows.items() if action.startswith(starting)]
        return found

    assert row("reconnects, with backoff") == RECONNECT_REASONS
    assert row("drops the cached token") == REFRESH_TOKEN_REASONS
    assert row("moves to") == {REGION_REASON}
    stopping = row("stops for good")
    assert not stopping & (RECONNECT_REASONS | REFRESH_TOKEN_REASONS)
    assert "users_limit_reached" in stopping
    login = RECONNECT_DOC.read_text().split("Login errors behave the same way", 1)[1]
    login = login.split("stop for\ngood.", 1)[0]
    assert set(re.findall(r"`([a-z_]+)`", login)) - {"authentication"} == (
        FATAL_LOGIN_ERRORS
    )


async def test_users_limit_at_login_stops_with_a_typed_error(sandbox: Sandbox) -> None:
    # customer-sdk, "Hard limit error handling": the official SDK reports
    # 'users_limit_reached' and waits for the user; retrying would storm an
    # organization already at its cap.
    sandbox.fail_next("login", "users_limit_reached", count=100)
    sdk = connect(sandbox, request_timeout=60)
    seen = Recorder(sdk)
    with pytest.raises(SDKClosedError, match="users_limit_reached") as failed:
        await sdk.get_customer()
    assert isinstance(failed.value.__cause__, UsersLimitReachedError)
    await seen.wait_for("disconnected")
    assert [d.reason for d in seen.of("disconnected")] == ["users_limit_reached"]
    assert sandbox.count("login") == 1  # no retry storm
    sandbox.faults.clear()
    sdk.connect()  # only an explicit connect() tries again
    await sdk.wait_connected(timeout=10)


async def test_misdirected_with_a_custom_url_stops_naming_the_region(
    sandbox: Sandbox,
) -> None:
    sdk = connect(sandbox)
    seen = Recorder(sdk)
    await sdk.wait_connected(timeout=10)
    await sandbox.disconnect_customers(
        "misdirected_connection", DisconnectionData(region="fra")
    )
    (stopped,) = await seen.wait_for("disconnected")
    assert (stopped.reason, stopped.data) == (
        "misdirected_connection",
        {"region": "fra"},
    )
    assert sandbox.count("login") == 1  # not reconnected to the same host


async def test_misdirected_moves_to_the_region_and_never_loops() -> None:
    # customer-sdk, "Misdirected connection": "Customer SDK reconnects to the
    # correct region on its own". The region's host comes from region_url.
    async with Sandbox() as dal, Sandbox(organization_id=None) as fra:
        # One organization in two regions, with one accounts service. The
        # region's name is the host part region_url's {region} stands for.
        fra.store.organization_id = dal.organization_id
        fra.tokens = dal.tokens
        sdk = connect(dal, region_url=fra.api_url.replace("127.0.0.1", "{region}"))
        seen = Recorder(sdk)
        await sdk.wait_connected(timeout=10)
        await dal.disconnect_customers(
            "misdirected_connection", DisconnectionData(region="127.0.0.1")
        )
        await until(lambda: fra.count("login") == 1)
        await seen.wait_for("connection_restored")
        assert dal.count("login") == 1
        # Misdirected again at the region it was sent to: it stops.
        await fra.disconnect_customers(
            "misdirected_connection", DisconnectionData(region="127.0.0.1")
        )
        (stopped,) = await seen.wait_for("disconnected")
        assert stopped.reason == "misdirected_connection"
        assert fra.count("login") == 1
        await sdk.destroy()


async def test_a_misdirected_web_request_is_sent_to_the_region_once(
    sandbox: Sandbox,
) -> None:
    # customer-chat-api index.mdx, Errors: {"type": "misdirected_request",
    # "message": "Wrong region", "data": {"region": "dal"}}. A server on
    # 127.0.0.1 plays the wrong region: every action answers that error.
    calls: list[str] = []

    async def wrong_region(request: aiohttp.web.Request) -> aiohttp.web.Response:
        calls.append(request.path)
        error = {"type": "misdirected_request", "message": "Wrong region"}
        body = {"error": error | {"data": {"region": "127.0.0.1"}}}
        return aiohttp.web.json_response(body, status=421)

    app = aiohttp.web.Application()
    app.router.add_route("*", "/{tail:.*}", wrong_region)
    runner = aiohttp.web.AppRunner(app)
    await runner.setup()
    site = aiohttp.web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    issued = await sandbox.create_customer_token()
    token = Token(access_token=issued.access_token, expires_in=3600)
    moves: list[object] = []

    def follow(region: object) -> str | None:
        moves.append(region)
        if len(moves) > 1:
            return None  # misdirected at the region too: give up
        web.api_url = sandbox.api_url.replace("127.0.0.1", str(region))
        return web.api_url

    async def the_token() -> Token:
        return token

    try:
        async with aiohttp.ClientSession() as http:
            web = WebClient(
                lambda: http,
                the_token,
                api_url=f"http://127.0.0.1:{port}",
                organization_id=sandbox.organization_id,
                timeout=5,
                follow_region=follow,
            )
            customer = await web.call(GetCustomer())
            assert customer.id
            assert (len(calls), moves) == (1, ["127.0.0.1"])
            assert sandbox.count("get_customer", transport="web") == 1
            web.api_url = f"http://127.0.0.1:{port}"
            with pytest.raises(MisdirectedRequestError):
                await web.call(GetCustomer())
            assert len(calls) == 2  # asked the region once, never looped
    finally:
        await runner.cleanup()
