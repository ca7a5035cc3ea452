"""lc-sdk-python 0.4.2 (``livechat``), the official Python SDK: its customer RTM.

It is synchronous: websocket-client reads in a daemon thread and appends every
frame (a ``json.loads`` dict) to ``ws.messages``; a request polls that list every
0.2 s for its reply. Its URL is hard-coded ``wss://``; we rewrite it to ``ws://``
(as the reference benchmark did) so that every contender runs without TLS.
Its per-request loguru logging is switched off (``logger.remove()``).
"""

from __future__ import annotations

import concurrent.futures
import gc
import threading
import time
from typing import Any

from loguru import logger

from ..measure import (
    BURST_TIMEOUT,
    Span,
    fetch_token,
    raise_nofile,
    rss_bytes,
    trigger_burst,
)
from ..servers import Server
from ..stub_server import CHAT_ID

logger.remove()  # the SDK logs every request and reply with json.dumps(indent=4)

from livechat.customer.rtm.base import CustomerRTM  # noqa: E402  (after the logger)

WARM_UP = 2
CONNECT_THREADS = 50


def _connect(server: Server, org: str, token: str = "bench") -> Any:
    rtm = CustomerRTM.get_client(
        version="3.6",
        base_url=server.api_url.removeprefix("http://"),
        organization_id=org or server.organization_id,
    )
    rtm.ws.url = rtm.ws.url.replace("wss://", "ws://", 1)
    rtm.open_connection()
    _ok(rtm.login(token=f"Bearer {token}"))
    return rtm


def _ok(reply: Any) -> Any:
    """The reply, if it came (the SDK returns ``None`` on timeout) and succeeded."""
    if reply is None or not reply.success:
        raise RuntimeError(f"no successful reply: {reply and reply.rtm_response}")
    return reply


def _send(rtm: Any, chat_id: str, count: int) -> None:
    for _ in range(count):
        event = {"type": "message", "text": "hello"}
        _ok(rtm.send_event(chat_id=chat_id, event=event))


def seq(server: Server, org: str, n: int) -> dict[str, Any]:
    rtm = _connect(server, org)
    try:
        _send(rtm, CHAT_ID, WARM_UP)
        with Span() as span:
            _send(rtm, CHAT_ID, n)
    finally:
        rtm.close_connection()
    return span.result(n)


def e2e_seq(server: Server, org: str, n: int) -> dict[str, Any]:
    rtm = _connect(
        server, org, fetch_token(server.accounts_url, server.organization_id)
    )
    try:
        first = {"type": "message", "text": "hi"}
        chat = _ok(rtm.start_chat(chat={"thread": {"events": [first]}}))
        chat_id = chat.payload["chat_id"]
        _send(rtm, chat_id, WARM_UP)
        with Span() as span:
            _send(rtm, chat_id, n)
    finally:
        rtm.close_connection()
    return span.result(n)


def window(server: Server, org: str, n: int) -> dict[str, Any]:
    """10 threads, each sending in turn: 10 requests in flight."""
    rtm = _connect(server, org)
    try:
        _send(rtm, CHAT_ID, WARM_UP)
        with (
            Span() as span,
            concurrent.futures.ThreadPoolExecutor(10) as pool,
        ):
            for future in [
                pool.submit(_send, rtm, CHAT_ID, n // 10) for _ in range(10)
            ]:
                future.result()
    finally:
        rtm.close_connection()
    return span.result(n // 10 * 10)


def pushes(server: Server, org: str, n: int) -> dict[str, Any]:
    """Pushes land in ``ws.messages`` (dicts, no callback): poll its length."""
    rtm = _connect(server, org)
    try:
        messages = rtm.ws.messages
        with Span() as span:
            target = len(messages) + n
            trigger_burst(server.api_url, org, n)
            deadline = time.monotonic() + BURST_TIMEOUT
            while len(messages) < target and time.monotonic() < deadline:
                time.sleep(0.001)
        if len(messages) < target:
            raise TimeoutError(f"{target - len(messages)} pushes missing")
        assert messages[0]["payload"]["event"]["id"]
    finally:
        rtm.close_connection()
    return span.result(n)


def logins(server: Server, org: str, n: int) -> dict[str, Any]:
    """``n`` customers, connected by 50 threads at once; RSS per connection.

    Tokens come from the sandbox's accounts endpoint (the SDK has no call for it).
    """
    raise_nofile(4 * n + 256)

    def one() -> Any:
        return _connect(
            server, org, fetch_token(server.accounts_url, server.organization_id)
        )

    one().close_connection()  # pays for lazy imports
    time.sleep(0.2)
    gc.collect()
    before = rss_bytes()
    pool = concurrent.futures.ThreadPoolExecutor(CONNECT_THREADS)
    futures: list[concurrent.futures.Future[Any]] = []
    try:
        with Span() as span:
            futures.extend(pool.submit(one) for _ in range(n))
            for future in futures:
                future.result()
        pool.shutdown()  # its threads are not the connections' cost
        time.sleep(1.0)  # idle
        gc.collect()
        after = rss_bytes()
        threads = threading.active_count()
    finally:
        pool.shutdown(cancel_futures=True)
        for future in futures:
            if not future.cancelled() and future.exception() is None:
                future.result().close_connection()
    return span.result(n, rss_per_conn=(after - before) / n, threads=threads)
