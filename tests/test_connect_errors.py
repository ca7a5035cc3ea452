"""Connection failures name their cause, fast (issue 30).

A refused port, a name that does not resolve, a URL without a scheme, a custom
``api_url`` without its ``accounts_url``: each fails within 2 s with a typed
error whose message names the cause, never a bare timeout after 15 or 20 s.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

import rxlivechat
from rxlivechat import (
    ConnectError,
    InvalidArgumentError,
    Message,
    NotConnectedError,
    RequestTimeoutError,
)
from rxlivechat.sandbox import Sandbox

from .helpers import CREATED, connect

FAST = 2.0
"""Seconds a failure may take to be reported (the first attempt's own time)."""


@pytest.fixture
def refused_url() -> Iterator[str]:
    """An http URL on 127.0.0.1 whose port refuses (bound, not listening)."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))  # held: no other test can take the port
        yield f"http://127.0.0.1:{held.getsockname()[1]}"


def init(**options: Any) -> rxlivechat.CustomerSDK:
    sdk = rxlivechat.init(**({"organization_id": "org", "client_id": "c"} | options))
    CREATED.append(sdk)
    return sdk


async def timed(awaitable: Any) -> tuple[BaseException, float]:
    """The error ``awaitable`` raised, and how long it took."""
    started = time.monotonic()
    with pytest.raises(Exception) as raised:  # noqa: PT011 (checked by the caller)
        async with asyncio.timeout(30):  # a regression must not hang the suite
            await awaitable
    return raised.value, time.monotonic() - started


async def test_a_refused_port_fails_wait_connected_at_once_naming_it(
    refused_url: str,
) -> None:
    sdk = init(api_url=refused_url, accounts_url=refused_url, request_timeout=15)
    error, took = await timed(sdk.wait_connected(20))
    assert isinstance(error, NotConnectedError)
    assert isinstance(error, ConnectError)
    assert took < FAST
    assert "Cannot connect to host 127.0.0.1" in str(error)
    assert isinstance(error.__cause__, ConnectError)
    assert str(error.__cause__) in str(error)


async def test_a_request_before_any_login_says_not_connected_not_no_reply(
    refused_url: str,
) -> None:
    sdk = init(api_url=refused_url, accounts_url=refused_url, request_timeout=15)
    error, took = await timed(sdk.start_chat([Message(text="hi")]))
    assert isinstance(error, NotConnectedError)
    assert took < FAST
    assert str(error).startswith("not connected: ")
    assert "Cannot connect to host" in str(error)
    assert "no reply" not in str(error)
    assert isinstance(error.__cause__, ConnectError)


async def test_an_unresolvable_host_fails_naming_it() -> None:
    url = "http://rxlivechat-test.invalid"  # RFC 2606: never resolves
    sdk = init(api_url=url, accounts_url=url)
    error, took = await timed(sdk.wait_connected(20))
    assert isinstance(error, NotConnectedError)
    assert took < FAST
    assert "rxlivechat-test.invalid" in str(error)
    assert isinstance(error.__cause__, ConnectError)


async def test_the_socket_refused_after_a_token_is_named(
    sandbox: Sandbox, refused_url: str
) -> None:
    # The token comes, the WebSocket's port refuses: that is the cause named.
    sdk = init(
        organization_id=sandbox.organization_id,
        api_url=refused_url,
        accounts_url=sandbox.accounts_url,
    )
    error, took = await timed(sdk.wait_connected(20))
    assert isinstance(error, NotConnectedError)
    assert took < FAST
    assert refused_url.removeprefix("http://") in str(error)


async def test_an_untrusted_certificate_is_named() -> None:
    # A TLS sandbox whose throwaway CA the client was not given.
    async with Sandbox(tls=True) as sandbox:
        sdk = init(
            organization_id=sandbox.organization_id,
            api_url=sandbox.api_url,
            accounts_url=sandbox.accounts_url,
        )
        error, took = await timed(sdk.wait_connected(20))
        await sdk.destroy()
    assert isinstance(error, NotConnectedError)
    assert took < FAST
    assert "certificate verify failed" in str(error)


async def test_an_http_status_is_named(sandbox: Sandbox) -> None:
    # A token endpoint that answers 404 (a wrong accounts path).
    sdk = init(
        organization_id=sandbox.organization_id,
        api_url=sandbox.api_url,
        accounts_url=f"{sandbox.accounts_url}/nope",
    )
    error, took = await timed(sdk.wait_connected(20))
    assert isinstance(error, ConnectError)
    assert took < FAST
    assert "HTTP 404" in str(error)


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"api_url": "127.0.0.1:1234"}, "no scheme"),
        ({"api_url": "localhost:1234"}, "no scheme"),
        ({"api_url": "ws://127.0.0.1:1234"}, "use http(s)"),
        ({"api_url": "http://"}, "with a host"),
        ({"api_url": "http://127.0.0.1:99999"}, "bad port"),
        (
            {"api_url": "https://api.livechatinc.com", "accounts_url": "accounts"},
            "accounts_url 'accounts'",
        ),
        ({"api_url": "http://127.0.0.1:1234"}, "accounts_url is missing"),
    ],
)
async def test_init_refuses_unusable_urls_saying_why(
    options: dict[str, str], named: str
) -> None:
    started = time.monotonic()
    with pytest.raises(InvalidArgumentError) as refused:
        init(**options)
    assert time.monotonic() - started < FAST
    assert named in str(refused.value)


async def test_a_custom_api_url_with_a_token_provider_needs_no_accounts_url(
    sandbox: Sandbox,
) -> None:
    sdk = connect(sandbox)
    await sdk.wait_connected(10)
    provider = sdk._engine._token_provider
    assert provider is not None
    other = init(
        organization_id=sandbox.organization_id,
        api_url=sandbox.api_url,
        token_provider=provider,
    )
    await other.wait_connected(10)
    assert other.accounts_url == "https://accounts.livechat.com"  # never used


async def test_without_fail_fast_the_wait_times_out_naming_the_cause(
    refused_url: str,
) -> None:
    sdk = init(api_url=refused_url, accounts_url=refused_url, fail_fast=False)
    error, took = await timed(sdk.wait_connected(0.5))
    assert isinstance(error, NotConnectedError)
    assert isinstance(error, TimeoutError)  # code that catches timeouts still does
    assert str(error).startswith("not connected within 0.5 s: ")
    assert "Cannot connect to host" in str(error)
    assert took < FAST


async def test_without_fail_fast_a_request_waits_then_says_why_it_was_not_sent(
    refused_url: str,
) -> None:
    sdk = init(
        api_url=refused_url,
        accounts_url=refused_url,
        fail_fast=False,
        request_timeout=0.5,
        reconnect_delay=(0.05, 0.1),
    )
    error, took = await timed(sdk.get_customer())
    assert isinstance(error, NotConnectedError)
    assert isinstance(error, RequestTimeoutError)
    assert "'get_customer' was not sent" in str(error)
    assert "Cannot connect to host" in str(error)
    assert took >= 0.4  # it waited for a connection, as asked


async def test_after_the_first_login_waits_and_requests_ride_out_reconnects() -> None:
    # Once logged in, a failed reconnect fails nothing at once: waits and
    # requests wait for the SDK's retries, and then say why they gave up.
    async with Sandbox() as sandbox:
        sdk = connect(sandbox, request_timeout=0.5, reconnect_delay=(0.05, 0.1))
        await sdk.wait_connected(10)
    errors: list[Exception] = []
    sdk.on("error", errors.append)
    async with asyncio.timeout(10):
        while not errors:  # a reconnect attempt failed: the port refuses
            await asyncio.sleep(0.01)
    error, took = await timed(sdk.wait_connected(0.5))
    assert isinstance(error, NotConnectedError)
    assert str(error).startswith("not connected within 0.5 s: ")
    assert took >= 0.4
    error, took = await timed(sdk.get_customer())
    assert isinstance(error, NotConnectedError)
    assert "'get_customer' was not sent" in str(error)
    assert took >= 0.4


async def test_the_sdk_keeps_trying_and_connects_once_the_server_is_up() -> None:
    # The cause is reported fast, and the SDK keeps trying: once a server
    # listens there, the wait and the next request go through.
    async with Sandbox() as gone:  # a free port, then nothing listens on it
        url, org, accounts = gone.api_url, gone.organization_id, gone.accounts_url
    port = int(url.rsplit(":", 1)[1])
    sdk = rxlivechat.init(
        organization_id=org,
        client_id="client",
        api_url=url,
        accounts_url=accounts,
        reconnect_delay=(0.05, 0.1),
    )
    CREATED.append(sdk)
    error, took = await timed(sdk.wait_connected(20))
    assert isinstance(error, NotConnectedError)
    assert took < FAST
    async with Sandbox(port=port, organization_id=org):
        await sdk.wait_connected(20, fail_fast=False)
        chat = await sdk.start_chat([Message(text="through")])
        assert chat.id
        await sdk.destroy()
