"""``python -m rxlivechat check-cassette FILE``: where the sandbox answers otherwise.

Sends a cassette's requests to an embedded sandbox (or the server given) and
prints each place where an answer differs from the recorded one
(:func:`rxlivechat.cassette.check.check_cassette`): exit status 0 when none
does, 1 when some do, 2 when the cassette cannot be read.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator
from typing import TextIO

from ..cassette.check import check_cassette
from ..protocol.cassette import CassetteError

__all__ = ["run_check_cassette"]


@contextlib.asynccontextmanager
async def _server(
    api_url: str | None, accounts_url: str | None, organization_id: str | None
) -> AsyncIterator[tuple[str, str, str]]:
    if api_url is not None and organization_id is not None:
        yield api_url, accounts_url or api_url, organization_id
        return
    from ..sandbox import Sandbox

    async with Sandbox() as sandbox:
        yield sandbox.api_url, sandbox.accounts_url, sandbox.organization_id


async def run_check_cassette(
    path: str,
    *,
    api_url: str | None = None,
    accounts_url: str | None = None,
    organization_id: str | None = None,
    timeout: float = 10.0,
    out: TextIO | None = None,
) -> int:
    """Check a cassette against the sandbox (or a server); print the differences."""
    write = (out or sys.stdout).write
    try:
        async with _server(api_url, accounts_url, organization_id) as server:
            differences = await check_cassette(
                path,
                api_url=server[0],
                accounts_url=server[1],
                organization_id=server[2],
                timeout=timeout,
            )
    except (CassetteError, OSError) as exc:
        write(f"rxlivechat check-cassette: {exc}\n")
        return 2
    for difference in differences:
        write(f"{difference}\n")
    if differences:
        write(f"{len(differences)} difference(s) from the cassette\n")
        return 1
    write("the answers match the cassette (ids and times aside)\n")
    return 0
