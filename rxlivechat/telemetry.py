"""Opt-in OpenTelemetry: a span per request, counters and histograms.

Nothing here is imported unless you make a :class:`Telemetry`: without it the
engine checks one ``None`` per request and per event, and ``opentelemetry`` is
never imported (the ``otel`` extra: ``pip install rxlivechat[otel]``).

.. code-block:: python

    telemetry = Telemetry(pool="bridge")           # the global providers
    sdk = rxlivechat.init(..., telemetry=telemetry.customer("alice"))
    pool = CustomerPool(..., telemetry=telemetry)  # every customer of the pool

What is reported (every instrument carries ``rxlivechat.pool``, and
``rxlivechat.customer`` unless ``per_customer=False``):

* spans ``livechat <action>``: one per request, with ``rxlivechat.action`` and
  ``rxlivechat.outcome`` (``ok`` or the error's class), status ``ERROR`` on failure;
* ``rxlivechat.request.duration`` (histogram, s): a request's latency, by action
  and outcome;
* ``rxlivechat.requests.in_flight`` (up-down counter): requests sent, unanswered;
* ``rxlivechat.events`` (counter): SDK events received, by ``rxlivechat.event``;
* ``rxlivechat.reconnects`` (counter): ``connection_restored`` events;
* ``rxlivechat.queue.wait`` (histogram, s): time waited in a queue, by
  ``rxlivechat.queue`` (``connect``: the pool's login gate);
* ``rxlivechat.stream.dropped`` (counter) and ``rxlivechat.stream.buffered``
  (up-down counter): the merged stream's overflow (:mod:`rxlivechat.pool`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

__all__ = ["CustomerTelemetry", "Telemetry"]

Finish = Callable[[BaseException | None], None]
"""Ends a request's span: ``None`` on success, else the error."""


class Telemetry:
    """The instruments, made once per process (or per pool).

    Args:
        pool: the ``rxlivechat.pool`` attribute of everything reported.
        tracer_provider: an OpenTelemetry ``TracerProvider``; ``None``: the global one.
        meter_provider: an OpenTelemetry ``MeterProvider``; ``None``: the global one.
        per_customer: label metrics with the customer key too (mind the
            cardinality beyond a few thousand customers); spans always carry it.

    Raises:
        ImportError: ``opentelemetry-api`` is not installed (the ``otel`` extra).
    """

    def __init__(
        self,
        *,
        pool: str = "default",
        tracer_provider: Any = None,
        meter_provider: Any = None,
        per_customer: bool = True,
    ) -> None:
        try:
            from opentelemetry import metrics, trace
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ImportError(
                "rxlivechat.telemetry needs opentelemetry-api: "
                "pip install 'rxlivechat[otel]'"
            ) from exc
        from opentelemetry.trace import Status, StatusCode

        self.pool = pool
        self.per_customer = per_customer
        self._error_status = Status(StatusCode.ERROR)
        tracers = tracer_provider or trace.get_tracer_provider()
        meters = meter_provider or metrics.get_meter_provider()
        self.tracer = tracers.get_tracer("rxlivechat")
        meter = meters.get_meter("rxlivechat")
        self.request_duration = meter.create_histogram(
            "rxlivechat.request.duration", unit="s", description="request latency"
        )
        self.in_flight = meter.create_up_down_counter(
            "rxlivechat.requests.in_flight", description="requests not answered yet"
        )
        self.events = meter.create_counter(
            "rxlivechat.events", description="SDK events received"
        )
        self.reconnects = meter.create_counter(
            "rxlivechat.reconnects", description="connections restored"
        )
        self.queue_wait = meter.create_histogram(
            "rxlivechat.queue.wait", unit="s", description="time waited in a queue"
        )
        self.dropped = meter.create_counter(
            "rxlivechat.stream.dropped", description="merged-stream items dropped"
        )
        self.buffered = meter.create_up_down_counter(
            "rxlivechat.stream.buffered", description="merged-stream items buffered"
        )

    def customer(self, key: str) -> CustomerTelemetry:
        """What one customer's engine reports through (``telemetry=`` of ``init``)."""
        return CustomerTelemetry(self, key)

    def attributes(self, key: str | None = None) -> dict[str, str]:
        """The attributes of the pool, and of customer ``key`` if labelled."""
        attributes = {"rxlivechat.pool": self.pool}
        if key is not None and self.per_customer:
            attributes["rxlivechat.customer"] = key
        return attributes


class CustomerTelemetry:
    """One customer's view of a :class:`Telemetry`: the engine calls it."""

    __slots__ = ("_attributes", "_by_event", "key", "telemetry")

    def __init__(self, telemetry: Telemetry, key: str) -> None:
        self.telemetry = telemetry
        self.key = key
        self._attributes = telemetry.attributes(key)
        self._by_event: dict[str, dict[str, str]] = {}

    def request_started(self, action: str) -> Finish:
        """Open the request's span; call what it returns once, when it settles.

        The engine's requests call it as their ``trace`` hook
        (:class:`~rxlivechat.engine.requests.Requests`): a traced request keeps
        what it returns and calls it when it settles or is abandoned.
        """
        telemetry = self.telemetry
        attributes = {**self._attributes, "rxlivechat.action": action}
        span = telemetry.tracer.start_span(
            f"livechat {action}",
            attributes={**attributes, "rxlivechat.customer": self.key},
        )
        telemetry.in_flight.add(1, self._attributes)
        started = time.perf_counter()

        def finish(error: BaseException | None) -> None:
            outcome = "ok" if error is None else type(error).__name__
            span.set_attribute("rxlivechat.outcome", outcome)
            if error is not None:
                span.set_status(telemetry._error_status)
            span.end()
            telemetry.in_flight.add(-1, self._attributes)
            telemetry.request_duration.record(
                time.perf_counter() - started,
                {**attributes, "rxlivechat.outcome": outcome},
            )

        return finish

    def event(self, name: str) -> None:
        """An SDK event was received (and a reconnect, for ``connection_restored``)."""
        attributes = self._by_event.get(name)
        if attributes is None:
            attributes = {**self._attributes, "rxlivechat.event": name}
            self._by_event[name] = attributes
        self.telemetry.events.add(1, attributes)
        if name == "connection_restored":
            self.telemetry.reconnects.add(1, self._attributes)

    def queue_waited(self, queue: str, seconds: float) -> None:
        """Time spent waiting in ``queue`` (``connect``: the login gate)."""
        self.telemetry.queue_wait.record(
            seconds, {**self._attributes, "rxlivechat.queue": queue}
        )
