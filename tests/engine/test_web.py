"""The Web API client: the same actions over HTTP, with the socket's token."""

from __future__ import annotations

import pytest

from rxlivechat import CustomerSDK, InvalidArgumentError, NotFoundError
from rxlivechat.protocol.methods import (
    GetChat,
    GetCustomer,
    ListLicenseProperties,
    Login,
    SendEvent,
)
from rxlivechat.protocol.models import Message
from rxlivechat.sandbox import Sandbox


async def test_an_action_over_http_matches_rtm(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    over_http = await sdk.web_call(GetCustomer())
    over_rtm = await sdk.call(GetCustomer())
    assert over_http.id == over_rtm.id == sdk.customer_id
    assert sandbox.count("get_customer", transport="web") == 1


async def test_http_writes_reach_the_socket(sdk: CustomerSDK) -> None:
    chat = await sdk.start_chat()
    sent = await sdk.web_call(SendEvent(chat_id=chat.id, event=Message(text="via web")))
    got = await sdk.call(GetChat(chat_id=chat.id))
    assert got.thread is not None
    assert sent.event_id in [e.id for e in got.thread.events or ()]


async def test_get_actions_without_a_token(sdk: CustomerSDK) -> None:
    properties = await sdk.web_call(ListLicenseProperties())
    assert isinstance(properties, dict)


async def test_http_errors_are_typed(sdk: CustomerSDK) -> None:
    with pytest.raises(NotFoundError):
        await sdk.web_call(GetChat(chat_id="NOSUCHCHAT"))


def test_rtm_only_actions_are_refused(sdk: CustomerSDK) -> None:
    with pytest.raises(InvalidArgumentError, match="no Web API"):
        sdk.web_call(Login(token="t"))
