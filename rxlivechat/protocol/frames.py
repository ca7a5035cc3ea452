"""The RTM frames, as the Python side sees them (docs/protocol.md §1.4).

On the wire every frame is one JSON object; ``type`` tells a response from a push,
and ``success`` a result from an error. Here each kind is its own Struct, so a
``match`` statement or ``isinstance`` tells them apart:

.. code-block:: text

    client → server  Request[M]     {"request_id", "action", "payload": M, "version"?}
    server → client  Response[R]    {"request_id", "action", "type": "response",
                                     "success": true, "payload": R}
                     ErrorResponse  {... "success": false,
                                     "payload": {"error": ErrorBody}}
                     Push[P]        {"request_id"? (our copy only), "action",
                                     "type": "push", "payload": P, "version"}

``request_id`` is ours to choose and is echoed back; a push caused by our own
request carries its id on our copy only.
"""

from __future__ import annotations

from typing import Any, Final, Generic, TypeAlias, TypeVar

from .base import Model

__all__ = [
    "API_VERSION",
    "ErrorBody",
    "ErrorResponse",
    "Frame",
    "Push",
    "Request",
    "Response",
    "WebError",
]

API_VERSION: Final = "3.6"
"""The Customer Chat API version spoken by default (the stable one)."""

PayloadT = TypeVar("PayloadT")


class ErrorBody(Model):
    """The wire error object: ``{"type", "message", "data"?}``."""

    type: str
    message: str = ""
    data: dict[str, Any] | None = None


class WebError(Model):
    """A Web API error reply's body: ``{"error": {...}}`` with an HTTP status."""

    error: ErrorBody


class Request(Model, Generic[PayloadT]):
    """A request frame; ``payload`` is a :class:`~rxlivechat.protocol.base.Method`."""

    action: str
    payload: PayloadT
    request_id: str | None = None
    version: str | None = None


class Response(Model, Generic[PayloadT]):
    """A success reply; ``payload`` is the action's result Struct."""

    action: str
    payload: PayloadT
    request_id: str | None = None


class ErrorResponse(Model):
    """A failed reply (``"success": false``), carrying the server's error object."""

    action: str
    error: ErrorBody
    request_id: str | None = None


class Push(Model, Generic[PayloadT]):
    """A push; ``payload`` is the push's Struct, or a ``dict`` for unknown pushes."""

    action: str
    payload: PayloadT
    request_id: str | None = None
    version: str | None = None


Frame: TypeAlias = Response[Any] | ErrorResponse | Push[Any]
"""Anything the server sends on the RTM socket."""
