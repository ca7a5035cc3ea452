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
