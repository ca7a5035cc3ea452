"""Fault plans and the request log: what tests tell the sandbox to do wrong.

Pure bookkeeping (the clock and the seed are injected); the transports
(:mod:`.http`) consult a :class:`FaultPlan` for every request and frame and
append to a :class:`RequestLog`.
"""

from __future__ import annotations

import dataclasses
import math
import random
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, overload

from ..protocol import methods as _methods  # noqa: F401  (fills METHODS)
from ..protocol.base import METHODS

__all__ = ["FaultPlan", "RecordedRequest", "RequestLog"]


@dataclass(frozen=True)
class RecordedRequest:
    """One request the sandbox received.

    Attributes:
        transport: ``"rtm"`` or ``"web"`` (``"accounts"`` for token requests).
        action: the action name (``""`` when the frame could not be read).
        payload: the typed request payload, or ``None`` when it did not decode,
            was refused before login, or was shed to keep the log's size.
        customer_id: the requester, when known.
        request_id: the RTM ``request_id``, if any.
        at: ``time.monotonic()`` when it arrived.
        size: bytes of the payload on the wire (what the log charges for it).
    """

    transport: str
    action: str
    payload: Any
    customer_id: str | None
    request_id: str | None = None
    at: float = field(default_factory=time.monotonic)
    size: int = 0


class RequestLog:
    """The requests the sandbox received, oldest first (a read-only sequence).

    Bounded, so a flood cannot grow it without end: it keeps the last
    ``max_entries`` requests, and the payloads of the most recent ones up to
    ``max_bytes`` (older entries stay, with ``payload=None``). :meth:`count`
    stays exact for every request ever received.

    Args:
        max_entries: the most requests kept.
        max_bytes: the most payload bytes (on the wire) kept.
    """

    def __init__(
        self, *, max_entries: int = 10_000, max_bytes: int = 16 * 1024 * 1024
    ) -> None:
        self.max_entries = max_entries
        """The most requests kept; older ones are forgotten (but counted)."""
        self.max_bytes = max_bytes
        """The most payload bytes kept; older payloads are shed first."""
        self.payload_bytes = 0
        """Payload bytes kept now."""
        self._items: deque[RecordedRequest] = deque()
        self._shed = 0  # the first _shed items carry no payload any more
        self._counts: Counter[tuple[str, str, str | None]] = Counter()

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
        if isinstance(index, slice):
            return list(self._items)[index]
        return self._items[index]

    def append(self, request: RecordedRequest) -> None:
        """Record a request (then forget or shed the oldest beyond the bounds)."""
        self._counts[request.transport, request.action, request.customer_id] += 1
        if request.payload is not None:
            self.payload_bytes += request.size
        self._items.append(request)
        while len(self._items) > self.max_entries:
            oldest = self._items.popleft()
            if self._shed:
                self._shed -= 1
            elif oldest.payload is not None:
                self.payload_bytes -= oldest.size
        while self.payload_bytes > self.max_bytes and self._shed < len(self._items):
            old = self._items[self._shed]
            if old.payload is not None:
                self.payload_bytes -= old.size
                self._items[self._shed] = dataclasses.replace(old, payload=None)
            self._shed += 1

    def clear(self) -> None:
        """Forget every recorded request (and the counts)."""
        self._items.clear()
        self._counts.clear()
        self._shed = 0
        self.payload_bytes = 0

    def count(
        self,
        action: str | None = None,
        *,
        transport: str | None = None,
        customer_id: str | None = None,
    ) -> int:
        """How many requests match (every filter left ``None`` matches all).

        Exact for every request since the last :meth:`clear`, including those
        the log no longer keeps.
        """
        return sum(
            n
            for (t, a, c), n in self._counts.items()
            if (action is None or a == action)
            and (transport is None or t == transport)
            and (customer_id is None or c == customer_id)
        )

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
    """Delays, forced errors, refusal windows, latency and lost replies.

    Args:
        clock: a monotonic clock in seconds (``time.monotonic`` by default).
        seed: seeds the random choices (jitter, which replies are lost), so a
            seeded run loses the same replies; ``None`` for unseeded.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        seed: int | str | None = None,
    ) -> None:
        self._clock = clock
        # Apart from the ids' source: rolling for faults must not change the ids.
        self._random = random.Random(None if seed is None else f"faults:{seed}")
        self._delays: dict[str | None, float] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._refuse_until = 0.0
        self._latency = 0.0
        self._jitter = 0.0
        self._losses: dict[str | None, float] = {}
        self.replies_lost = 0
        """How many replies :meth:`loses_reply` has lost (never reset)."""

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

    def set_latency(self, seconds: float, jitter: float = 0.0) -> None:
        """Delay every frame, each way, ``seconds`` plus up to ``jitter`` more.

        Raises:
            ValueError: a negative or non-finite figure.
        """
        for name, value in (("seconds", seconds), ("jitter", jitter)):
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(
                    f"latency {name} must be >= 0 and finite, not {value!r}"
                )
        self._latency, self._jitter = float(seconds), float(jitter)

    @property
    def latency(self) -> tuple[float, float]:
        """The latency and its jitter, in seconds (``(0.0, 0.0)``: none)."""
        return self._latency, self._jitter

    def frame_delay(self) -> float:
        """How long the next frame spends on the simulated network."""
        if self._jitter:
            return self._latency + self._random.uniform(0.0, self._jitter)
        return self._latency

    def lose_replies(self, action: str | None, probability: float) -> None:
        """Lose the replies to ``action`` (all when ``None``) with ``probability``.

        A lost reply means the request is applied and its connection then drops
        before the reply is written. 0 clears.

        Raises:
            ValueError: ``probability`` outside [0, 1], or ``action`` no RTM action.
        """
        if not (0.0 <= probability <= 1.0):
            raise ValueError(f"probability must be in [0, 1], not {probability!r}")
        method = METHODS.get(action) if action is not None else None
        if action is not None and (method is None or not method.rtm):
            raise ValueError(f"{action!r} is not an RTM action")
        if probability > 0:
            self._losses[action] = float(probability)
        else:
            self._losses.pop(action, None)

    def loses_reply(self, action: str) -> bool:
        """Whether to lose this reply to ``action`` (a roll, when a loss is set)."""
        probability = self._losses.get(action, self._losses.get(None, 0.0))
        lost = probability >= 1.0 or (
            probability > 0 and self._random.random() < probability
        )
        self.replies_lost += lost
        return lost

    def clear(self) -> None:
        """Forget every delay, forced error, refusal, latency and lost reply."""
        self._delays.clear()
        self._failures.clear()
        self._refuse_until = 0.0
        self._latency = self._jitter = 0.0
        self._losses.clear()


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
    """The default message of a wire error type (docs/protocol.md §1.6)."""
    return _MESSAGES.get(error_type, error_type.replace("_", " ").capitalize())
