"""``python -m rxlivechat record --out FILE -- <connection options>``.

A quick capture: connect as a customer with the connection options of
``tail`` (``--organization-id``, ``--client-id``, ``--api-url``,
``--accounts-url``, ``--seconds``), print the event stream as ``tail`` does,
and record the session to ``FILE`` until Ctrl-C (or ``--seconds``). Without
``--organization-id`` the session is an embedded sandbox's.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from .tail import run_tail

__all__ = ["connection_parser", "run_record"]


def connection_parser() -> argparse.ArgumentParser:
    """The connection options that follow ``--``."""
    options = argparse.ArgumentParser(prog="rxlivechat record --out FILE --")
    options.add_argument("--organization-id", metavar="ID", default=None)
    options.add_argument("--client-id", default="rxlivechat-record")
    options.add_argument(
        "--api-url", default="https://api.livechatinc.com", metavar="URL"
    )
    options.add_argument("--accounts-url", default=None, metavar="URL")
    options.add_argument("--seconds", type=float, default=None)
    return options


async def run_record(out: str, connection: Sequence[str]) -> int:
    """Record a customer's session to ``out``; the exit status of ``tail``.

    Args:
        out: the cassette file.
        connection: the connection options (a leading ``--`` is ignored).
    """
    if connection and connection[0] == "--":
        connection = connection[1:]
    args = connection_parser().parse_args(connection)
    return await run_tail(
        organization_id=args.organization_id,
        client_id=args.client_id,
        api_url=args.api_url,
        accounts_url=args.accounts_url,
        seconds=args.seconds,
        record=out,
    )
