"""A LiveChat-compatible Customer Chat API v3.6 server on loopback, for tests and demos.

.. code-block:: python

    from rxlivechat.sandbox import Sandbox

    async with Sandbox() as sandbox:
        token = await sandbox.create_customer_token()
        agent = sandbox.agent("Jane")
        ...

Layers (the same Sans-I/O split as the client):

* :mod:`.store`, :mod:`.handlers`, :mod:`.pagination`, :mod:`.tokens`,
  :mod:`.faults`, :mod:`.ids` are pure: state and request handling, no I/O;
* :mod:`.server` (aiohttp.web) and :mod:`.agents` are the asyncio glue;
* :mod:`.cli` runs it standalone (``python -m rxlivechat sandbox``).

Every point where the sandbox had to guess the protocol is listed in
``docs/sandbox-choices.md``.
"""

from .agents import ScriptedAgent
from .faults import RecordedRequest, RequestLog
from .handlers import LIMITS, Handlers, IncomingSneakPeek, Outcome, Outgoing
from .server import HTTP_STATUS, Connection, Sandbox
from .store import SneakPeek, Store
from .tokens import IssuedToken

__all__ = [
    "HTTP_STATUS",
    "LIMITS",
    "Connection",
    "Handlers",
    "IncomingSneakPeek",
    "IssuedToken",
    "Outcome",
    "Outgoing",
    "RecordedRequest",
    "RequestLog",
    "Sandbox",
    "ScriptedAgent",
    "SneakPeek",
    "Store",
]
