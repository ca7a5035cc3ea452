"""Shared test rules: every async test runs in asyncio debug mode and must leave
no task behind (sockets left open fail through ResourceWarning, as warnings are
errors)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

import rxlivechat
from rxlivechat.sandbox import Sandbox

from .helpers import CREATED


@pytest.fixture(autouse=True)
async def _no_leaked_tasks(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    loop = asyncio.get_running_loop()
    loop.set_debug(True)
    before = asyncio.all_tasks()
    yield
    while CREATED:
        await CREATED.pop().destroy()
    current = asyncio.current_task()
    leftover: list[asyncio.Task[Any]] = []
    for _ in range(50):  # give cancelled tasks a moment to unwind
        leftover = [
            t
            for t in asyncio.all_tasks()
            if t is not current and t not in before and not t.done()
        ]
        if not leftover:
            return
        await asyncio.sleep(0.01)
    pytest.fail(f"{request.node.name} left tasks running: {leftover}")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sandbox(**options): Sandbox(...) options of the test's sandbox"
    )


@pytest.fixture
async def sandbox(request: pytest.FixtureRequest) -> AsyncIterator[Sandbox]:
    """A sandbox server on 127.0.0.1 for one test (``@pytest.mark.sandbox(...)``)."""
    marker = request.node.get_closest_marker("sandbox")
    async with Sandbox(**(marker.kwargs if marker else {})) as server:
        yield server


# The plugin's fixtures (rxlivechat.testing.pytest_plugin) on the test's sandbox, so
# a module that overrides ``sandbox`` gets its customers and agents there too.


@pytest.fixture
def livechat_sandbox(sandbox: Sandbox) -> Sandbox:
    """The test's sandbox."""
    return sandbox


@pytest.fixture
def livechat_customer_options() -> dict[str, Any]:
    """Customers connect as tests/helpers.connect does."""
    return {"client_id": "test-client", "request_timeout": 5.0}


@pytest.fixture
def sdk(livechat_customer: rxlivechat.CustomerSDK) -> rxlivechat.CustomerSDK:
    """A customer logged in to the test's sandbox (destroyed after it)."""
    return livechat_customer
