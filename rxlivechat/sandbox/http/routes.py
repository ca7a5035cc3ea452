"""The sandbox's URLs (all on one ``127.0.0.1`` port) and the app serving them.

==============================================  ===================================
``GET /v3.6/customer/rtm/ws?organization_id=``  the RTM WebSocket (:mod:`.rtm`)
``POST|GET /v3.6/customer/action/<action>``     the Web API (:mod:`.web_api`)
``/v3.5/...``, ``/v3.7/...``                    the same (:mod:`..versions`)
``POST /v2/customer/token``                     customer tokens (:mod:`.accounts`)
``DELETE /v2/customer/token``                   revoke the Bearer token
``GET /api/file/lc/att/<org>/<key>/<name>``     uploaded files (:mod:`.files`)
``GET /console/``                               the agent console (:mod:`..console`)
==============================================  ===================================
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from ...protocol.frames import API_VERSION
from ..console import CONSOLE_PATH
from .accounts import TOKEN_PATH, Accounts
from .files import FILES_PATH, Files
from .host import Host
from .middleware import Handler, Middleware, no_sniffing
from .rtm import Rtm
from .web_api import WebApi

__all__ = ["RTM_PATH", "make_app"]

RTM_PATH = f"/v{API_VERSION}/customer/rtm/ws"
# Every version is routed; an unsupported one is refused with unsupported_version.
_RTM_ROUTE = "/v{version}/customer/rtm/ws"
_WEB_ROUTE = "/v{version}/customer/action/{action}"
_GROUP_TOKEN_PATH = "/v2/customer/{organization_id}/{group_id}/token"


def make_app(
    host: Host,
    console: Callable[[Callable[[Handler], Handler]], web.Application],
    max_body_bytes: int,
) -> tuple[web.Application, Middleware]:
    """The aiohttp app of a sandbox, and its middleware (for the idle cap).

    Every handler is wrapped in :meth:`Middleware.wrap`; no aiohttp middleware
    is registered (see :mod:`.middleware`: aiohttp's chain cache would keep
    the sandbox alive after it closes).

    Args:
        host: the sandbox.
        console: makes the agent console's app, mounted at ``/console``, from
            the wrapper its handlers need.
        max_body_bytes: the largest request body aiohttp reads.
    """
    middleware = Middleware(host)
    wrap = middleware.wrap
    app = web.Application(client_max_size=max_body_bytes)
    app.on_response_prepare.append(no_sniffing)
    files = Files(host)
    accounts = Accounts(host)
    app.router.add_get(_RTM_ROUTE, wrap(Rtm(host).serve))
    app.router.add_route("*", _WEB_ROUTE, wrap(WebApi(host, files).serve))
    app.router.add_post(TOKEN_PATH, wrap(accounts.token))
    app.router.add_delete(TOKEN_PATH, wrap(accounts.revoke))
    app.router.add_post(_GROUP_TOKEN_PATH, wrap(accounts.token))
    app.router.add_get(FILES_PATH + "/{org}/{key}/{name}", wrap(files.serve))
    # CORS preflights (the guard answers them); the Web API's route takes any verb.
    for path in (TOKEN_PATH, _GROUP_TOKEN_PATH, FILES_PATH + "/{org}/{key}/{name}"):
        app.router.add_route("OPTIONS", path, wrap(_preflight_only))
    app.add_subapp(CONSOLE_PATH, console(wrap))
    return app, middleware


async def _preflight_only(request: web.Request) -> web.StreamResponse:
    """CORS preflights are answered by the guard; any other OPTIONS is 405."""
    raise web.HTTPMethodNotAllowed("OPTIONS", ["GET", "POST", "DELETE"])
