"""pytest fixtures that put the sandbox in your own tests (a ``pytest11`` plugin).

Installing rxlivechat registers this plugin: pytest loads it by itself, and these
fixtures are available in every test, no import needed.

* ``livechat_sandbox``: a running :class:`~rxlivechat.sandbox.Sandbox`, a new
  organization for each test;
* ``livechat_agent``: a :class:`~rxlivechat.sandbox.ScriptedAgent` of it;
* ``livechat_customer``: a connected :class:`~rxlivechat.CustomerSDK`
  (``rxlivechat.init`` on the sandbox), destroyed after the test;
* ``livechat_faults``: the fault controls (:class:`Faults`);
* ``livechat_sandbox_options``, ``livechat_customer_options``: the keyword
  arguments of ``Sandbox(...)`` and ``rxlivechat.init(...)``; override them (or
  mark a test ``@pytest.mark.livechat_sandbox(**options)``);
* ``livechat_replay``: for a test marked ``@pytest.mark.livechat_cassette(path)``,
  the cassette served back (:meth:`~rxlivechat.sandbox.Sandbox.replay`), and
  ``livechat_customer`` connects to it; with ``--livechat-record``, ``None``:
  the customer records the cassette against the sandbox (or the URLs given by
  ``--livechat-api-url``...). See docs/howto/record-replay.md.

The fixtures are async and need `pytest-asyncio <https://pytest-asyncio.readthedocs.io>`_
(0.24 or later); they run in the test's event loop (function scope) in both of its
modes: with ``asyncio_mode = "auto"`` any ``async def`` test can use them; in the
default strict mode, mark the tests ``@pytest.mark.asyncio``.

This module sits above both the client and the sandbox (it uses both); neither
imports it: only pytest does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pytest

if TYPE_CHECKING:
    from ..protocol.pushes import DisconnectionData
    from ..sandbox import Sandbox, ScriptedAgent
    from ..sandbox.replay import Replay
    from ..sdk import CustomerSDK

__all__ = [
    "Faults",
    "livechat_replay",
    "livechat_agent",
    "livechat_customer",
    "livechat_customer_options",
    "livechat_faults",
    "livechat_sandbox",
    "livechat_sandbox_options",
]

AGENT_NAME = "Agent"
"""The name of the agent ``livechat_agent`` creates when the organization has none."""

CLIENT_ID = "rxlivechat-pytest"
"""The client id ``livechat_customer`` connects with (unless the options say)."""

F = TypeVar("F", bound=Callable[..., Any])


def _async_fixture(function: F) -> F:
    """An async fixture in the test's loop (function scope), in any asyncio mode."""
    try:
        import pytest_asyncio
    except ImportError:  # the fixture then says what is missing

        def missing() -> None:
            pytest.fail(
                f"the {function.__name__} fixture needs pytest-asyncio: "
                "pip install pytest-asyncio",
                pytrace=False,
            )

        missing.__doc__ = function.__doc__
        return cast(F, pytest.fixture(name=function.__name__)(missing))
    return cast(F, pytest_asyncio.fixture(loop_scope="function")(function))


class Faults:
    """The sandbox's fault controls, for tests that check how code copes.

    Each method is the sandbox's own (see :class:`~rxlivechat.sandbox.Sandbox`);
    this object only gathers them under one fixture.
    """

    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox

    async def drop_connections(self) -> None:
        """Drop every customer socket now: no close frame, no push."""
        await self._sandbox.drop_connections()

    async def disconnect_customers(
        self,
        reason: str,
        data: DisconnectionData | None = None,
        *,
        customer_id: str | None = None,
    ) -> None:
        """Push ``customer_disconnected {reason}`` to every (or one) customer, close."""
        await self._sandbox.disconnect_customers(reason, data, customer_id=customer_id)

    def delay_replies(self, seconds: float, action: str | None = None) -> None:
        """Answer requests of ``action`` (all when ``None``) late; 0 clears."""
        self._sandbox.delay_replies(seconds, action)

    def fail_next(
        self, action: str, error_type: str, count: int = 1, message: str | None = None
    ) -> None:
        """Answer the next ``count`` requests of ``action`` with ``error_type``."""
        self._sandbox.fail_next(action, error_type, count, message)

    def latency(self, seconds: float, *, jitter: float = 0.0) -> None:
        """Delay each message, each way, ``seconds`` (+ up to ``jitter``); 0 clears."""
        self._sandbox.latency(seconds, jitter=jitter)

    def lose_replies(
        self, action: str | None = None, *, probability: float = 1.0
    ) -> None:
        """Apply requests of ``action`` (all when ``None``), then drop the reply.

        The connection drops before the reply, with ``probability``; 0 clears.
        """
        self._sandbox.lose_replies(action, probability=probability)

    def refuse_connections(self, seconds: float) -> None:
        """Answer new sockets and HTTP requests ``503`` for ``seconds``."""
        self._sandbox.refuse_connections(seconds)

    async def send_raw(self, data: bytes | str, *, binary: bool = False) -> None:
        """Send raw data (a malformed frame...) to every customer socket."""
        await self._sandbox.send_raw(data, binary=binary)

    async def restart(self) -> None:
        """Restart the server: sockets close with 1012; state is kept."""
        await self._sandbox.restart()

    async def set_group_status(self, group_id: int, status: str) -> None:
        """Take a group ``offline`` (or back ``online``, ``online_for_queue``)."""
        await self._sandbox.set_group_status(group_id, status)


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--livechat-record`` and where to record (the sandbox by default)."""
    group = parser.getgroup("livechat", "rxlivechat cassettes")
    group.addoption(
        "--livechat-record",
        action="store_true",
        help="record the cassettes of tests marked livechat_cassette, not replay them",
    )
    for name, what in (
        ("api-url", "the Customer Chat API's base URL"),
        ("accounts-url", "the Accounts API's base URL"),
        ("organization-id", "the organization"),
        ("client-id", "the client id"),
    ):
        group.addoption(
            f"--livechat-{name}",
            default=None,
            help=f"with --livechat-record: {what} (default: the sandbox's)",
        )


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``livechat_sandbox`` and ``livechat_cassette`` markers."""
    config.addinivalue_line(
        "markers",
        "livechat_sandbox(**options): Sandbox(...) options of the test's "
        "livechat_sandbox (rxlivechat)",
    )
    config.addinivalue_line(
        "markers",
        "livechat_cassette(path, *, strict=True, speed='instant'): livechat_customer "
        "replays this cassette (--livechat-record records it) (rxlivechat)",
    )


@pytest.fixture
def livechat_sandbox_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Keyword arguments for the ``Sandbox`` of ``livechat_sandbox``.

    By default, those of the test's ``@pytest.mark.livechat_sandbox(...)`` marker
    (e.g. ``seed=1, chats_per_customer=2``); override the fixture for a whole
    module or class.
    """
    marker = request.node.get_closest_marker("livechat_sandbox")
    return dict(marker.kwargs) if marker is not None else {}


@pytest.fixture
def livechat_customer_options() -> dict[str, Any]:
    """Keyword arguments for ``rxlivechat.init`` in ``livechat_customer``.

    Override it to connect as someone (``customer``, ``page``, ``group_id``...);
    the organization id and URLs come from the sandbox.
    """
    return {}


@_async_fixture
async def livechat_sandbox(
    livechat_sandbox_options: dict[str, Any],
) -> AsyncIterator[Sandbox]:
    """A running sandbox on 127.0.0.1 (a free port), closed after the test."""
    from ..sandbox import Sandbox

    async with Sandbox(**livechat_sandbox_options) as sandbox:
        yield sandbox


@pytest.fixture
def livechat_agent(livechat_sandbox: Sandbox) -> ScriptedAgent:
    """A scripted agent of the sandbox's organization.

    The organization's first agent, or a new one named ``"Agent"`` when it has
    none; more agents: ``livechat_sandbox.agent("Bob")``.
    """
    first = next(iter(livechat_sandbox.store.agents.values()), None)
    return livechat_sandbox.agent(first.name if first is not None else AGENT_NAME)


@_async_fixture
async def livechat_replay(
    request: pytest.FixtureRequest,
) -> AsyncIterator[Replay | None]:
    """The cassette of the test's ``livechat_cassette`` marker, served back.

    ``None`` when the test has no such marker, or runs with ``--livechat-record``
    (the customer then records it). Leaving a strict replay fails the test
    (:class:`~rxlivechat.cassette.CassetteMismatch`, with a diff) if the
    customer sent a request the cassette does not have, or not one it has.
    """
    path = _cassette(request)
    if path is None or request.config.getoption("livechat_record"):
        yield None
        return
    from ..sandbox import Sandbox

    marker = request.node.get_closest_marker("livechat_cassette")
    assert marker is not None
    options: dict[str, Any] = {"speed": "instant"} | dict(marker.kwargs)
    async with Sandbox.replay(path, **options) as replay:
        yield replay


@_async_fixture
async def livechat_customer(
    request: pytest.FixtureRequest,
    livechat_sandbox: Sandbox,
    livechat_replay: Replay | None,
    livechat_customer_options: dict[str, Any],
) -> AsyncIterator[CustomerSDK]:
    """A customer connected to the sandbox (our SDK), destroyed after the test.

    Marked ``livechat_cassette``: connected to the replayed cassette instead,
    or (``--livechat-record``) recording it.
    """
    import rxlivechat

    options: dict[str, Any] = {"client_id": CLIENT_ID} | livechat_customer_options
    urls: dict[str, Any] = {
        "organization_id": livechat_sandbox.organization_id,
        "api_url": livechat_sandbox.api_url,
        "accounts_url": livechat_sandbox.accounts_url,
    }
    if livechat_sandbox.tls:
        options.setdefault("ssl", livechat_sandbox.ssl_context_for_clients())
    cassette = _cassette(request)
    if livechat_replay is not None:
        urls = {
            "organization_id": livechat_replay.organization_id,
            "api_url": livechat_replay.api_url,
            "accounts_url": livechat_replay.accounts_url,
        }
        options.pop("ssl", None)
    elif cassette is not None:  # --livechat-record
        for name in ("api_url", "accounts_url", "organization_id", "client_id"):
            given = request.config.getoption(f"livechat_{name}")
            if given is not None:
                (options if name == "client_id" else urls)[name] = given
        cassette.parent.mkdir(parents=True, exist_ok=True)
        options["record"] = cassette
    sdk = rxlivechat.init(**urls, **options)
    try:
        await sdk.wait_connected(timeout=10)
        yield sdk
    finally:
        await sdk.destroy()


def _cassette(request: pytest.FixtureRequest) -> Path | None:
    """The test's cassette (relative to its file's folder), if it is marked."""
    marker = request.node.get_closest_marker("livechat_cassette")
    if marker is None:
        return None
    if len(marker.args) != 1:
        pytest.fail("livechat_cassette takes one path", pytrace=False)
    path: Path = Path(request.node.path).parent / marker.args[0]
    return path


@pytest.fixture
def livechat_faults(livechat_sandbox: Sandbox) -> Faults:
    """The fault controls of the sandbox: dropped sockets, latency, lost replies..."""
    return Faults(livechat_sandbox)
