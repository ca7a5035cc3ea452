"""rxlivechat on uvloop: the same scenarios as :mod:`.rx`, on uvloop's event loop.

The code is :mod:`.rx`'s, unchanged: what differs is the loop the client process
runs (``asyncio.Runner(loop_factory=uvloop.new_event_loop)``, the way the docs
show), so the column beside rxlivechat's is the loop's gain alone.
"""

from __future__ import annotations

import uvloop

from .rx import (
    at_once,
    at_once_gather,
    at_once_operators,
    e2e_seq,
    logins,
    pushes,
    rx_merge,
    seq,
    seq_dict,
    waiting,
    window,
)

LOOP_FACTORY = uvloop.new_event_loop

__all__ = [
    "LOOP_FACTORY",
    "at_once",
    "at_once_gather",
    "at_once_operators",
    "e2e_seq",
    "logins",
    "pushes",
    "rx_merge",
    "seq",
    "seq_dict",
    "waiting",
    "window",
]
