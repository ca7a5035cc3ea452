"""Pages of a configured origin may call the sandbox (preflights, credentials)."""

from __future__ import annotations

import aiohttp
import pytest

from rxlivechat.sandbox import Sandbox

PAGE = "http://localhost:5173"  # a widget developer's dev server

pytestmark = pytest.mark.sandbox(allowed_origins=[PAGE])


async def test_preflight_of_an_upload_is_allowed(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    async with http.options(
        sandbox.action_url("upload_file"),
        headers={
            "Origin": PAGE,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
    ) as response:
        assert response.status == 204
        assert response.headers["Access-Control-Allow-Origin"] == PAGE
        assert response.headers["Access-Control-Allow-Credentials"] == "true"
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
        allowed = response.headers["Access-Control-Allow-Headers"].lower()
        assert "authorization" in allowed


async def test_credentialed_token_request_from_a_page(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    body = (
        '{"response_type": "token", "grant_type": "cookie", "client_id": "c",'
        f' "organization_id": "{sandbox.organization_id}",'
        f' "redirect_uri": "{PAGE}/products"}}'
    )
    async with http.post(
        f"{sandbox.accounts_url}/v2/customer/token",
        data=body,  # a string body: text/plain, as the SDK's XHR sends it
        headers={"Origin": PAGE, "Content-Type": "text/plain;charset=UTF-8"},
    ) as response:
        assert response.status == 200
        assert response.headers["Access-Control-Allow-Origin"] == PAGE
        assert response.headers["Access-Control-Allow-Credentials"] == "true"
        assert response.headers["Vary"] == "Origin"
        assert (await response.json())["entity_id"] in sandbox.store.customers


async def test_requests_without_origin_get_no_cors_headers(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    async with http.get(sandbox.action_url("get_dynamic_configuration")) as response:
        assert response.status == 200
        assert "Access-Control-Allow-Origin" not in response.headers
