"""Nothing of a closed sandbox stays alive, and no flood grows one without bound.

Each measurement runs in a child process of its own (``python -c``) that
reports its own RSS: the test process's heap (other tests, pytest) does not
blur the figures, and the child's memory is the sandbox's.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

MIB = 1024 * 1024


def run_child(code: str, timeout: float = 300) -> dict[str, Any]:
    """Run ``code`` in a new interpreter; returns the JSON it prints last."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


RSS = """
def rss() -> int:
    import gc
    gc.collect()
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")
"""


def test_closed_sandboxes_are_collected() -> None:
    """100 sandboxes, each seeded and served, leave none alive and no growth.

    Before the fix aiohttp's middleware-chain cache kept each one (with its
    store) reachable: 100 of them stayed alive.
    """
    result = run_child(
        RSS
        + """
import asyncio, gc, json
import aiohttp
from rxlivechat.protocol import methods as m
from rxlivechat.sandbox import Sandbox

async def one(http):
    async with Sandbox() as sandbox:
        customer = sandbox.new_customer()
        for _ in range(10):
            sandbox.seed_chat(customer.id, threads=2, events_per_thread=100)
        url = sandbox.action_url("list_license_properties")
        async with http.get(url) as r:
            assert r.status == 200
        async with http.get(sandbox.console.url) as r:
            assert r.status == 200
        token = (await sandbox.create_customer_token()).access_token
        async with http.ws_connect(sandbox.ws_url) as ws:
            await ws.send_json({"action": "login", "payload": {"token": token}})
            assert (await ws.receive_json(timeout=10))["success"]

async def main():
    async with aiohttp.ClientSession() as http:
        for _ in range(10):
            await one(http)
        before = rss()
        for _ in range(100):
            await one(http)
    after = rss()
    alive = sum(1 for o in gc.get_objects() if isinstance(o, Sandbox))
    print(json.dumps({"alive": alive, "growth": after - before}))

asyncio.run(main())
"""
    )
    assert result["alive"] == 0, result
    # Each sandbox held 2,000 events (about 0.8 MiB): 100 kept would be ~80 MiB.
    assert result["growth"] < 25 * MIB, result


def test_floods_of_every_growth_path_stay_bounded() -> None:
    """Each growth path flooded well past its bound; the sandbox's RSS stays small.

    The floods go through the sandbox's handlers (the store is where memory
    grows; the transports add nothing that stays) and, for token grants, its
    HTTP endpoint; the pushes are delivered, so the console's agent (in the chat)
    gets them all. Unbounded, the sneak peeks alone would hold 20,000 x 16 KB
    (about 320 MiB, twice: the chat and the agent's inbox) and the messages
    3,000 x 16 KB (about 47 MiB).
    """
    result = run_child(
        RSS
        + """
import asyncio, json
import aiohttp
from rxlivechat.exceptions import ServerError
from rxlivechat.protocol import methods as m
from rxlivechat.protocol.models import Message
from rxlivechat.sandbox import Bounds, Sandbox

TEXT = "x" * 16_000
bounds = Bounds(
    customers=2_000, chats=200, events_per_thread=500, tokens=2_000, agent_inbox=200
)

async def main():
    async with Sandbox(bounds=bounds) as sandbox:
        before = rss()
        errors = {}

        async def refused(customer_id, request):
            try:
                outcome = sandbox.handlers.handle(customer_id, request)
            except ServerError as exc:
                errors[exc.error_type] = errors.get(exc.error_type, 0) + 1
            else:  # the console's agent gets the pushes too
                await sandbox.deliver(outcome.pushes)

        # Customers and tokens: 30,000 grants in process, 1,000 over HTTP.
        for _ in range(30_000):
            await sandbox.create_customer_token()
        grant = {"grant_type": "cookie", "client_id": "c",
                 "organization_id": sandbox.organization_id}
        async with aiohttp.ClientSession() as http:
            for _ in range(1_000):
                http.cookie_jar.clear()
                async with http.post(sandbox.accounts_url + "/v2/customer/token",
                                     json=grant) as r:
                    await r.read()
        # Chats: 2,000 customers try to start one.
        customers = [sandbox.new_customer().id for _ in range(2_000)]
        for customer_id in customers:
            await refused(customer_id, m.StartChat())
        chat_id = sandbox.store.chats_by_customer[customers[0]][0]
        owner = customers[0]
        sandbox.console.state()  # the console's agent joins the chats
        agent = sandbox.console.agent
        while agent.id not in sandbox.store.chats[chat_id].present:
            await asyncio.sleep(0.01)
        # Events in one thread, sneak peeks, properties, e-mail verifications.
        for _ in range(3_000):
            event = m.SendEvent(chat_id=chat_id, event=Message(text=TEXT))
            await refused(owner, event)
        for _ in range(20_000):
            await refused(owner, m.SendSneakPeek(chat_id=chat_id, sneak_peek_text=TEXT))
        for i in range(2_000):
            props = {"rating": {"comment": TEXT + str(i)}}
            await refused(owner, m.UpdateChatProperties(id=chat_id, properties=props))
        for _ in range(20_000):
            request = m.RequestEmailVerification(
                callback_uri="https://example.com/" + "x" * 1000)
            await refused(owner, request)
        sandbox.requests.clear()
        after = rss()
        print(json.dumps({
            "growth": after - before,
            "errors": errors,
            "customers": len(sandbox.store.customers),
            "chats": len(sandbox.store.chats),
            "events": len(sandbox.store.chats[chat_id].threads[-1].events),
            "peeks": len(sandbox.store.chats[chat_id].sneak_peeks),
            "agent_pushes": len(agent.pushes),
            "agent_received": agent.received,
        }))

asyncio.run(main())
"""
    )
    assert result["customers"] <= 2_000, result
    assert result["chats"] == 200, result
    assert result["events"] == 500, result
    assert result["peeks"] == 10, result
    assert result["agent_pushes"] <= 220 < result["agent_received"], result
    assert result["errors"]["limit_reached"] == 1_800 + 2_500, result
    # What the bounds allow: 500 x 16 KB events, 2,000 customers and tokens,
    # 200 chats, 10 peeks, 64 KiB of properties: about 15 MiB with overheads.
    assert result["growth"] < 40 * MIB, result
