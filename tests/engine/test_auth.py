"""Customer tokens: fetched from the accounts API, cached, refreshed, identity kept."""

from __future__ import annotations

import datetime

import aiohttp
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
