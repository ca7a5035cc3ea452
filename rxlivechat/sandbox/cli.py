"""``python -m rxlivechat sandbox``: run the sandbox standalone until cancelled."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from typing import TextIO

from .server import Sandbox

__all__ = ["serve_forever"]


async def serve_forever(
    port: int = 0,
    *,
    host: str = "127.0.0.1",
    tls: bool = False,
    seed: int | str | None = None,
    allowed_origins: Sequence[str] = (),
    out: TextIO | None = None,
    ready: asyncio.Event | None = None,
) -> None:
    """Serve the sandbox and print how to reach it; runs until cancelled.

    Prints the API URL, the accounts URL, the organization id and a fresh
    customer token (one ``key: value`` per line), then waits.

    Args:
        port: the port to listen on (0, the default: a free port).
        host: the loopback address to bind.
        tls: serve ``https``/``wss`` with a throwaway certificate.
        seed: seeds ids (a reproducible organization id; never tokens).
        allowed_origins: browser origins (a widget page's) that may call it.
        out: where to print (standard output by default).
        ready: set once the server listens and the lines are printed.
    """
    stream = out if out is not None else sys.stdout
    async with Sandbox(
        host=host, port=port, tls=tls, seed=seed, allowed_origins=allowed_origins
    ) as sandbox:
        token = await sandbox.create_customer_token()
        lines = {
            "api_url": sandbox.api_url,
            "accounts_url": sandbox.accounts_url,
            "rtm_url": sandbox.ws_url,
            "organization_id": sandbox.organization_id,
            "customer_id": token.entity_id,
            "access_token": token.access_token,
            "expires_in": str(token.expires_in),
        }
        for key, value in lines.items():
            stream.write(f"{key}: {value}\n")
        if tls:
            stream.write(f"ca_file: {sandbox.ca_file}\n")
        stream.write("serving until interrupted (Ctrl-C)\n")
        stream.flush()
        if ready is not None:
            ready.set()
        await asyncio.Event().wait()
