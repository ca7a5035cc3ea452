"""A cassette of the scripted session, recorded once per test that asks."""

from __future__ import annotations

from pathlib import Path

import pytest

from rxlivechat.sandbox import Sandbox

from ..helpers import connect
from .scenario import session


@pytest.fixture
async def recorded(tmp_path: Path) -> tuple[Path, list[object], Sandbox]:
    """The scripted session recorded against a sandbox: the cassette, what the
    customer saw, and the (closed) sandbox it ran on."""
    cassette = tmp_path / "session.jsonl"
    async with Sandbox() as sandbox:
        sdk = connect(sandbox, record=cassette)
        seen = await session(sdk, sandbox)
    return cassette, seen, sandbox
