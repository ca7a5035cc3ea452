"""Customer tokens: fetched from the accounts API, cached, refreshed, identity kept."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import aiohttp.web
import pytest

from rxlivechat import ConnectError, CustomerTokenProvider, Token
from rxlivechat.sandbox import Sandbox


def test_token_repr_never_shows_the_secret() -> None:
    token = Token(access_token="dal:SECRET", entity_id="c1")
    assert "SECRET" not in repr(token)
    assert token.authorization == "Bearer dal:SECRET"


def test_token_expiry_is_counted_from_its_creation() -> None:
    created = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    token = Token(access_token="t", expires_in=60, created_at=created)
    assert token.expires_at == created + datetime.timedelta(seconds=60)


async def test_tokens_are_cached_until_close_to_expiry(sandbox: Sandbox) -> None:
    # The identity rides on the accounts API's cookies (grant_type "cookie"); the
    # SDK's session keeps them, loopback addresses included.
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        provider = CustomerTokenProvider(
            http,
            accounts_url=sandbox.accounts_url,
            client_id="c",
            organization_id=sandbox.organization_id,
            refresh_before=datetime.timedelta(seconds=1),
        )
        first = await provider()
        assert await provider() is first
        assert provider.fetches == 1
        provider.invalidate()
        second = await provider()
        assert provider.fetches == 2
        assert second.access_token != first.access_token
        assert second.entity_id == first.entity_id  # the same customer


async def test_a_token_about_to_expire_is_replaced(sandbox: Sandbox) -> None:
    async with aiohttp.ClientSession() as http:
        provider = CustomerTokenProvider(
            http,
            accounts_url=sandbox.accounts_url,
            client_id="c",
            organization_id=sandbox.organization_id,
            refresh_before=datetime.timedelta(days=1),  # longer than any lifetime
        )
        await provider()
        await provider()
        assert provider.fetches == 2


async def test_a_refused_token_request_is_a_connect_error(sandbox: Sandbox) -> None:
    async with aiohttp.ClientSession() as http:
        provider = CustomerTokenProvider(
            http,
            accounts_url=sandbox.accounts_url,
            client_id="c",
            organization_id="no-such-organization",
        )
        with pytest.raises(ConnectError, match="refused"):
            await provider()
        unreachable = CustomerTokenProvider(
            http, accounts_url="http://127.0.0.1:9", client_id="c", organization_id="o"
        )
        with pytest.raises(ConnectError):
            await unreachable()


async def test_identities_ride_on_a_session_that_keeps_no_cookies(
    sandbox: Sandbox,
) -> None:
    # One session for many customers (a pool's): each provider keeps its own
    # accounts cookies and sends them itself.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:

        def provider(**options: Any) -> CustomerTokenProvider:
            return CustomerTokenProvider(
                http,
                accounts_url=sandbox.accounts_url,
                client_id="c",
                organization_id=sandbox.organization_id,
                **options,
            )

        alice, bob = provider(), provider()
        first = [await alice(), await bob()]
        assert first[0].entity_id != first[1].entity_id
        assert alice.cookies["__lc_cid"] == first[0].entity_id
        alice.invalidate()
        bob.invalidate()
        assert (await alice()).entity_id == first[0].entity_id
        assert (await bob()).entity_id == first[1].entity_id
        # A stored identity: the same customer from a fresh provider, whose
        # dict (the caller's own) follows every reply.
        stored = dict(alice.cookies)
        again = provider(cookies=stored)
        assert again.cookies is stored
        assert (await again()).entity_id == first[0].entity_id
        assert (await provider()()).entity_id not in {t.entity_id for t in first}


@pytest.fixture
async def cookie_server() -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    """A token endpoint on 127.0.0.1 whose replies set, then delete, cookies.

    Yields its base URL and the cookies each request brought.
    """
    received: list[dict[str, str]] = []
    replies = [
        [
            "keep=1; Path=/",
            "gone=2; Path=/",
            "expired=3; Path=/",
            "outlived=4; Path=/",
            'quoted="a b"; Path=/',
            "ancient=6; Path=/",
        ],
        [
            "keep=10; Path=/; Max-Age=3600",
            "gone=; Path=/; Max-Age=0",  # how aiohttp's del_cookie says it
            "expired=; Path=/; Expires=Thu, 01-Jan-1970 00:00:00 GMT",
            # Max-Age wins over Expires (RFC 6265): still alive.
            "outlived=5; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
            "ancient=; Expires=Sun Nov  6 08:49:37 1994",  # asctime: GMT
            "odd=7; Expires=not a date",  # an unreadable date is ignored
        ],
        [],
    ]

    async def token(request: aiohttp.web.Request) -> aiohttp.web.Response:
        received.append(dict(request.cookies))
        body = {"access_token": "t", "entity_id": "c1", "expires_in": 60}
        response = aiohttp.web.json_response(body | {"token_type": "Bearer"})
        for cookie in replies[len(received) - 1]:
            response.headers.add("Set-Cookie", cookie)
        return response

    app = aiohttp.web.Application()
    app.router.add_post("/v2/customer/token", token)
    runner = aiohttp.web.AppRunner(app)
    await runner.setup()
    await aiohttp.web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}", received
    await runner.cleanup()


async def test_a_cookie_the_server_deletes_is_dropped(
    cookie_server: tuple[str, list[dict[str, str]]],
) -> None:
    url, received = cookie_server
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        provider = CustomerTokenProvider(
            http, accounts_url=url, client_id="c", organization_id="o"
        )
        await provider()
        set_first = {
            "keep": "1",
            "gone": "2",
            "expired": "3",
            "outlived": "4",
            "quoted": "a b",
            "ancient": "6",
        }
        assert provider.cookies == set_first
        provider.invalidate()
        await provider()
        kept = {"keep": "10", "outlived": "5", "quoted": "a b", "odd": "7"}
        assert provider.cookies == kept
        provider.invalidate()
        await provider()  # a reply that sets nothing changes nothing
    assert received == [{}, set_first, kept]  # sent back as the server set them
