"""CORS for browser clients: the JS Customer SDK runs on a page of another origin.

In a browser the SDK calls the accounts token endpoint with a credentialed
``XMLHttpRequest`` (``credentials: 'include'``, the ``__lc_cid``/``__lc_cst``
cookies) and ``upload_file`` with an ``Authorization`` header (so the browser
sends a preflight ``OPTIONS`` first). LiveChat's servers allow this from the
organization's pages; the sandbox has no allow-list of origins, so it answers
any ``Origin`` it is sent (reflected, with credentials allowed). The WebSocket
needs none of this (browsers do not apply CORS to it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

__all__ = ["cors_middleware"]

_ALLOWED_METHODS = "GET, POST, DELETE"
_PREFLIGHT_MAX_AGE = "600"


@web.middleware
async def cors_middleware(
    request: web.Request,
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> web.StreamResponse:
    """Answer preflights, and let the page's origin read every reply."""
    origin = request.headers.get("Origin")
    if (
        origin is not None
        and request.method == "OPTIONS"
        and "Access-Control-Request-Method" in request.headers
    ):
        response: web.StreamResponse = web.Response(status=204)
        response.headers["Access-Control-Allow-Methods"] = _ALLOWED_METHODS
        response.headers["Access-Control-Allow-Headers"] = request.headers.get(
            "Access-Control-Request-Headers", ""
        )
        response.headers["Access-Control-Max-Age"] = _PREFLIGHT_MAX_AGE
    else:
        response = await handler(request)
    if origin is not None and not response.prepared:  # a WebSocket is prepared
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Vary"] = "Origin"
    return response
