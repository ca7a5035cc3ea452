"""Who gets in, and what the sandbox serves: the attacks of issues 14 and 18.

Each test plays the attacker with a small raw client (aiohttp, or bytes on a
socket) against a sandbox on loopback, and checks the honest path still works.
"""

from __future__ import annotations

import asyncio
import io
import random
import re
from typing import Any

import aiohttp
import pytest
from hypothesis import given, strategies as st
from yarl import URL

from rxlivechat.protocol import methods as m
from rxlivechat.protocol.codec import decode
from rxlivechat.sandbox import IssuedToken, Sandbox
from rxlivechat.sandbox.security import file_headers, host_allowed, upload_content_type

from .conftest import Connect

TOKEN_BODY = {
    "grant_type": "cookie",
    "client_id": "my-client",
    "response_type": "token",
}


def token_url(sandbox: Sandbox) -> str:
    return f"{sandbox.accounts_url}/v2/customer/token"


async def cookie_grant(
    http: aiohttp.ClientSession, sandbox: Sandbox, cookies: dict[str, str] | None = None
) -> tuple[IssuedToken, dict[str, str]]:
    """POST the cookie grant; returns the token and the cookies the answer set."""
    body = {**TOKEN_BODY, "organization_id": sandbox.organization_id}
    async with http.post(token_url(sandbox), json=body, cookies=cookies) as r:
        assert r.status == 200, await r.text()
        issued = decode(await r.read(), IssuedToken)
        return issued, {name: morsel.value for name, morsel in r.cookies.items()}


async def upload(
    http: aiohttp.ClientSession,
    sandbox: Sandbox,
    token: str,
    data: bytes,
    *,
    name: str = "file.bin",
    content_type: str | None = None,
) -> aiohttp.ClientResponse:
    form = aiohttp.FormData()
    form.add_field("file", data, filename=name, content_type=content_type)
    async with http.post(
        sandbox.action_url("upload_file"),
        data=form,
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        await response.read()
        return response


async def upload_url(
    http: aiohttp.ClientSession, sandbox: Sandbox, token: str, data: bytes, **kw: Any
) -> str:
    response = await upload(http, sandbox, token, data, **kw)
    assert response.status == 200, response.status
    url: str = (await response.json())["url"]
    return url


# Identity secrets on the cookie grant ----------------------------------------------


async def test_cookie_grant_needs_the_identity_secret(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    victim, cookies = await cookie_grant(http, sandbox)
    assert set(cookies) == {"__lc_cid", "__lc_cst"}
    assert cookies["__lc_cid"] == victim.entity_id
    # The customer id alone (it is no secret: it rides in every chat) is not enough.
    attacker, _ = await cookie_grant(http, sandbox, {"__lc_cid": victim.entity_id})
    assert attacker.entity_id != victim.entity_id
    forged = {"__lc_cid": victim.entity_id, "__lc_cst": "guess"}
    attacker, _ = await cookie_grant(http, sandbox, forged)
    assert attacker.entity_id != victim.entity_id
    # Both cookies bring the customer back.
    again, renewed = await cookie_grant(http, sandbox, cookies)
    assert again.entity_id == victim.entity_id
    assert renewed == cookies


async def test_identity_cookies_are_http_only(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    body = {**TOKEN_BODY, "organization_id": sandbox.organization_id}
    async with http.post(token_url(sandbox), json=body) as r:
        headers = r.headers.getall("Set-Cookie")
    assert len(headers) == 2
    assert all("HttpOnly" in header for header in headers)


async def test_our_sdk_keeps_its_identity(sandbox: Sandbox) -> None:
    # The SDK's cookie jar holds both cookies: a fresh fetch is the same customer.
    from rxlivechat import CustomerTokenProvider

    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        provider = CustomerTokenProvider(
            http,
            accounts_url=sandbox.accounts_url,
            client_id="c",
            organization_id=sandbox.organization_id,
        )
        first = await provider()
        provider.invalidate()
        assert (await provider()).entity_id == first.entity_id
        assert {c.key for c in jar} == {"__lc_cid", "__lc_cst"}


# Agent tokens ---------------------------------------------------------------------


async def test_agent_token_grant_needs_a_sandbox_agent_token(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    customer = sandbox.new_customer()
    customer_token = (await sandbox.create_customer_token()).access_token
    body = {**TOKEN_BODY, "grant_type": "agent_token", "entity_id": customer.id}
    for bogus in ("dal:agent", "x", customer_token):
        headers = {"Authorization": f"Bearer {bogus}"}
        async with http.post(token_url(sandbox), json=body, headers=headers) as r:
            assert r.status == 401
            assert (await r.json())["oauth_exception"] == "unauthorized"
    agent = sandbox.agent("Jane")
    headers = {"Authorization": f"Bearer {agent.token}"}
    async with http.post(token_url(sandbox), json=body, headers=headers) as r:
        assert r.status == 200
        assert decode(await r.read(), IssuedToken).entity_id == customer.id
    # An agent token is no customer token.
    async with http.post(
        sandbox.action_url("get_customer"), json={}, headers=headers
    ) as r:
        assert r.status == 401


# Files ----------------------------------------------------------------------------


async def test_file_url_is_bound_to_its_organization_key_and_name(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    token = (await sandbox.create_customer_token()).access_token
    url = await upload_url(http, sandbox, token, b"secret", name="a.txt")
    async with http.get(url) as r:
        assert (r.status, await r.read()) == (200, b"secret")
    org, key, name = url.rsplit("/", 3)[1:]
    assert org == sandbox.organization_id
    other_org = "00000000-0000-4000-8000-000000000000"
    for wrong in (
        url.replace(org, other_org),
        url.replace(key, "0" * 32),
        url.replace(name, "b.txt"),
    ):
        async with http.get(wrong) as r:
            assert r.status == 404, wrong


ACTIVE = [
    "text/html",
    "text/html; charset=utf-8",
    "image/svg+xml",
    "application/xhtml+xml",
    "text/xml",
    "application/xml",
    "application/javascript",
    "text/javascript",
    "application/pdf",
    "application/octet-stream",
    "TEXT/HTML",
]


@pytest.mark.parametrize("content_type", ACTIVE)
async def test_active_uploads_are_served_as_attachments(
    sandbox: Sandbox, http: aiohttp.ClientSession, content_type: str
) -> None:
    token = (await sandbox.create_customer_token()).access_token
    page = b"<script>alert(document.cookie)</script>"
    url = await upload_url(
        http, sandbox, token, page, name="x.html", content_type=content_type
    )
    async with http.get(url) as r:
        assert r.status == 200
        assert await r.read() == page
        assert r.headers["Content-Type"] == "application/octet-stream"
        assert r.headers["Content-Disposition"].startswith("attachment;")
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in r.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("content_type", "served"),
    [
        ("image/png", "image/png"),
        ("image/jpeg", "image/jpeg"),
        ("text/plain", "text/plain"),
        ("text/plain; charset=iso-8859-1", "text/plain; charset=iso-8859-1"),
        ("video/mp4", "video/mp4"),
    ],
)
async def test_passive_uploads_are_served_inline(
    sandbox: Sandbox, http: aiohttp.ClientSession, content_type: str, served: str
) -> None:
    token = (await sandbox.create_customer_token()).access_token
    url = await upload_url(http, sandbox, token, b"data", content_type=content_type)
    async with http.get(url) as r:
        assert r.status == 200
        assert r.headers["Content-Type"] == served
        assert r.headers["Content-Disposition"].startswith("inline;")
        assert r.headers["X-Content-Type-Options"] == "nosniff"


async def test_the_file_name_cannot_break_the_header(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    token = (await sandbox.create_customer_token()).access_token
    name = 'a"; filename=x.png; ż\\<>.html'
    url = await upload_url(http, sandbox, token, b"x", name=name)
    async with http.get(URL(url, encoded=True)) as r:
        assert r.status == 200
        assert "Set-Cookie" not in r.headers
        assert r.content_disposition is not None
        assert r.content_disposition.type == "attachment"


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain; charset=utf-7",
        "text/html; charset=UTF-7",
        "text/plain; charset=utf-16",
        "text/plain; charset=no-such-codec",
        "text/plain; charset=utf-32",
        "multipart/x-mixed-replace; boundary=x",
        "text/ html",
        "html",
    ],
)
async def test_unusable_types_are_refused_at_upload(
    sandbox: Sandbox, http: aiohttp.ClientSession, content_type: str
) -> None:
    token = (await sandbox.create_customer_token()).access_token
    response = await upload(http, sandbox, token, b"+ADw-", content_type=content_type)
    assert response.status == 400
    assert (await response.json())["error"]["type"] == "validation"


async def test_nosniff_on_every_response(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    token = (await sandbox.create_customer_token()).access_token
    for method, url, headers in [
        ("POST", sandbox.action_url("get_customer"), {"Authorization": token}),
        ("POST", sandbox.action_url("get_customer"), {}),
        ("GET", f"{sandbox.api_url}/nowhere", {}),
        ("POST", token_url(sandbox), {}),
    ]:
        async with http.request(method, url, json={}, headers=headers) as r:
            assert r.headers.get("X-Content-Type-Options") == "nosniff", url


# Secrets --------------------------------------------------------------------------


def untemper(value: int) -> int:
    """Invert the Mersenne Twister's output tempering (one 32-bit word)."""
    value ^= value >> 18
    value ^= (value << 15) & 0xEFC60000
    result = value
    for _ in range(5):  # y ^= (y << 7) & b, undone 7 bits at a time
        result = value ^ ((result << 7) & 0x9D2C5680)
    value = result & 0xFFFFFFFF
    result = value
    for _ in range(3):  # y ^= y >> 11
        result = value ^ (result >> 11)
    return result & 0xFFFFFFFF


def clone_from_keys(keys: list[str]) -> random.Random:
    """A ``random.Random`` in the state that produced these 128-bit hex keys."""
    words: list[int] = []
    for key in keys:
        number = int(key, 16)
        words += [(number >> (32 * i)) & 0xFFFFFFFF for i in range(4)]
    state = tuple(untemper(w) for w in words[-624:])
    clone = random.Random()
    clone.setstate((3, (*state, 624), None))
    return clone


def test_the_attack_works_on_a_mersenne_twister() -> None:
    # The test below is only meaningful if the attack predicts MT output.
    victim = random.Random(2026)
    keys = [f"{victim.getrandbits(128):032x}" for _ in range(156)]
    clone = clone_from_keys(keys)
    assert [clone.getrandbits(128) for _ in range(5)] == [
        victim.getrandbits(128) for _ in range(5)
    ]


async def test_file_keys_cannot_be_predicted(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    token = (await sandbox.create_customer_token()).access_token
    urls = [await upload_url(http, sandbox, token, b"x") for _ in range(156)]
    keys = [url.rsplit("/", 2)[1] for url in urls]
    clone = clone_from_keys(keys)
    predicted = {f"{clone.getrandbits(128):032x}" for _ in range(8)}
    nxt = (await upload_url(http, sandbox, token, b"x")).rsplit("/", 2)[1]
    assert nxt not in predicted
    assert all(re.fullmatch(r"[0-9a-f]{32}", key) for key in keys)


async def test_seed_reproduces_ids_never_secrets(http: aiohttp.ClientSession) -> None:
    async with Sandbox(seed=42) as first, Sandbox(seed=42) as second:
        assert first.organization_id == second.organization_id
        a = await first.create_customer_token()
        b = await second.create_customer_token()
        assert a.entity_id == b.entity_id
        assert a.access_token != b.access_token
        assert first.agent("Jo").token != second.agent("Jo").token
        _, cookies_a = await cookie_grant(http, first)
        _, cookies_b = await cookie_grant(http, second)
        assert cookies_a["__lc_cid"] == cookies_b["__lc_cid"]
        assert cookies_a["__lc_cst"] != cookies_b["__lc_cst"]


# Reachable from any web page --------------------------------------------------------


async def raw_request(port: int, head: str) -> tuple[int, str]:
    """Send a raw HTTP/1.1 request head; returns the status and the whole answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head.replace("\n", "\r\n").encode() + b"\r\n")
        await writer.drain()
        async with asyncio.timeout(5):
            answer = (await reader.read(65536)).decode("latin-1")
    finally:
        writer.close()
        await writer.wait_closed()
    return int(answer.split(" ", 2)[1]), answer


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("evil.example:{port}", 403),
        ("evil.example", 403),
        ("127.0.0.1:1", 403),
        ("127.0.0.1.evil.example:{port}", 403),
        ("127.0.0.1:{port}", 200),
        ("localhost:{port}", 200),
        ("[::1]:{port}", 200),
        ("LOCALHOST:{port}", 200),
    ],
)
async def test_host_must_name_the_sandbox(
    sandbox: Sandbox, host: str, status: int
) -> None:
    token = (await sandbox.create_customer_token()).access_token
    org = sandbox.organization_id
    path = f"/v3.6/customer/action/get_customer?organization_id={org}"
    got, answer = await raw_request(
        sandbox.port,
        f"POST {path} HTTP/1.1\nHost: {host.format(port=sandbox.port)}\n"
        f"Authorization: Bearer {token}\nContent-Length: 2\nConnection: close\n\n{{}}",
    )
    assert got == status, answer
    assert "nosniff" in answer


async def test_websocket_with_a_foreign_host_is_refused(sandbox: Sandbox) -> None:
    status, _ = await raw_request(
        sandbox.port,
        f"GET /v3.6/customer/rtm/ws?organization_id={sandbox.organization_id} "
        f"HTTP/1.1\nHost: rebound.example:{sandbox.port}\nUpgrade: websocket\n"
        "Connection: Upgrade\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\n"
        "Sec-WebSocket-Version: 13\n",
    )
    assert status == 403


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "null",
        "http://127.0.0.1:1",
        "http://localhost.evil.example",
    ],
)
async def test_websocket_from_a_foreign_origin_is_refused(
    sandbox: Sandbox, http: aiohttp.ClientSession, origin: str
) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await http.ws_connect(sandbox.ws_url, origin=origin)
    assert refused.value.status == 403
    assert sandbox.connections == []


async def test_own_and_configured_origins_are_allowed(
    http: aiohttp.ClientSession, connect: Connect
) -> None:
    async with Sandbox(allowed_origins=["http://localhost:3000"]) as sandbox:
        for origin in (
            None,  # non-browser clients send no Origin
            f"http://127.0.0.1:{sandbox.port}",
            f"http://localhost:{sandbox.port}",
            "http://localhost:3000",
        ):
            async with http.ws_connect(sandbox.ws_url, origin=origin) as ws:
                await ws.send_str('{"action": "ping", "payload": {}}')
                reply = await ws.receive_json(timeout=3)
                assert reply["success"] is True
        token = (await sandbox.create_customer_token()).access_token
        rtm = await connect(sandbox, token)
        assert (await rtm.call(m.GetCustomer())).id


async def test_foreign_origin_http_requests_are_refused(
    sandbox: Sandbox, http: aiohttp.ClientSession
) -> None:
    body = {**TOKEN_BODY, "organization_id": sandbox.organization_id}
    headers = {"Origin": "https://evil.example"}
    async with http.post(token_url(sandbox), json=body, headers=headers) as r:
        assert r.status == 403
    assert sandbox.count() == 0


async def test_the_command_line_sandbox_takes_a_free_port_by_default() -> None:
    # A fixed well-known port is one any web page can guess; two default
    # sandboxes side by side also show no port is fixed.
    from rxlivechat.__main__ import parser
    from rxlivechat.sandbox.cli import serve_forever

    widget = "http://localhost:3000"
    args = parser().parse_args(["sandbox", "--allow-origin", widget])
    assert (args.port, args.allow_origin) == (0, [widget])
    outs = [io.StringIO(), io.StringIO()]
    readies = [asyncio.Event(), asyncio.Event()]
    servers = [
        asyncio.ensure_future(
            serve_forever(out=out, ready=ready, allowed_origins=args.allow_origin)
        )
        for out, ready in zip(outs, readies, strict=True)
    ]
    try:
        async with asyncio.timeout(10):
            await asyncio.gather(*(ready.wait() for ready in readies))
        urls = {out.getvalue().splitlines()[0].split(": ")[1] for out in outs}
        assert len(urls) == 2
        async with aiohttp.ClientSession() as http:
            for url in urls:
                async with http.get(f"{url}/nowhere", headers={"Origin": widget}) as r:
                    assert r.status == 404  # served (not 403), and not found
    finally:
        for server in servers:
            server.cancel()
        await asyncio.gather(*servers, return_exceptions=True)


async def test_configured_widget_origins_get_cors_answers(
    http: aiohttp.ClientSession,
) -> None:
    widget = "http://localhost:3000"
    async with Sandbox(allowed_origins=[widget]) as sandbox:
        preflight = {
            "Origin": widget,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        }
        async with http.options(token_url(sandbox), headers=preflight) as r:
            assert r.status == 204
            assert r.headers["Access-Control-Allow-Origin"] == widget
            assert "POST" in r.headers["Access-Control-Allow-Methods"]
            assert "Authorization" in r.headers["Access-Control-Allow-Headers"]
        body = {**TOKEN_BODY, "organization_id": sandbox.organization_id}
        async with http.post(
            token_url(sandbox), json=body, headers={"Origin": widget}
        ) as r:
            assert r.status == 200
            assert r.headers["Access-Control-Allow-Origin"] == widget
            assert r.headers["Access-Control-Allow-Credentials"] == "true"
        # Another origin gets neither an answer nor CORS headers.
        preflight["Origin"] = "http://localhost:3001"
        async with http.options(token_url(sandbox), headers=preflight) as r:
            assert r.status == 403
            assert "Access-Control-Allow-Origin" not in r.headers


# The pure checks, fuzzed ------------------------------------------------------------


@given(st.text(max_size=40))
def test_only_loopback_names_pass_the_host_check(host: str) -> None:
    if host_allowed(host, 8080):
        name = host.strip().lower().removesuffix(":8080")
        assert name in ("127.0.0.1", "localhost", "[::1]")


@given(st.text(max_size=60), st.text(max_size=30))
def test_stored_types_are_clean_or_refused(declared: str, filename: str) -> None:
    try:
        stored = upload_content_type(declared, filename)
    except ValueError:
        return
    mime, _, charset = stored.partition("; charset=")
    assert re.fullmatch(r"[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+", mime)
    if charset:
        assert re.fullmatch(r"[a-z0-9._:-]+", charset)
        assert "<>&+".encode(charset) == b"<>&+"


@given(st.text(max_size=40), st.sampled_from(["text/html", "image/png", "x/y"]))
def test_file_headers_hold_no_line_breaks(name: str, content_type: str) -> None:
    served, headers = file_headers(content_type, name)
    for value in (served, *headers.values()):
        assert value.isprintable()
        assert value.isascii()
