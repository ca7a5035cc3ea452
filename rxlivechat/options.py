"""A customer's options, declared once: :class:`CustomerOptions`.

.. code-block:: text

    CustomerOptions (names, types, docs) ──► CustomerSDK(**options)
                                         ──► init(*, auto_connect, **options)
                                         ──► connect_sync(*, timeout, ..., **options)
    defaults: the engine's Options (rxlivechat.engine), and api_url's and
              sneak_peek_interval's here

``mypy`` and IDEs read the keyword arguments from the ``TypedDict``
(``**options: Unpack[CustomerOptions]``); :func:`signature` spells them out, with
their defaults, for ``help()`` and ``inspect.signature``, and :func:`documented`
adds their docs to a docstring.
"""

from __future__ import annotations

import asyncio
import dataclasses
import difflib
import inspect
import os
import ssl as ssl_
import typing
from collections.abc import Callable, Mapping
from typing import Any, Required, TypedDict, TypeVar

import aiohttp

from .cassette import Recording  # resolved at run time: signature()
from .engine import Options, TokenProvider
from .exceptions import InvalidArgumentError
from .methods.validate import convert, require_str
from .protocol import methods as m
from .protocol.frames import API_VERSION
from .protocol.versions import ApiVersion, check_api_version
from .stores import Store, as_store
from .telemetry import CustomerTelemetry  # resolved at run time: signature()
from .urls import DEFAULT_API_URL, check_region_url, check_urls

__all__ = [
    "PASSED_TO_THE_ENGINE",
    "REQUIRED",
    "SNEAK_PEEK_INTERVAL",
    "CustomerOptions",
    "check_names",
    "documented",
    "for_the_engine",
    "signature",
]

F = TypeVar("F", bound=Callable[..., Any])

SNEAK_PEEK_INTERVAL = 2.0
"""Seconds between two sneak peeks of one chat, by default."""


class CustomerOptions(TypedDict, total=False):
    """The keyword arguments of :class:`~rxlivechat.CustomerSDK` and ``init()``.

    A model may be a Struct or the plain dict of its wire form (snake_case keys;
    a bad or unknown key is refused).

    Attributes:
        organization_id: the LiveChat organization.
        client_id: your application's client id (for customer tokens).
        api_url: the Customer Chat API's base URL (``http(s)``; the socket uses
            ``ws(s)``); a sandbox's ``api_url`` in tests.
        accounts_url: the Accounts API's base URL (customer tokens). ``None``:
            LiveChat's, which only the default ``api_url`` may use: a custom
            ``api_url`` needs its own (or a ``token_provider``).
        region_url: where the API of another region is, ``{region}`` in it
            standing for the region the server names when the organization is
            elsewhere (``misdirected_connection``/``misdirected_request``).
            ``None``: LiveChat's own pattern when ``api_url`` is LiveChat's;
            with any other ``api_url`` the SDK then stops with ``disconnected``
            naming the region, rather than reconnecting to the same host.
        api_version: the Customer Chat API version: ``"3.6"`` (LiveChat's
            stable one), ``"3.5"`` (legacy: a WARNING logs its end date once)
            or ``"3.7"`` (the developer preview: ``list_chats`` pages are
            :class:`~rxlivechat.protocol.methods.ListChatsInfoResult`, and
            ``get_predicted_agent`` is refused for ``request_welcome_message``).
            See docs/protocol.md, "API versions".
        group_id: the group to chat with (sent at login).
        page: the page the customer is on, ``{"url", "title"}`` (sent at login).
        referrer: the page's referrer (sent at login).
        tab_id: the browser tab the customer is in, sent at login as
            ``tab_id`` (JS Customer SDK v5's ``tabId``): tells one customer's
            tabs apart. ``None``: not sent, as v5 does without it.
        customer: customer data sent at login: ``name``, ``email``,
            ``session_fields``...
        token_provider: an async callable returning a :class:`~rxlivechat.Token`;
            replaces the built-in customer token fetch (bring tokens from your
            backend).
        request_timeout: seconds a request may wait, for a connection and a reply.
        connect_timeout: seconds to open the WebSocket.
        sneak_peek_interval: the sneak-peek throttle's interval in seconds.
        reconnect_delay: ``(base, cap)`` in seconds of the reconnect backoff
            (docs/reconnect.md: a login resets it; failed attempts grow it).
        reconnects_per_minute: the long-run bound on reconnects a minute (this
            many back to back, then one every ``60 / reconnects_per_minute`` s).
        application: the ``application`` reported at login.
        ssl: the TLS context for ``https``/``wss``; ``None`` verifies against
            the system's certificate authorities (never turned off by default).
        http_session: an ``aiohttp.ClientSession`` shared with other customers
            (:class:`~rxlivechat.pool.CustomerPool` passes its own); never closed
            by the SDK. ``None``: the SDK makes its own when it first needs one
            and closes it on ``destroy()``. The customer's identity is never
            in the session (its cookie jar plays no part), so one session
            serves many customers.
        connect_gate: a semaphore shared with other customers that bounds how
            many connect and log in at once (a pool's).
        telemetry: spans and metrics for this customer
            (:meth:`rxlivechat.telemetry.Telemetry.customer`); ``None``: none.
        store: where the customer's identity, each chat's checkpoint and the
            side storage outlive the process: a :class:`~rxlivechat.stores.Store`,
            a file path (an SQLite store) or a ``redis://`` URL; ``None`` keeps
            nothing past the process (a bounded memory of recent events, as
            a reconnect needs). See docs/howto/run-as-a-service.md.
        customer_key: the customer's name in ``store`` (one store, many
            customers).
        auto_commit: an event is committed once every subscriber and handler
            returned from it, and every ``async def`` handler's coroutine
            completed; ``False``: once you call ``sdk.commit()`` (or use the
            :func:`rxlivechat.commit` operator).
        fail_fast: until the first login, a failed connection attempt (a
            refused port, a name that does not resolve, TLS, an HTTP error)
            fails ``wait_connected()`` and the waiting requests at once with
            :class:`~rxlivechat.NotConnectedError`, naming the cause; the SDK
            keeps trying. ``False``: they wait through failed attempts.
        record: record the session to this cassette file (or a
            :class:`~rxlivechat.cassette.Recording`): every frame and HTTP
            exchange, secrets redacted; ``None`` records nothing
            (docs/howto/record-replay.md).
    """

    organization_id: Required[str]
    client_id: Required[str]
    api_url: str
    accounts_url: str | None
    region_url: str | None
    api_version: ApiVersion
    group_id: int | None
    page: m.CustomerPage | Mapping[str, str] | None
    referrer: str | None
    tab_id: str | None
    customer: m.LoginCustomer | Mapping[str, Any] | None
    token_provider: TokenProvider | None
    request_timeout: float
    connect_timeout: float
    sneak_peek_interval: float
    reconnect_delay: tuple[float, float]
    reconnects_per_minute: int
    application: m.Application | Mapping[str, Any] | None
    ssl: ssl_.SSLContext | None
    http_session: aiohttp.ClientSession | None
    connect_gate: asyncio.Semaphore | None
    telemetry: CustomerTelemetry | None
    store: Store | str | os.PathLike[str] | None
    customer_key: str
    auto_commit: bool
    fail_fast: bool
    record: Recording | str | os.PathLike[str] | None


CHECKED_BY_THE_SDK = frozenset(
    {
        "organization_id",
        "client_id",
        "api_url",
        "accounts_url",
        "region_url",
        "api_version",
        "store",
    }
)
"""The options the SDK checks or converts before the engine gets them."""

_HINTS = typing.get_type_hints(CustomerOptions, include_extras=True)
# From the hints: with postponed annotations, ``__required_keys__`` misses
# ``Required`` before Python 3.13.
REQUIRED = frozenset(k for k, t in _HINTS.items() if typing.get_origin(t) is Required)
"""The options without a default."""

PASSED_TO_THE_ENGINE = (
    frozenset(field.name for field in dataclasses.fields(Options)) & _HINTS.keys()
) - CHECKED_BY_THE_SDK
"""The options the engine's :class:`~rxlivechat.engine.Options` takes as they are
(and whose defaults it declares)."""

_DEFAULTS: dict[str, Any] = {
    **{
        field.name: field.default
        for field in dataclasses.fields(Options)
        if field.default is not dataclasses.MISSING
    },
    "api_url": DEFAULT_API_URL,
    "sneak_peek_interval": SNEAK_PEEK_INTERVAL,
}


def check_names(
    options: Mapping[str, object], of: str, *, complete: bool = True
) -> None:
    """Refuse what Python would refuse of a plain signature (``TypeError``).

    Args:
        options: the keyword arguments given.
        of: who was called, for the message (``"init()"``).
        complete: whether the required options must be there (not in a
            pool's defaults, which each customer completes).
    """
    for name in sorted(options.keys() - _HINTS.keys()):
        close = difflib.get_close_matches(name, sorted(_HINTS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise TypeError(f"{of} got an unexpected keyword argument {name!r}{hint}")
    missing = sorted(REQUIRED - options.keys())
    if missing and complete:
        raise TypeError(f"{of} missing required keyword arguments: {missing}")


def for_the_engine(options: CustomerOptions, of: str) -> Options:
    """Check a customer's ``options`` (nothing is sent yet); the engine's from them.

    Args:
        options: the keyword arguments given.
        of: who was called, for the messages (``"CustomerSDK()"``).

    Raises:
        TypeError: an unknown option, or a required one missing.
        InvalidArgumentError: an option is invalid.
    """
    check_names(options, of)
    organization_id = options["organization_id"]
    client_id = options["client_id"]
    api_url = options.get("api_url", DEFAULT_API_URL)
    token_provider = options.get("token_provider")
    require_str("organization_id", organization_id)
    require_str("client_id", client_id)
    accounts_url = check_urls(api_url, options.get("accounts_url"), token_provider)
    region_url = check_region_url(api_url, options.get("region_url"))
    api_version = check_api_version(options.get("api_version", API_VERSION))
    tab_id = options.get("tab_id")
    if tab_id is not None:
        require_str("tab_id", tab_id)
    store = options.get("store")
    # Typed by CustomerOptions already; their defaults are the engine's.
    passed: dict[str, Any] = {
        k: v for k, v in options.items() if k in PASSED_TO_THE_ENGINE
    }
    engine_options = Options(
        organization_id=organization_id,
        client_id=client_id,
        api_url=api_url,
        accounts_url=accounts_url,
        region_url=region_url,
        api_version=api_version,
        login=m.Login(
            token="",
            customer=convert(options.get("customer"), m.LoginCustomer, "customer"),
            customer_page=convert(options.get("page"), m.CustomerPage, "page"),
            group_id=options.get("group_id"),
            referrer=options.get("referrer"),
            tab_id=tab_id,
            application=convert(
                options.get("application"), m.Application, "application"
            )
            or m.Application(name="rxlivechat"),
        ),
        **passed,
    )
    require_str("customer_key", engine_options.customer_key)
    if engine_options.request_timeout <= 0:
        raise InvalidArgumentError("request_timeout must be positive")
    if store is None:
        # None keeps nothing (a MemoryStore would keep a checkpoint per
        # chat for ever): the engine's own ledger is bounded.
        return engine_options
    # Opened once the rest is known to be good.
    return dataclasses.replace(engine_options, store=as_store(store))


def signature(
    *before: inspect.Parameter, returns: Any = inspect.Parameter.empty
) -> inspect.Signature:
    """The signature a ``**options: Unpack[CustomerOptions]`` function stands for.

    Every option is a keyword parameter with its type and default, after the
    parameters ``before``: what ``help()`` and ``inspect.signature`` show.
    """
    options = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=typing.get_args(hint)[0] if name in REQUIRED else hint,
            default=inspect.Parameter.empty
            if name in REQUIRED
            else _DEFAULTS.get(name),
        )
        for name, hint in _HINTS.items()
    ]
    return inspect.Signature([*before, *options], return_annotation=returns)


def documented(function: F) -> F:
    """``function`` as ``help()`` shows it: every option in its signature and docs.

    ``function`` takes ``**options: Unpack[CustomerOptions]`` after its own
    parameters, which keep their place; its own docstring keeps the lead, the
    options' docs follow it.
    """
    hints = typing.get_type_hints(function)
    own = [
        p.replace(annotation=hints.get(p.name, p.annotation))
        for p in inspect.signature(function).parameters.values()
        if p.kind is not inspect.Parameter.VAR_KEYWORD
    ]
    returns = hints.get("return", inspect.Parameter.empty)
    function.__signature__ = signature(  # type: ignore[attr-defined]
        *own, returns=None if returns is type(None) else returns
    )
    lead = inspect.cleandoc(function.__doc__ or "")
    options = inspect.cleandoc(CustomerOptions.__doc__ or "")
    keywords = options[options.index("Attributes:") + len("Attributes:") :]
    function.__doc__ = f"{lead}\n\nOptions (:class:`CustomerOptions`):{keywords}"
    return function
