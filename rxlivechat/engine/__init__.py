"""The engine: asyncio and aiohttp, no reactivex.

:class:`Engine` runs one customer and reports every frame and SDK event to one
:class:`Listener`. Each concern has its module: the connection's state
(:mod:`.state`) and task (:mod:`.connection`), one frame in (:mod:`.inbox`),
requests and the Sans-I/O session (:mod:`.requests`), the chats and the
recovery (:mod:`.recovery`), durability (:mod:`.commits`), HTTP and tokens
(:mod:`.access`, :mod:`.auth`, :mod:`.web`), the socket (:mod:`.transport`,
:mod:`.websocket`), the reconnect policy (:mod:`.backoff`), the waits for a
login (:mod:`.waiters`) and the closing tasks (:mod:`.closing`).
"""

from .auth import CustomerTokenProvider, TokenProvider
from .engine import Engine
from .options import Listener, Options
from .pending import Pending
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
