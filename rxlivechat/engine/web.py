"""The Web API (HTTP) side of the Customer Chat API, for actions RTM does not have.

``POST <api_url>/v3.6/customer/action/<action>?organization_id=…`` with the payload
as the JSON body, or ``GET`` with it as query parameters for the five GET actions
(digest §1.2); ``Authorization: Bearer <customer token>``, the same token as the
socket's. Errors come back as an HTTP status and ``{"error": {...}}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
import msgspec

from ._transport import map_errors, web_url
from .auth import Token
from .exceptions import InvalidArgumentError, ProtocolError, server_error
from .protocol import codec
from .protocol.base import Method
from .protocol.frames import ErrorBody

__all__ = ["NO_AUTH", "WebClient", "web_error"]

R = TypeVar("R")

NO_AUTH = frozenset({"list_license_properties", "list_group_properties"})
"""Actions the Web API serves without a token (digest §1.2)."""


class _WebError(msgspec.Struct):
    error: ErrorBody


def web_error(body: bytes, status: int, action: str) -> Exception:
    """The exception for a Web API error reply."""
    try:
        error = msgspec.json.decode(body, type=_WebError).error
    except (msgspec.DecodeError, msgspec.ValidationError):
        return ProtocolError(f"{action} failed with HTTP {status}", action=action)
    return server_error(error.type, error.message, data=error.data, action=action)


class WebClient:
    """Calls Web API actions with the SDK's HTTP session and token."""

    def __init__(
        self,
        http: Callable[[], aiohttp.ClientSession],
        token: Callable[[], Awaitable[Token]],
        *,
        api_url: str,
        organization_id: str,
    ) -> None:
        self._http = http
        self._token = token
        self._api_url = api_url
        self._organization_id = organization_id

    async def call(self, method: Method[R]) -> R:
        """Send ``method`` over HTTP and decode its typed result.

        Raises:
            InvalidArgumentError: the action has no Web API form.
            ServerError: the server answered with an error (its subclass).
            ConnectError: the request could not be made.
        """
        verb = method.web
        action = method.action
        if verb is None:
            raise InvalidArgumentError(f"{action!r} has no Web API form; use RTM")
        headers: dict[str, str] = {}
        if action not in NO_AUTH:
            headers["Authorization"] = (await self._token()).authorization
        url = web_url(self._api_url, action, self._organization_id)
        with map_errors(f"{action} failed"):
            if verb == "GET":
                request = self._http().get(url, params=_query(method), headers=headers)
            else:
                headers["Content-Type"] = "application/json"
                request = self._http().post(
                    url, data=codec.encode(method), headers=headers
                )
            async with request as response:
                body = await response.read()
                status = response.status
        if status != 200:
            raise web_error(body, status, action)
        result: R = codec.decode(body, method.result_type)
        return result


def _query(method: Method[Any]) -> dict[str, str]:
    """A GET action's fields as query parameters (booleans as true/false)."""
    params: dict[str, str] = {}
    for key, value in msgspec.to_builtins(method).items():
        if isinstance(value, bool):
            params[key] = "true" if value else "false"
        elif value is not None:
            params[key] = str(value)
    return params
