"""The command line: ``python -m rxlivechat demo | sandbox | tail``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="rxlivechat",
        description="A reactive customer SDK for LiveChat's Customer Chat API v3.6.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser(
        "demo",
        help="a customer and a scripted agent chat on the embedded sandbox",
        description="Start the embedded sandbox, connect a customer, chat with a "
        "scripted agent, print the live event stream, then walk the history.",
    )
    demo.add_argument(
        "--messages", type=int, default=3, help="agent replies to wait for"
    )

    sandbox = commands.add_parser(
        "sandbox",
        help="run the sandbox server standalone",
        description="Serve a LiveChat-compatible Customer Chat API on 127.0.0.1.",
    )
    sandbox.add_argument("--port", type=int, default=8080, help="port (0: any free)")

    tail = commands.add_parser(
        "tail",
        help="print a customer's event stream as JSON lines",
        description="Connect as a customer and print every event as one JSON line "
        "until Ctrl-C. Without --organization-id, an embedded sandbox is started.",
    )
    tail.add_argument("--organization-id", help="a real or sandbox organization id")
    tail.add_argument("--client-id", default="rxlivechat-tail")
    tail.add_argument("--api-url", default="https://api.livechatinc.com")
    tail.add_argument("--accounts-url", default="https://accounts.livechat.com")
    tail.add_argument(
        "--seconds", type=float, default=None, help="stop after this long"
    )

    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        if args.command == "demo":
            from .demo import run_demo

            return asyncio.run(run_demo(replies=args.messages))
        if args.command == "sandbox":
            from .sandbox.cli import serve_forever

            asyncio.run(serve_forever(port=args.port))
            return 0
        from .tail import run_tail

        return asyncio.run(
            run_tail(
                organization_id=args.organization_id,
                client_id=args.client_id,
                api_url=args.api_url,
                accounts_url=args.accounts_url,
                seconds=args.seconds,
            )
        )
    return 130


if __name__ == "__main__":
    sys.exit(main())
