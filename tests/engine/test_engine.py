"""The engine never lets a request wait for a connection that cannot come.

Against the sandbox (a wrong organization, a banned customer) and a real token
endpoint on 127.0.0.1 that refuses every token. And who closes the HTTP session.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp.web
import pytest

from rxlivechat import (
    ConnectError,
    CustomerBannedError,
    CustomerSDK,
    CustomerTokenProvider,
    LiveChatError,
    RequestTimeoutError,
    SDKClosedError,
    Token,
    TokenRefusedError,
)
from rxlivechat.engine.engine import permanent_failure
from rxlivechat.protocol.methods import GetCustomer
from rxlivechat.sandbox import Sandbox

from ..helpers import CREATED, Recorder, connect, until


@pytest.fixture
async def token_endpoints() -> AsyncIterator[dict[int, str]]:
    """Token endpoints on 127.0.0.1 refusing every token: status → base URL.

    403 refuses for good (a wrong client id); 503 fails for now.
    """
    runners: list[aiohttp.web.AppRunner] = []
    urls: dict[int, str] = {}
    for status in (403, 503):

        async def refuse(
            request: aiohttp.web.Request, status: int = status
        ) -> aiohttp.web.Response:
            body = {"error": "unauthorized_client", "error_description": "refused"}
            return aiohttp.web.json_response(body, status=status)

        app = aiohttp.web.Application()
        app.router.add_post("/v2/customer/token", refuse)
        runner = aiohttp.web.AppRunner(app)
        await runner.setup()
        await aiohttp.web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        urls[status] = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield urls
    for runner in runners:
        await runner.cleanup()


def test_which_failures_are_permanent() -> None:
    assert permanent_failure(TokenRefusedError("x", status=400))
    assert permanent_failure(TokenRefusedError("x", status=403))
    for status in (408, 429, 500, 503):
        assert not permanent_failure(TokenRefusedError("x", status=status))
    assert not permanent_failure(ConnectError("network down"))


async def test_a_wrong_organization_fails_requests_at_once(sandbox: Sandbox) -> None:
    # A long request timeout and a long backoff: only failing fast can end this.
    sdk = connect(
        sandbox,
        organization_id="no-such-organization",
        request_timeout=120,
        reconnect_delay=(60, 120),
    )
    with pytest.raises(ConnectError, match="not connected") as waiting:
        await sdk.get_customer()  # made while the first attempt runs
    cause = waiting.value.__cause__
    assert isinstance(cause, TokenRefusedError)
    assert cause.status == 400
    assert "unknown organization_id" in str(cause)
    # Between attempts, a new request fails as it is made, and so does a wait.
    with pytest.raises(ConnectError) as later:
        await sdk.list_chats()
    assert later.value.__cause__ is cause
    with pytest.raises(ConnectError):
        await sdk.wait_connected(timeout=120)
    await sdk.destroy()


async def test_a_token_endpoint_refusing_for_good_fails_requests_at_once(
    sandbox: Sandbox, token_endpoints: dict[int, str]
) -> None:
    sdk = connect(
        sandbox,
        accounts_url=token_endpoints[403],
        request_timeout=120,
        reconnect_delay=(60, 120),
    )
    seen = Recorder(sdk)
    with pytest.raises(ConnectError) as failed:
        await sdk.get_customer()
    cause = failed.value.__cause__
    assert isinstance(cause, TokenRefusedError)
    assert cause.status == 403
    assert seen.of("error") == [cause]  # reported once, as the attempt failed
    await sdk.destroy()


async def test_a_passing_token_failure_lets_requests_wait(
    sandbox: Sandbox, token_endpoints: dict[int, str]
) -> None:
    sdk = connect(
        sandbox,
        accounts_url=token_endpoints[503],
        request_timeout=0.5,
        reconnect_delay=(0.05, 0.1),
    )
    seen = Recorder(sdk)
    with pytest.raises(RequestTimeoutError):  # it waited: 503 may pass
        await sdk.get_customer()
    errors = seen.of("error")
    assert errors
    assert all(isinstance(e, TokenRefusedError) for e in errors)
    assert {e.status for e in errors} == {503}
    await sdk.destroy()


async def test_requests_wait_again_once_the_refusal_passes(sandbox: Sandbox) -> None:
    fetched: list[Token] = []
    real: list[CustomerTokenProvider] = []

    async def refused_once() -> Token:
        if not fetched:
            fetched.append(Token(access_token="none"))
            raise TokenRefusedError("refused", status=401)
        token = await real[0]()
        fetched.append(token)
        return token

    sdk = connect(sandbox, token_provider=refused_once, reconnect_delay=(0.3, 0.5))
    real.append(
        CustomerTokenProvider(
            sdk._engine.http(),
            accounts_url=sandbox.accounts_url,
            client_id="test-client",
            organization_id=sandbox.organization_id,
        )
    )
    seen = Recorder(sdk)
    await seen.wait_for("error")
    with pytest.raises(ConnectError):  # refused for now
        await sdk.get_customer()
    await until(lambda: len(fetched) == 2)  # the next attempt gets a token
    await sdk.wait_connected(timeout=10)
    customer = await sdk.get_customer()
    assert customer.id == sdk.customer_id
    await sdk.destroy()


async def test_a_banned_customer_fails_requests_with_the_login_error(
    sandbox: Sandbox,
) -> None:
    sandbox.fail_next("login", "customer_banned")
    sdk = connect(sandbox, request_timeout=120)
    seen = Recorder(sdk)
    with pytest.raises(SDKClosedError, match="customer_banned") as failed:
        await sdk.get_customer()
    assert isinstance(failed.value.__cause__, CustomerBannedError)
    await seen.wait_for("disconnected")
    assert [d.reason for d in seen.of("disconnected")] == ["customer_banned"]
    with pytest.raises(SDKClosedError) as later:
        await sdk.get_customer()
    assert isinstance(later.value.__cause__, CustomerBannedError)
    await sdk.destroy()


async def test_a_request_before_connect_fails_saying_to_call_it(
    sandbox: Sandbox,
) -> None:
    sdk = connect(sandbox, auto_connect=False, request_timeout=120)
    with pytest.raises(SDKClosedError, match=r"call connect\(\) first"):
        await sdk.get_customer()
    assert sandbox.count("get_customer") == 0
    sdk.connect()
    customer = await sdk.get_customer()  # waits for the login, as usual
    assert customer.id == sdk.customer_id
    await sdk.destroy()


async def test_every_waiting_request_fails_with_the_cause(
    sandbox: Sandbox,
) -> None:
    sdk = connect(
        sandbox,
        organization_id="no-such-organization",
        request_timeout=120,
        reconnect_delay=(60, 120),
    )
    calls: list[Any] = [sdk.get_customer(), sdk.list_chats(), sdk.get_customer()]
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    assert all(isinstance(o, ConnectError) for o in outcomes), outcomes
    causes = {id(o.__cause__) for o in outcomes if isinstance(o, LiveChatError)}
    assert len(causes) == 1
    await until(lambda: not sdk.connected)
    await sdk.destroy()


# The HTTP session: the engine's own, or a shared one --------------------------------


async def test_a_standalone_sdk_closes_its_own_session(sandbox: Sandbox) -> None:
    sdk = connect(sandbox)
    await sdk.wait_connected(timeout=10)
    http = sdk._engine.http()
    assert isinstance(http.cookie_jar, aiohttp.DummyCookieJar)  # the identity: not here
    assert (await sdk.web_call(GetCustomer())).id == sdk.customer_id
    await sdk.destroy()
    assert http.closed
    assert http.connector is None  # closed with it: it was the session's own


async def test_a_shared_session_is_never_closed_by_a_customer(
    sandbox: Sandbox,
) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:

        def customer() -> CustomerSDK:
            sdk = CustomerSDK(
                organization_id=sandbox.organization_id,
                client_id="test-client",
                api_url=sandbox.api_url,
                accounts_url=sandbox.accounts_url,
                http_session=http,
            )
            CREATED.append(sdk)  # destroyed after the test, whatever happens
            sdk.connect()
            return sdk

        first = customer()
        await first.wait_connected(timeout=10)
        assert first._engine.http() is http
        assert (await first.web_call(GetCustomer())).id == first.customer_id
        await first.destroy()
        assert not http.closed
        second = customer()  # it still serves
        await second.wait_connected(timeout=10)
        assert second.customer_id != first.customer_id  # no identity left in it
        await second.destroy()
        assert not http.closed
