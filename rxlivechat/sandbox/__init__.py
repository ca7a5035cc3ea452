"""A LiveChat-compatible Customer Chat API server (v3.5 to v3.7) on loopback.

.. code-block:: python

    from rxlivechat.sandbox import Sandbox

    async with Sandbox() as sandbox:
        token = await sandbox.create_customer_token()
        agent = sandbox.agent("Jane")
        ...

Layers (the same Sans-I/O split as the client):

* :mod:`.store` (and :mod:`.records`), :mod:`.actions` (one module per action
  family, each handler registered on its Struct), :mod:`.pagination`,
  :mod:`.tokens`, :mod:`.faults`, :mod:`.ids`, :mod:`.roster`,
  :mod:`.versions`, :mod:`.echoes` are pure: state and request handling, no I/O;
* :mod:`.http` (aiohttp.web: RTM, Web API, accounts, files, middleware),
  :mod:`.agents`, :mod:`.console` and :mod:`.network` (the simulated latency)
  are the asyncio glue; :mod:`.server` is the :class:`Sandbox` facade over them;
* :mod:`.cli` runs it standalone (``python -m rxlivechat sandbox``).

The pytest fixtures live above the sandbox, in :mod:`rxlivechat.testing`.

Every point where the sandbox had to guess the protocol is listed in
``docs/sandbox-choices.md``.
"""

from ..protocol.limits import LIMITS
from .actions import Handlers, IncomingSneakPeek, Outcome, Outgoing
from .agents import ScriptedAgent
from .bounds import Bounds
from .faults import RecordedRequest, RequestLog
from .roster import RosterAgent, RosterGroup
from .server import HTTP_STATUS, Connection, Sandbox
from .store import SandboxState, SneakPeek
from .tokens import IssuedToken

__all__ = [
    "HTTP_STATUS",
    "LIMITS",
    "Bounds",
    "Connection",
    "Handlers",
    "IncomingSneakPeek",
    "IssuedToken",
    "Outcome",
    "Outgoing",
    "RecordedRequest",
    "RequestLog",
    "RosterAgent",
    "RosterGroup",
    "Sandbox",
    "ScriptedAgent",
    "SneakPeek",
    "SandboxState",
]
