"""The sandbox's URLs (all on one ``127.0.0.1`` port) and the app serving them.

==============================================  ===================================
``GET /v3.6/customer/rtm/ws?organization_id=``  the RTM WebSocket (:mod:`.rtm`)
``POST|GET /v3.6/customer/action/<action>``     the Web API (:mod:`.web_api`)
``/v3.5/customer/...``                          the same in v3.5 (:mod:`..versions`)
``POST /v2/customer/token``                     customer tokens (:mod:`.accounts`)
``DELETE /v2/customer/token``                   revoke the Bearer token
``GET /api/file/lc/att/<org>/<key>/<name>``     uploaded files (:mod:`.files`)
``GET /console/``                               the agent console (:mod:`..console`)
==============================================  ===================================
"""

from __future__ import annotations

from aiohttp import web

from ...protocol.frames import API_VERSION
from ..console import CONSOLE_PATH
from .accounts import TOKEN_PATH, Accounts
from .files import FILES_PATH, Files
from .host import Host
from .middleware import Middleware, no_sniffing
from .rtm import Rtm
from .web_api import WebApi

__all__ = ["RTM_PATH", "make_app"]

RTM_PATH = f"/v{API_VERSION}/customer/rtm/ws"
# Every version is routed; an unsupported one is refused with unsupported_version.
_RTM_ROUTE = "/v{version}/customer/rtm/ws"
_WEB_ROUTE = "/v{version}/customer/action/{action}"


def make_app(
    host: Host, console: web.Application, max_body_bytes: int
) -> tuple[web.Application, Middleware]:
    """The aiohttp app of a sandbox, and its middleware (for the idle cap).

    Args:
        host: the sandbox.
        console: the agent console's app, mounted at ``/console``.
        max_body_bytes: the largest request body aiohttp reads.
    """
    middleware = Middleware(host)
    app = web.Application(middlewares=middleware.all, client_max_size=max_body_bytes)
    app.on_response_prepare.append(no_sniffing)
    files = Files(host)
    accounts = Accounts(host)
    app.router.add_get(_RTM_ROUTE, Rtm(host).serve)
    app.router.add_route("*", _WEB_ROUTE, WebApi(host, files).serve)
    app.router.add_post(TOKEN_PATH, accounts.token)
    app.router.add_delete(TOKEN_PATH, accounts.revoke)
    app.router.add_post(
        "/v2/customer/{organization_id}/{group_id}/token", accounts.token
    )
    app.router.add_get(FILES_PATH + "/{org}/{key}/{name}", files.serve)
    app.add_subapp(CONSOLE_PATH, console)
    return app, middleware
