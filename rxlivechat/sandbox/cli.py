"""``python -m rxlivechat sandbox``: run the sandbox standalone until cancelled."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from collections.abc import Sequence
from typing import TextIO

from .server import Sandbox

__all__ = ["banner", "serve_forever"]


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

    Prints the URLs (the agent console's too), the organization id and a fresh
    customer token, one ``key: value`` per line; then, after a blank line,
    snippets that connect our SDK and the JS Customer SDK to it; then waits.

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
            "console_url": sandbox.console.url,
            "organization_id": sandbox.organization_id,
            "customer_id": token.entity_id,
            "access_token": token.access_token,
            "expires_in": str(token.expires_in),
        }
        for key, value in lines.items():
            stream.write(f"{key}: {value}\n")
        if tls:
            stream.write(f"ca_file: {sandbox.ca_file}\n")
        stream.write(banner(sandbox))
        stream.write("serving until interrupted (Ctrl-C)\n")
        stream.flush()
        if ready is not None:
            ready.set()
        await asyncio.Event().wait()


def banner(sandbox: Sandbox) -> str:
    """How to use a running sandbox: its console and two copy-paste snippets.

    The Python snippet is a script that connects :func:`rxlivechat.init` to the
    sandbox; the JS snippet initialises ``@livechat/customer-sdk`` with its
    organization id (that SDK has no URL option: the text says what to route).
    """
    api_url, organization_id = sandbox.api_url, sandbox.organization_id
    tls = sandbox.tls
    python = "\n".join(
        [
            "import asyncio",
            *(["import ssl"] if tls else []),
            "",
            "import rxlivechat",
            "",
            "",
            "async def main():",
            "    async with rxlivechat.init(",
            f'        organization_id="{organization_id}",',
            '        client_id="my-app",',
            f'        api_url="{api_url}",',
            f'        accounts_url="{api_url}",',
            *(
                [f"        ssl=ssl.create_default_context(cafile={sandbox.ca_file!r}),"]
                if tls
                else []
            ),
            "    ) as sdk:",
            "        await sdk.wait_connected(timeout=10)",
            '        print("connected as customer", sdk.customer_id)',
            "",
            "",
            "asyncio.run(main())",
        ]
    )
    javascript = "\n".join(
        [
            "import * as CustomerSDK from '@livechat/customer-sdk'",
            "",
            "const sdk = CustomerSDK.init(",
            f"  {{ organizationId: '{organization_id}', clientId: 'my-app' }},",
            "  'sandbox', // env: its hosts become api.sandbox.livechatinc.com...",
            ")",
        ]
    )
    return (
        f"\nAgent console (play the agent in a browser): {sandbox.console.url}\n"
        "\nPython (pip install <a clone of rxlivechat>; no release yet):\n\n"
        f"{textwrap.indent(python, '    ')}\n"
        "\nJavaScript (npm install @livechat/customer-sdk):\n\n"
        f"{textwrap.indent(javascript, '    ')}\n\n"
        "  The JS SDK has no URL option: it builds its hosts from env (the second\n"
        "  argument): https://api.sandbox.livechatinc.com (wss:// for the socket)\n"
        "  and https://accounts.sandbox.livechatinc.com. Route both to\n"
        f"  {api_url}: a local proxy for a browser; in Node, wrap WebSocket\n"
        "  and XMLHttpRequest as tests/js/browser-shims.mjs in rxlivechat's source\n"
        "  does. The sandbox serves the same paths, in v3.5, v3.6 and v3.7.\n\n"
    )
