"""Fuzzing both ends: random frames at the sandbox, random bytes at the SDK.

Neither side may crash or stop serving: the sandbox answers garbage with errors
and keeps serving other clients; the SDK reports garbage as ``error`` events and
keeps its connection and stream alive.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from hypothesis import HealthCheck, given, settings, strategies as st

from rxlivechat import CustomerSDK, Message, ProtocolError
from rxlivechat.protocol.base import METHODS, PUSHES
from rxlivechat.protocol.methods import GetCustomer
from rxlivechat.sandbox import Sandbox

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=16,
)
_actions = st.sampled_from(sorted(METHODS)) | st.text(max_size=12)
_frames = st.fixed_dictionaries(
    {"action": _actions},
    optional={
        "request_id": st.text(max_size=6) | st.integers(),
        "payload": _json,
        "version": st.sampled_from(["3.6", "3.5", "9", ""]),
    },
).map(json.dumps)
_server_frames = st.fixed_dictionaries(
    {
        # customer_disconnected is left out: a terminal reason stops the SDK, rightly.
        "action": st.sampled_from(sorted(set(PUSHES) - {"customer_disconnected"}))
        | _actions,
        "type": st.sampled_from(["push", "response"]) | st.text(max_size=5),
    },
    optional={
        "request_id": st.text(max_size=3),
        "success": st.booleans(),
        "payload": _json,
    },
).map(json.dumps)
_noise = st.binary(max_size=300) | st.text(max_size=300) | _frames
_server_noise = _noise | _server_frames

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


async def logged_in_socket(
    http: aiohttp.ClientSession, sandbox: Sandbox
) -> aiohttp.ClientWebSocketResponse:
    token = await sandbox.create_customer_token()
    ws = await http.ws_connect(sandbox.ws_url)
    await ws.send_str(
        json.dumps(
            {
                "request_id": "login",
                "action": "login",
                "payload": {"token": f"Bearer {token.access_token}"},
            }
        )
    )
    while (reply := json.loads(await ws.receive_str()))["type"] != "response":
        pass
    assert reply["success"] is True
    return ws


@FUZZ
@given(noise=st.lists(_noise, min_size=1, max_size=5))
async def test_the_sandbox_survives_random_frames(
    sandbox: Sandbox, noise: list[Any]
) -> None:
    async with aiohttp.ClientSession() as http:
        attacker = await logged_in_socket(http, sandbox)
        bystander = await logged_in_socket(http, sandbox)
        for item in noise:
            if isinstance(item, bytes):
                await attacker.send_bytes(item)
            else:
                await attacker.send_str(item)
        # The bystander is still served, promptly and correctly.
        await bystander.send_str(
            '{"request_id":"x","action":"get_customer","payload":{}}'
        )
        while (reply := json.loads(await bystander.receive_str(timeout=5)))[
            "type"
        ] != "response":
            pass
        assert reply["request_id"] == "x"
        assert reply["success"] is True
        await attacker.close()
        await bystander.close()


@FUZZ
@given(noise=st.lists(_server_noise, min_size=1, max_size=5))
async def test_the_sdk_survives_random_bytes(
    sdk: CustomerSDK, sandbox: Sandbox, noise: list[Any]
) -> None:
    errors: list[Any] = []
    subscription = sdk.subscribe(
        lambda item: errors.append(item[1]) if item[0] == "error" else None
    )
    for item in noise:
        await sandbox.send_raw(item)
    customer = await sdk.call(GetCustomer())
    assert customer.id == sdk.customer_id
    assert sdk.connected
    assert all(isinstance(e, ProtocolError) for e in errors), errors
    subscription.dispose()


async def test_the_stream_goes_on_after_garbage(
    sdk: CustomerSDK, sandbox: Sandbox
) -> None:
    await sandbox.send_raw(b"\xff\xfe garbage")
    chat = await sdk.start_chat()
    event = await sdk.send_event(chat.id, Message(text="still here"))
    assert isinstance(event, Message)
