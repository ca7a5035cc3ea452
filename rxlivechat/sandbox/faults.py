"""Fault plans and the request log: what tests tell the sandbox to do wrong.

Pure bookkeeping (the clock is injected); :class:`~.server.Sandbox` consults a
:class:`FaultPlan` for every request and appends to a :class:`RequestLog`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, overload

__all__ = ["FaultPlan", "RecordedRequest", "RequestLog"]


@dataclass(frozen=True)
class RecordedRequest:
    """One request the sandbox received.

    Attributes:
        transport: ``"rtm"`` or ``"web"`` (``"accounts"`` for token requests).
        action: the action name (``""`` when the frame could not be read).
        payload: the typed request payload, or ``None`` when it did not decode.
        customer_id: the requester, when known.
        request_id: the RTM ``request_id``, if any.
        at: ``time.monotonic()`` when it arrived.
    """

    transport: str
    action: str
    payload: Any
    customer_id: str | None
    request_id: str | None = None
    at: float = field(default_factory=time.monotonic)


class RequestLog:
    """Every request the sandbox received, oldest first (a read-only sequence)."""

    def __init__(self) -> None:
        self._items: list[RecordedRequest] = []

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[RecordedRequest]:
        return iter(self._items)

    @overload
    def __getitem__(self, index: int) -> RecordedRequest: ...
    @overload
    def __getitem__(self, index: slice) -> list[RecordedRequest]: ...
    def __getitem__(
        self, index: int | slice
    ) -> RecordedRequest | list[RecordedRequest]:
        return self._items[index]

    def append(self, request: RecordedRequest) -> None:
        """Record a request."""
        self._items.append(request)

    def clear(self) -> None:
        """Forget every recorded request."""
        self._items.clear()

    def count(
        self,
        action: str | None = None,
        *,
        transport: str | None = None,
        customer_id: str | None = None,
    ) -> int:
        """How many requests match (every filter left ``None`` matches all)."""
        return sum(1 for r in self if _matches(r, action, transport, customer_id))

    def of(
        self,
        action: str | None = None,
        *,
        transport: str | None = None,
        customer_id: str | None = None,
    ) -> list[RecordedRequest]:
        """The matching requests, oldest first."""
        return [r for r in self if _matches(r, action, transport, customer_id)]


def _matches(
    r: RecordedRequest,
    action: str | None,
    transport: str | None,
    customer_id: str | None,
) -> bool:
    return (
        (action is None or r.action == action)
        and (transport is None or r.transport == transport)
        and (customer_id is None or r.customer_id == customer_id)
    )


@dataclass
class _Failure:
    error_type: str
    message: str
    remaining: int


class FaultPlan:
    """Delays, forced errors and refusal windows the sandbox applies.

    Args:
        clock: a monotonic clock in seconds (``time.monotonic`` by default).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._delays: dict[str | None, float] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._refuse_until = 0.0

    # Public methods -----------------------------------------------------------------

    def delay(self, seconds: float, action: str | None = None) -> None:
        """Delay replies to ``action`` (every action when ``None``); 0 clears."""
        if seconds > 0:
            self._delays[action] = seconds
        else:
            self._delays.pop(action, None)

    def delay_for(self, action: str) -> float:
        """The delay before handling ``action`` (the action's own, else the global)."""
        return self._delays.get(action, self._delays.get(None, 0.0))

    def fail(
        self, action: str, error_type: str, count: int = 1, message: str | None = None
    ) -> None:
        """Answer the next ``count`` requests of ``action`` with ``error_type``."""
        self._failures.setdefault(action, []).append(
            _Failure(error_type, message or _default_message(error_type), count)
        )

    def take_failure(self, action: str) -> tuple[str, str] | None:
        """The forced ``(error_type, message)`` for this request of ``action``."""
        queue = self._failures.get(action)
        if not queue:
            return None
        failure = queue[0]
        failure.remaining -= 1
        if failure.remaining <= 0:
            queue.pop(0)
        return failure.error_type, failure.message

    def refuse(self, seconds: float) -> None:
        """Refuse new connections and HTTP requests for ``seconds``."""
        self._refuse_until = self._clock() + seconds

    @property
    def refusing(self) -> bool:
        """Whether new connections are refused now."""
        return self._clock() < self._refuse_until

    def clear(self) -> None:
        """Forget every delay, forced error and refusal."""
        self._delays.clear()
        self._failures.clear()
        self._refuse_until = 0.0


_MESSAGES = {
    "authentication": "Invalid access token",
    "authorization": "Authorization error",
    "chat_inactive": "Chat is inactive",
    "customer_banned": "Customer is banned",
    "entity_too_large": "Upload limit exceeded (10MB).",
    "internal": "Internal server error",
    "limit_reached": "Limit reached",
    "misdirected_request": "Wrong region",
    "not_found": "Not found",
    "pending_requests_limit_reached": "Requests limit reached",
    "request_timeout": "Request timed out",
    "service_unavailable": "Service unavailable",
    "too_many_requests": "Too many requests",
    "validation": "Wrong format of request",
}


def _default_message(error_type: str) -> str:
    """The default message of a wire error type (digest §1.6)."""
    return _MESSAGES.get(error_type, error_type.replace("_", " ").capitalize())
