"""The sandbox for load: ``python -m benchmarks.sandbox_server``.

The sandbox's defaults protect a developer's machine (at most 256 idle HTTP
connections, a bounded request log, bounded customers, chats and token grants
per second); a benchmark with thousands of customers needs room instead.
Prints the same ``key: value`` lines as ``rxlivechat sandbox``, then
``serving``, and runs until killed.
"""

from __future__ import annotations

import asyncio

from rxlivechat.sandbox import Bounds, Sandbox


async def main() -> None:
    room = Bounds(
        customers=1_000_000,
        chats=1_000_000,
        tokens=1_000_000,
        token_grants_per_second=1_000_000,
    )
    async with Sandbox(
        max_idle_connections=100_000,
        request_log_entries=1_000,
        bounds=room,
    ) as sandbox:
        print(f"api_url: {sandbox.api_url}")
        print(f"accounts_url: {sandbox.accounts_url}")
        print(f"organization_id: {sandbox.organization_id}")
        print("serving", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
