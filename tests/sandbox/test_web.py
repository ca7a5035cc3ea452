"""The Web API, uploads and the Accounts API over HTTP."""

from __future__ import annotations

import io
from typing import Any

import aiohttp
import msgspec
import pytest

from rxlivechat.protocol import methods as m
from rxlivechat.protocol.base import Method
from rxlivechat.protocol.codec import decode, encode
from rxlivechat.protocol.frames import ErrorBody
from rxlivechat.protocol.models import File
from rxlivechat.sandbox import HTTP_STATUS, Sandbox
from rxlivechat.sandbox.tokens import IssuedToken

from .conftest import Connect


class WebError(msgspec.Struct):
    error: ErrorBody


async def post(
    http: aiohttp.ClientSession,
    sandbox: Sandbox,
    method: Method[Any],
    token: str | None,
) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with http.post(
        sandbox.action_url(method.action), data=encode(method), headers=headers
    ) as response:
        return response.status, await response.read()


async def test_web_actions_share_state_and_pushes(
    sandbox: Sandbox, http: aiohttp.ClientSession, connect: Connect
) -> None:
    token = await sandbox.create_customer_token()
    rtm = await connect(sandbox, token.access_token)
    status, body = await post(http, sandbox, m.StartChat(), token.access_token)
    assert status == 200
    started = decode(body, m.StartChatResult)
    push = await rtm.push("incoming_chat")
    assert push.request_id is None  # a Web request has no socket to echo to
    assert push.payload.chat.id == started.chat_id
    status, body = await post(
        http, sandbox, m.ListThreads(chat_id=started.chat_id), token.access_token
    )
    assert decode(body, m.ListThreadsResult).threads[0].id == started.thread_id
    assert sandbox.count("start_chat", transport="web") == 1


async def test_web_errors_have_a_status_and_an_error_object(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    token = (await sandbox.create_customer_token()).access_token
    status, body = await post(http, sandbox, m.GetChat(chat_id="NOSUCHCHAT"), token)
    assert status == HTTP_STATUS["not_found"] == 404
    assert decode(body, WebError).error.type == "not_found"
    status, body = await post(http, sandbox, m.GetCustomer(), None)
    assert (status, decode(body, WebError).error.type) == (401, "authentication")
    status, body = await post(http, sandbox, m.GetCustomer(), "dal:forged")
    assert (status, decode(body, WebError).error.type) == (401, "authentication")
    async with http.post(
        sandbox.action_url("list_threads"),
        data=b"{broken",
        headers={"Authorization": token},  # without "Bearer " is accepted too
    ) as response:
        assert response.status == 400
        assert decode(await response.read(), WebError).error.type == "validation"
    async with http.post(sandbox.action_url("login"), json={}) as response:
        # RTM-only actions are not on the Web API; its error list (customer-chat-api
        # index.mdx, "Possible errors") has no not_found: validation, as over RTM.
        assert response.status == 400
        assert (await response.json())["error"]["type"] == "validation"
    async with http.get(sandbox.action_url("get_customer")) as response:
        assert response.status == 400  # wrong verb
    url = sandbox.action_url("get_customer").replace(sandbox.organization_id, "x")
    async with http.post(url, json={}, headers={"Authorization": token}) as response:
        assert response.status == 404
        assert decode(await response.read(), WebError).error.type == "license_not_found"


async def test_get_actions_take_query_parameters(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    base = sandbox.action_url("list_group_properties")
    async with http.get(base + "&id=0") as response:
        assert response.status == 200  # no token needed
        assert await response.json() == {}
    async with http.get(base + "&id=7") as response:
        assert response.status == 404
    async with http.get(base + "&id=zero") as response:
        assert response.status == 400
    async with http.get(
        sandbox.action_url("get_localization") + "&group_id=0&language=en&version=1"
    ) as response:
        assert response.status == 200
        assert "Welcome_title" in await response.json()
    async with http.get(sandbox.action_url("get_dynamic_configuration")) as response:
        config = decode(await response.read(), m.GetDynamicConfigurationResult)
        assert config.organization_id == sandbox.organization_id


async def test_upload_file_and_serve_it_back(
    sandbox: Sandbox, http: aiohttp.ClientSession, connect: Connect
) -> None:
    token = await sandbox.create_customer_token()
    rtm = await connect(sandbox, token.access_token)
    chat = await rtm.call(m.StartChat())
    form = aiohttp.FormData()
    form.add_field(
        "file", b"\x89PNG fake", filename="cat.png", content_type="image/png"
    )
    async with http.post(
        sandbox.action_url("upload_file"),
        data=form,
        headers={"Authorization": f"Bearer {token.access_token}"},
    ) as response:
        assert response.status == 200
        url = decode(await response.read(), m.UploadFileResult).url
    assert url.startswith(sandbox.api_url)
    assert url.endswith("/cat.png")
    async with http.get(url) as response:
        assert response.status == 200
        assert response.content_type == "image/png"
        assert await response.read() == b"\x89PNG fake"
    sent = await rtm.call(m.SendEvent(chat_id=chat.chat_id, event=File(url=url)))
    push = await rtm.push("incoming_event")
    assert push.payload.event.id == sent.event_id
    assert (push.payload.event.name, push.payload.event.size) == ("cat.png", 9)


async def test_upload_limit_is_10_mb(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    token = (await sandbox.create_customer_token()).access_token
    headers = {"Authorization": f"Bearer {token}"}
    for size, status in ((10 * 1024 * 1024, 200), (10 * 1024 * 1024 + 1, 413)):
        form = aiohttp.FormData()
        form.add_field("file", io.BytesIO(b"x" * size), filename="big.bin")
        async with http.post(
            sandbox.action_url("upload_file"), data=form, headers=headers
        ) as response:
            assert response.status == status
            if status == 413:
                error = decode(await response.read(), WebError).error
                assert error.type == "entity_too_large"
    form = aiohttp.FormData()
    form.add_field("other", b"x", filename="x.bin")
    async with http.post(
        sandbox.action_url("upload_file"), data=form, headers=headers
    ) as response:
        assert response.status == 400


async def test_upload_limit_is_checked_while_streaming(
    http: aiohttp.ClientSession,
) -> None:
    async with Sandbox(max_upload_bytes=1000) as sandbox:
        token = (await sandbox.create_customer_token()).access_token

        async def chunks() -> Any:
            for _ in range(5):
                yield b"y" * 500

        form = aiohttp.FormData()
        form.add_field("file", chunks(), filename="stream.bin")
        async with http.post(
            sandbox.action_url("upload_file"),
            data=form,
            headers={"Authorization": f"Bearer {token}"},
        ) as response:
            assert response.status == 413


# Accounts -------------------------------------------------------------------------


async def test_cookie_grant_issues_tokens(
    sandbox: Sandbox, http: aiohttp.ClientSession, connect: Connect
) -> None:
    url = f"{sandbox.accounts_url}/v2/customer/token"
    body = {
        "grant_type": "cookie",
        "client_id": "my-client",
        "organization_id": sandbox.organization_id,
        "response_type": "token",
    }
    async with http.post(url, json=body) as r:
        assert r.status == 200
        raw = await r.json()
        cookie = r.cookies["__lc_cid"].value
        secret = r.cookies["__lc_cst"].value
    issued = msgspec.convert(raw, IssuedToken)
    assert sorted(raw) == [
        "access_token",
        "entity_id",
        "expires_in",
        "organization_id",
        "token_type",
    ]
    assert issued.access_token.startswith("dal:")
    assert (issued.expires_in, issued.token_type) == (28800, "Bearer")
    assert issued.organization_id == sandbox.organization_id
    assert cookie == issued.entity_id
    rtm = await connect(sandbox, issued.access_token)
    assert (await rtm.call(m.GetCustomer())).id == issued.entity_id
    # The cookies bring back the same customer (a form body works too).
    cookies = {"__lc_cid": cookie, "__lc_cst": secret}
    async with http.post(url, data=body, cookies=cookies) as r:
        again = decode(await r.read(), IssuedToken)
    assert again.entity_id == issued.entity_id
    assert again.access_token != issued.access_token


async def test_agent_token_grant_with_entity_id(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    customer = sandbox.new_customer()
    url = f"{sandbox.accounts_url}/v2/customer/token"
    body = {"grant_type": "agent_token", "client_id": "c", "response_type": "token"}
    headers = {"Authorization": f"Bearer {sandbox.agent('Jane').token}"}
    async with http.post(
        url, json={**body, "entity_id": customer.id}, headers=headers
    ) as r:
        issued = decode(await r.read(), IssuedToken)
    assert (issued.entity_id, issued.client_id) == (customer.id, "c")
    async with http.post(url, json=body, headers=headers) as r:
        assert decode(await r.read(), IssuedToken).entity_id != customer.id
    async with http.post(url, json={**body, "expires_in": 60}, headers=headers) as r:
        assert decode(await r.read(), IssuedToken).expires_in == 60


@pytest.mark.parametrize(
    ("body", "headers", "error"),
    [
        ({"grant_type": "cookie", "organization_id": "?"}, {}, "invalid_request"),
        ({"grant_type": "cookie", "client_id": "c"}, {}, "invalid_request"),
        ({"grant_type": "agent_token", "client_id": "c"}, {}, "unauthorized"),
        (
            {"grant_type": "agent_token", "client_id": "c", "entity_id": "nobody"},
            {"Authorization": "agent"},  # an agent's token, set below
            "invalid_request",
        ),
        (
            {"grant_type": "identity_token", "client_id": "c"},
            {},
            "unsupported_grant_type",
        ),
    ],
)
async def test_token_errors(
    sandbox: Sandbox,
    http: aiohttp.ClientSession,
    body: dict[str, Any],
    headers: dict[str, str],
    error: str,
) -> None:
    if headers.get("Authorization") == "agent":
        headers = {"Authorization": f"Bearer {sandbox.agent('Jane').token}"}
    async with http.post(
        f"{sandbox.accounts_url}/v2/customer/token", json=body, headers=headers
    ) as r:
        assert r.status == (401 if error == "unauthorized" else 400)
        assert (await r.json())["oauth_exception"] == error


async def test_revoking_a_token_disconnects_its_sockets(
    sandbox: Sandbox, http: aiohttp.ClientSession, connect: Connect
) -> None:
    token = (await sandbox.create_customer_token()).access_token
    rtm = await connect(sandbox, token)
    async with http.delete(
        f"{sandbox.accounts_url}/v2/customer/token",
        headers={"Authorization": f"Bearer {token}"},
    ) as r:
        assert r.status == 204
    push = await rtm.push("customer_disconnected")
    assert push.payload.reason == "access_token_revoked"
    status, _ = await post(http, sandbox, m.GetCustomer(), token)
    assert status == 401
