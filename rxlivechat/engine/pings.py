"""Pings keep an RTM socket alive and find a dead one (docs/protocol.md §1.3).

Every customer of a loop pings on one grid of slots, so an idle process wakes
once a slot, not once a customer.
"""

from __future__ import annotations

import asyncio
import logging
import math

from ..exceptions import LiveChatError
from ..protocol import methods as m
from .requests import Requests
from .transport import Socket

__all__ = ["PING_INTERVAL", "PING_SLOTS", "next_ping_slot", "ping_loop"]

log = logging.getLogger("rxlivechat")

PING_INTERVAL = 15.0
"""Seconds between RTM pings (docs/protocol.md §1.3: the server drops a socket
after ~30 s)."""

PING_SLOTS = 15
"""Slots per ping interval: each customer pings at the start of the last slot
within :data:`PING_INTERVAL` (see :func:`next_ping_slot`)."""


async def ping_loop(requests: Requests, socket: Socket) -> None:
    """Ping every 15 s; a ping with no reply means a dead socket: return.

    The socket is aborted first: a closing handshake would wait for a peer
    that is not there, and requests waiting meanwhile would wait too. During
    the recovery, the abort also ends the walk waiting on that socket.
    """
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(next_ping_slot(loop.time()) - loop.time())
        try:
            await requests.ask(m.Ping(), urgent=True)
        except LiveChatError as exc:
            log.info("ping failed (%s); aborting the socket", exc)
            socket.abort()
            return


def next_ping_slot(now: float) -> float:
    """When to ping next: the last slot start at most :data:`PING_INTERVAL` away.

    Slots of ``PING_INTERVAL / PING_SLOTS`` seconds (1 s) are one grid for every
    customer of the loop: the customers due in a slot wake in one turn of the
    loop and their replies come back together, so the loop wakes once a slot, not
    once a customer, and an idle customer costs a third less CPU
    (docs/performance.md, issue 27). A ping is never later than the interval.
    """
    slot = PING_INTERVAL / PING_SLOTS
    return math.floor((now + PING_INTERVAL) / slot) * slot
