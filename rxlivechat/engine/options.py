"""What the engine is given: its :class:`Options` and its :class:`Listener`."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import ssl as ssl_
from typing import TYPE_CHECKING, Any, Protocol

import aiohttp

from ..protocol import methods as m
from ..protocol.frames import API_VERSION, Frame
from ..protocol.versions import ApiVersion
from ..stores.base import DEFAULT_KEY, Store
from .auth import TokenProvider

if TYPE_CHECKING:
    from ..cassette import Recording
    from ..telemetry import CustomerTelemetry

__all__ = ["DEFAULT_REGION_URL", "Listener", "Options"]

DEFAULT_REGION_URL = "https://api-{region}.livechatinc.com"
"""The regional API host the official SDK moves to on ``misdirected_connection``."""


class Listener(Protocol):
    """What the engine reports to: the Rx surface implements it."""

    def on_frame(self, frame: Frame) -> None:
        """Every frame the server sent, typed (after its request was settled)."""

    def on_event(self, name: str, payload: Any) -> None:
        """An SDK event: a push's v1 form, or the connection's life.

        Names include ``connected``, ``connection_lost``, ``error`` and every
        push's v1 name (:mod:`rxlivechat.events`).
        """


@dataclasses.dataclass(frozen=True, kw_only=True)
class Options:
    """Everything the engine needs to run one customer.

    Attributes:
        organization_id: the LiveChat organization.
        client_id: the application's client id (for the token request).
        api_url: the API's base URL (``http(s)://``; the socket is ``ws(s)://``).
        region_url: the API's base URL for another region, ``{region}`` in it
            replaced by the ``data.region`` of ``misdirected_connection`` (RTM)
            or ``misdirected_request`` (Web); ``None``: such a customer stops
            with ``disconnected`` naming the region.
        accounts_url: the Accounts API's base URL (customer tokens).
        api_version: the Customer Chat API version spoken (its URLs' path);
            one of :data:`~rxlivechat.protocol.versions.API_VERSIONS`.
        login: the login request, less its token and side storage.
        token_provider: an async callable returning a :class:`Token`; ``None``
            fetches customer tokens from ``accounts_url``.
        request_timeout: seconds a request (or any HTTP exchange) may take.
        connect_timeout: seconds to open a socket.
        reconnect_delay: ``(base, cap)`` seconds of the reconnect backoff.
        reconnects_per_minute: the storm bound (see :class:`.backoff.ReconnectPolicy`).
        ssl: the TLS context; ``None`` verifies with the system's authorities.
        http_session: an HTTP session shared with other customers (a pool's),
            never closed by the engine; the identity is not in it (see
            :class:`.auth.CustomerTokenProvider`). ``None``: the engine makes
            its own on first use and closes it.
        connect_gate: a semaphore shared with other customers: held from the
            token fetch to the end of the login, so a pool restarting many
            customers logs in at most that many at once.
        telemetry: where to report spans and metrics (:mod:`rxlivechat.telemetry`);
            ``None`` reports nothing and costs nothing.
        store: where the identity, the chats' checkpoints and the side storage
            outlive the process (docs/stores.md); ``None`` keeps nothing.
        customer_key: the customer's name in ``store``.
        auto_commit: commit each ``new_event`` once the listener returned;
            ``False`` waits for :meth:`Engine.commit`.
        fail_fast: until the first login, a failed attempt fails the waiting
            requests (and ``wait_connected``) at once, naming its cause.
        record: record the session to this cassette (a path, or a
            :class:`~rxlivechat.cassette.Recording`); ``None`` records nothing
            and costs nothing (docs/howto/record-replay.md).
    """

    organization_id: str
    client_id: str
    api_url: str
    accounts_url: str
    region_url: str | None = None
    api_version: ApiVersion = API_VERSION
    login: m.Login
    token_provider: TokenProvider | None = None
    request_timeout: float = 15.0
    connect_timeout: float = 10.0
    reconnect_delay: tuple[float, float] = (0.5, 30.0)
    reconnects_per_minute: int = 20
    ssl: ssl_.SSLContext | None = None
    http_session: aiohttp.ClientSession | None = None
    connect_gate: asyncio.Semaphore | None = None
    telemetry: CustomerTelemetry | None = None
    store: Store | None = None
    customer_key: str = DEFAULT_KEY
    auto_commit: bool = True
    fail_fast: bool = True
    record: Recording | str | os.PathLike[str] | None = None
