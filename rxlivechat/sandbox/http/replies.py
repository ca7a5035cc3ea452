"""How the HTTP side answers: JSON, errors with their status, and injected faults.

Every request, RTM or Web, goes through :func:`hold` (``delay_replies``) and
:func:`raise_forced` (``fail_next``) before it is handled.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from ...exceptions import (
    ServerError,
    ServerRequestTimeoutError,
    ServiceUnavailableError,
    server_error,
)
from ...protocol.base import Method
from ...protocol.codec import encode, encode_frame
from ...protocol.frames import ErrorBody, ErrorResponse, Request, WebError
from ...protocol.tokens import OAuthError
from .host import Host

__all__ = [
    "HTTP_STATUS",
    "error_frame",
    "error_response",
    "hold",
    "json_response",
    "oauth_error",
    "raise_forced",
    "read_body",
    "timed_out",
]

logger = logging.getLogger("rxlivechat.sandbox")

HTTP_STATUS: dict[str, int] = {
    "validation": 400,
    "chat_inactive": 400,
    "chat_anonymized": 400,
    "limit_reached": 400,
    "chat_limit_reached": 400,
    "chat_already_active": 400,
    "customer_session_fields_limit_reached": 400,
    "group_offline": 400,
    "group_unavailable": 400,
    "groups_offline": 400,
    "not_allowed": 400,
    "unsupported_version": 400,
    "authentication": 401,
    "license_expired": 402,
    "authorization": 403,
    "customer_banned": 403,
    "wrong_product_version": 403,
    "users_limit_reached": 403,
    "not_found": 404,
    "license_not_found": 404,
    "group_not_found": 404,
    "greeting_not_found": 404,
    "entity_too_large": 413,
    "misdirected_request": 421,
    "too_many_requests": 429,
    "pending_requests_limit_reached": 429,
    "internal": 500,
    "service_unavailable": 503,
    "request_timeout": 504,
}
"""The HTTP status the Web API answers each error type with (the docs give none)."""


def error_frame(req: Request[Method[Any]], exc: ServerError) -> bytes:
    """The RTM error response to ``req``."""
    return encode_frame(
        ErrorResponse(
            action=req.action,
            error=ErrorBody(type=exc.error_type, message=exc.message, data=exc.data),
            request_id=req.request_id,
        )
    )


def json_response(value: Any, *, status: int = 200) -> web.Response:
    """``value`` encoded as a JSON answer."""
    return web.Response(
        body=encode(value), status=status, content_type="application/json"
    )


def error_response(exc: ServerError) -> web.Response:
    """A Web API error, with the status of its type (:data:`HTTP_STATUS`)."""
    body = WebError(ErrorBody(type=exc.error_type, message=exc.message, data=exc.data))
    return json_response(body, status=HTTP_STATUS.get(exc.error_type, 400))


def oauth_error(kind: str, description: str, *, status: int = 400) -> web.Response:
    """An Accounts API error (RFC 6749 shape)."""
    return json_response(OAuthError(kind, description), status=status)


def timed_out(request: web.Request) -> web.HTTPRequestTimeout:
    """408 for a body that stalled; the connection is not reused."""
    logger.info("sandbox: a request body to %s stalled", request.path)
    answer = web.HTTPRequestTimeout(text="The request body stalled")
    answer.force_close()
    return answer


async def read_body(host: Host, request: web.Request) -> bytes:
    """The whole body, within ``max_body_bytes`` and ``http_body_timeout``.

    Raises:
        web.HTTPRequestEntityTooLarge: the body is over the limit (413).
        web.HTTPRequestTimeout: it stalled; the connection is closed (408).
    """
    try:
        async with asyncio.timeout(host.http_body_timeout):
            return await request.read()
    except TimeoutError:
        raise timed_out(request) from None


async def hold(host: Host, action: str) -> None:
    """Wait the delay ``delay_replies`` set for ``action``, if any.

    Raises:
        ServerRequestTimeoutError: the delay reaches ``request_timeout``.
        ServiceUnavailableError: the sandbox stopped meanwhile.
    """
    delay = host.faults.delay_for(action)
    if delay <= 0:
        return
    try:  # sleep, but end at once when the sandbox stops (nothing left behind)
        await asyncio.wait_for(host.stopping.wait(), min(delay, host.request_timeout))
    except TimeoutError:
        if delay >= host.request_timeout:
            raise ServerRequestTimeoutError("Request timed out") from None
        return
    raise ServiceUnavailableError("the sandbox is shutting down")


def raise_forced(host: Host, action: str) -> None:
    """Raise the failure ``fail_next`` set for ``action``, if any."""
    forced = host.faults.take_failure(action)
    if forced is not None:
        raise server_error(*forced)
