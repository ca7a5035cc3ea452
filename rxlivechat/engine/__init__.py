"""The engine: asyncio and aiohttp, no reactivex.

:class:`Engine` runs one customer: it alone drives the Sans-I/O session (through
:mod:`.requests`), the socket's life (:mod:`.transport`, :mod:`.backoff`,
:mod:`.recovery`), the token (:mod:`.auth`) and the Web API (:mod:`.web`), and
reports every frame and SDK event to one :class:`Listener`.
"""

from .auth import CustomerTokenProvider, TokenProvider
from .engine import Engine, Listener, Options
from .requests import Pending
from .web import PreparedFile

__all__ = [
    "CustomerTokenProvider",
    "Engine",
    "Listener",
    "Options",
    "Pending",
    "PreparedFile",
    "TokenProvider",
]
