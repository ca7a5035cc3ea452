"""Server-level features: TLS mode, loopback only, seeding, the standalone CLI."""

from __future__ import annotations

import asyncio
import io
import ssl

import aiohttp
import pytest

from rxlivechat.protocol import methods as m
from rxlivechat.sandbox import Sandbox
from rxlivechat.sandbox.cli import serve_forever

from .conftest import Connect


async def test_tls_mode_serves_https_and_wss(
    connect: Connect, http: aiohttp.ClientSession
) -> None:
    async with Sandbox(tls=True) as sandbox:
        assert sandbox.api_url.startswith("https://127.0.0.1:")
        assert sandbox.ws_url.startswith("wss://127.0.0.1:")
        context = sandbox.ssl_context_for_clients()
        assert context.verify_mode is ssl.CERT_REQUIRED
        token = await sandbox.create_customer_token()
        async with http.post(
            sandbox.action_url("get_customer"),
            json={},
            headers={"Authorization": f"Bearer {token.access_token}"},
            ssl=context,
        ) as response:
            assert response.status == 200
        async with http.ws_connect(sandbox.ws_url, ssl=context) as ws:
            await ws.send_str('{"request_id":"1","action":"ping"}')
            assert (await ws.receive_json())["success"] is True
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await http.get(sandbox.api_url)  # the default trust store refuses it


async def test_plain_mode_has_no_certificate(sandbox: Sandbox) -> None:
    with pytest.raises(RuntimeError):
        sandbox.ssl_context_for_clients()


def test_loopback_only() -> None:
    with pytest.raises(ValueError, match="loopback"):
        Sandbox(host="0.0.0.0")


async def test_seed_makes_runs_repeatable() -> None:
    async with Sandbox(seed=42) as first, Sandbox(seed=42) as second:
        assert first.organization_id == second.organization_id
        a = await first.create_customer_token()
        b = await second.create_customer_token()
        assert a.entity_id == b.entity_id
        assert a.access_token != b.access_token  # secrets are never seeded
        assert first.seed_chat() == second.seed_chat()


async def test_requests_are_recorded(sandbox: Sandbox, connect: Connect) -> None:
    token = await sandbox.create_customer_token()
    rtm = await connect(sandbox, token.access_token)
    await rtm.call(m.ListChats(limit=3))
    (record,) = sandbox.requests.of("list_chats")
    assert (record.transport, record.customer_id) == ("rtm", token.entity_id)
    assert record.payload == m.ListChats(limit=3)
    assert sandbox.count("login") == 1
    assert sandbox.count(transport="web") == 0
    assert len(sandbox.requests) == 2
    assert sandbox.requests[0].action == "login"


async def test_serve_forever_prints_how_to_connect(http: aiohttp.ClientSession) -> None:
    out = io.StringIO()
    ready = asyncio.Event()
    server = asyncio.ensure_future(serve_forever(0, seed=9, out=out, ready=ready))
    try:
        await asyncio.wait_for(ready.wait(), 5)
        lines = dict(
            line.split(": ", 1) for line in out.getvalue().splitlines() if ": " in line
        )
        assert lines["api_url"].startswith("http://127.0.0.1:")
        assert lines["accounts_url"] == lines["api_url"]
        assert lines["access_token"].startswith("dal:")
        async with http.post(
            f"{lines['api_url']}/v3.6/customer/action/get_customer"
            f"?organization_id={lines['organization_id']}",
            json={},
            headers={"Authorization": f"Bearer {lines['access_token']}"},
        ) as response:
            assert (await response.json())["id"] == lines["customer_id"]
    finally:
        server.cancel()
        with pytest.raises(asyncio.CancelledError):
            await server
