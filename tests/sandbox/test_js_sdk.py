"""The official JS Customer SDK (``@livechat/customer-sdk`` 4.0.2) runs on the sandbox.

``tests/js/`` is a node harness with its own ``package.json`` and lockfile; its
``run-sdk.mjs`` runs the SDK's core flow (v3.5 over a real WebSocket, tokens from
the accounts endpoint's cookie grant, ``upload_file`` over HTTP) against the
sandbox given in its environment and prints a JSON summary of every step, of
the traffic, and of anything the SDK threw or logged outside a step. Here the
sandbox runs on this test's loop, ``npm ci`` runs once per lockfile, and each
step is checked, against the sandbox's own state where the SDK returns nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from rxlivechat.sandbox import Sandbox

HARNESS = Path(__file__).resolve().parents[1] / "js"
INSTALLED = HARNESS / "node_modules" / ".rxlivechat-lock.sha256"
RUN_TIMEOUT = 120.0

STEPS = [
    "connected",
    "getFreshToken",
    "getPredictedAgent",
    "listGroupStatuses",
    "startChat",
    "sendEvent",
    "listChats",
    "getChat",
    "listThreads",
    "getChatHistory",
    "updateCustomer",
    "getCustomer",
    "updateCustomerPage",
    "setSneakPeek",
    "markEventsAsSeen",
    "updateChatProperties",
    "deleteChatProperties",
    "updateThreadProperties",
    "deleteThreadProperties",
    "deactivateChat",
    "resumeChat",
    "rateChat",
    "sendFile",
    "lastThread",
    "destroy",
]

PAGE_ORIGIN = "http://localhost:5173"
"""The widget page the harness plays (browser-shims.mjs): a configured origin."""


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"`{name}` is not installed: the JS SDK test needs node 20 and npm")
    return path


@pytest.fixture(scope="module")
def node() -> str:
    """The node binary, once the harness's packages are installed (``npm ci``)."""
    node = _tool("node")
    npm = _tool("npm")
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < 20:
        pytest.skip(f"node {version} is too old: the JS SDK harness needs node 20+")
    lock = hashlib.sha256(
        (HARNESS / "package.json").read_bytes()
        + (HARNESS / "package-lock.json").read_bytes()
    ).hexdigest()
    if not INSTALLED.is_file() or INSTALLED.read_text() != lock:
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=HARNESS,
            check=True,
            timeout=600,
        )
        INSTALLED.write_text(lock)
    return node


async def _run_harness(node: str, sandbox: Sandbox) -> dict[str, Any]:
    env = dict(
        os.environ,
        LIVECHAT_SANDBOX_API_URL=sandbox.api_url,
        LIVECHAT_SANDBOX_ACCOUNTS_URL=sandbox.accounts_url,
        LIVECHAT_SANDBOX_ORGANIZATION_ID=sandbox.organization_id,
    )
    process = await asyncio.create_subprocess_exec(
        node,
        "run-sdk.mjs",
        cwd=HARNESS,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.communicate()
        raise
    assert process.returncode == 0, err.decode()
    lines = out.decode().strip().splitlines()
    assert lines, f"no summary from the harness; stderr:\n{err.decode()}"
    summary: dict[str, Any] = json.loads(lines[-1])
    return summary


@pytest.mark.timeout(600)  # the first run installs the packages
async def test_official_js_sdk_runs_its_core_flow(node: str) -> None:
    async with Sandbox(seed=14, allowed_origins=[PAGE_ORIGIN]) as sandbox:
        summary = await _run_harness(node, sandbox)
        steps = {step["name"]: step for step in summary["steps"]}
        value = {name: step.get("value") for name, step in steps.items()}

        # Every step succeeded, in order, and the SDK threw or complained nowhere.
        failed = [step for step in summary["steps"] if not step["ok"]]
        assert (failed, summary["problems"]) == ([], [])
        assert list(steps) == STEPS
        assert summary["sdk"] == "4.0.2"

        # It spoke 3.5: its path, its login, its subscription; pushes came stamped 3.5.
        traffic = summary["traffic"]
        (socket,) = [t for t in traffic if t["kind"] == "websocket"]
        assert socket["url"].startswith(sandbox.api_url.replace("http", "ws", 1))
        assert "/v3.5/customer/rtm/ws?organization_id=" in socket["url"]
        login = next(t for t in traffic if t["kind"] == "request")
        assert (login["action"], login["version"]) == ("login", "3.5")
        assert list(login["pushes"]) == ["3.5"]
        pushes = [t for t in traffic if t["kind"] == "frame" and t["type"] == "push"]
        assert pushes
        assert {p["version"] for p in pushes} == {"3.5"}
        # Its token came from the cookie grant, asked from the page's origin.
        tokens = [t for t in traffic if t.get("url") == "/v2/customer/token"]
        assert [t["status"] for t in tokens] == [200, 200]
        assert {t["origin"] for t in tokens} == {PAGE_ORIGIN}
        assert tokens[0]["cookies"] == []
        assert "__lc_cid" in tokens[1]["cookies"]

        # Login, the refresh (the same customer), the default roster, the groups.
        customer_id = value["connected"]["customer_id"]
        assert customer_id in sandbox.store.customers
        assert value["getFreshToken"] == {
            "entity_id": customer_id,
            "token_type": "Bearer",
            "expires_in": 28_800_000,
        }
        assert value["connected"]["availability"] == "online"
        assert value["getPredictedAgent"] == {"name": "Sam Taylor", "queue": False}
        assert value["listGroupStatuses"] == {"0": "online"}

        # Chats and events, as the SDK parsed them.
        chat_id = value["startChat"]["chat_id"]
        thread_id = value["startChat"]["thread_id"]
        assert value["startChat"]["texts"] == ["Hello from the JS SDK"]
        assert value["sendEvent"] == {
            "id": f"{thread_id}_2",
            "text": "A second message",
            "custom_id": "js-2",
            "thread_id": thread_id,
        }
        assert value["listChats"] == {"total": 1, "ids": [chat_id], "active": [True]}
        assert value["getChat"] == {
            "id": chat_id,
            "thread_id": thread_id,
            "texts": ["Hello from the JS SDK", "A second message"],
        }
        assert value["listThreads"] == {"ids": [thread_id], "next_page_id": None}
        assert value["getChatHistory"] == {"done": True, "threads": [2]}

        # The customer: get_customer carries the statistics the SDK reads.
        assert value["updateCustomer"] == {"success": True}
        assert value["getCustomer"] == {
            "name": "Jay Script",
            "email": "jay@example.com",
            "session_fields": {"plan": "pro"},
            "chats_count": 1,
            "threads_count": 1,
        }
        # Fire-and-forget calls: their effect is in the sandbox.
        customer = sandbox.store.customers[customer_id]
        assert customer.page_url == "https://shop.example/pricing"
        chat = sandbox.store.chats[chat_id]
        assert [peek.text for peek in chat.sneak_peeks] == ["I am typ"]
        assert chat.seen[customer_id] is not None

        # Properties (set, then deleted), deactivation, resumption and the rating.
        for name in (
            "markEventsAsSeen",
            "updateChatProperties",
            "deleteChatProperties",
            "updateThreadProperties",
            "deleteThreadProperties",
            "rateChat",
        ):
            assert value[name] == {"success": True}, name
        assert "rating" not in chat.properties
        assert chat.threads[0].properties == {}
        assert not chat.threads[0].active
        resumed = value["resumeChat"]
        assert resumed["chat_id"] == chat_id
        assert resumed["active"] is True
        assert resumed["thread_id"] == chat.threads[1].id != thread_id
        assert chat.threads[1].properties["rating"] == {
            "score": 1,
            "comment": "Great help",
        }

        # The file: uploaded over HTTP (with a CORS preflight), then sent.
        sent = value["sendFile"]
        assert sent["url"] in sandbox.store.files
        assert (sent["type"], sent["name"], sent["content_type"]) == (
            "file",
            "hello.txt",
            "text/plain",
        )
        assert sent["progress"] == [1]
        assert any(
            t.get("method") == "OPTIONS" and t["url"].endswith("/upload_file")
            for t in traffic
        )

        assert value["lastThread"] == [
            "rating.chat_rated",
            "rating.chat_commented",
            "file",
        ]

        # destroy() ends it: a later call is refused by the SDK itself.
        assert value["destroy"] == {"call_after_destroy": "SDK_DESTROYED"}
