"""OpenTelemetry: spans and metrics of a short session, read back in memory."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import StatusCode

from rxlivechat import CustomerPool, Message, ServerError
from rxlivechat.sandbox import Sandbox
from rxlivechat.telemetry import Telemetry

from .helpers import Recorder, connect, until


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def metrics() -> InMemoryMetricReader:
    return InMemoryMetricReader()


@pytest.fixture
def telemetry(spans: InMemorySpanExporter, metrics: InMemoryMetricReader) -> Telemetry:
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    return Telemetry(
        pool="test",
        tracer_provider=tracer_provider,
        meter_provider=MeterProvider(metric_readers=[metrics]),
    )


def points(reader: InMemoryMetricReader, name: str) -> list[tuple[dict[str, Any], Any]]:
    """``(attributes, point)`` of every data point of metric ``name``."""
    data = reader.get_metrics_data()
    assert data is not None
    return [
        (dict(point.attributes or {}), point)
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == name
        for point in metric.data.data_points
    ]


def total(reader: InMemoryMetricReader, name: str, **match: str) -> float:
    """The sum of a counter's points whose attributes include ``match``."""
    wanted = {f"rxlivechat.{k}": v for k, v in match.items()}
    return sum(
        float(point.value)
        for attributes, point in points(reader, name)
        if wanted.items() <= attributes.items()
    )


async def test_a_session_reports_spans_and_metrics(
    sandbox: Sandbox,
    telemetry: Telemetry,
    spans: InMemorySpanExporter,
    metrics: InMemoryMetricReader,
) -> None:
    sdk = connect(sandbox, telemetry=telemetry.customer("alice"))
    events = Recorder(sdk)
    await sdk.wait_connected(timeout=10)
    chat = await sdk.start_chat([Message(text="hi")])
    await sdk.send_event(chat.id, Message(text="second"))
    sandbox.fail_next("send_event", "validation")
    with pytest.raises(ServerError) as refused:
        await sdk.send_event(chat.id, Message(text="refused"))
    outcome = type(refused.value).__name__
    await sandbox.drop_connections()
    await until(lambda: bool(events.of("connection_restored")))

    finished = {span.name: span for span in spans.get_finished_spans()}
    started = finished["livechat start_chat"]
    assert started.attributes is not None
    assert started.attributes["rxlivechat.action"] == "start_chat"
    assert started.attributes["rxlivechat.outcome"] == "ok"
    assert started.attributes["rxlivechat.customer"] == "alice"
    assert started.end_time is not None
    assert started.start_time is not None
    assert started.end_time > started.start_time
    failed = [
        span
        for span in spans.get_finished_spans()
        if span.attributes and span.attributes["rxlivechat.outcome"] == outcome
    ]
    assert len(failed) == 1
    assert failed[0].status.status_code is StatusCode.ERROR

    assert total(metrics, "rxlivechat.reconnects", customer="alice") == 1
    assert total(metrics, "rxlivechat.events", event="connected") == 1
    assert (
        total(metrics, "rxlivechat.events", event="new_event")
        == len(events.of("new_event"))
        == 1
    )
    assert total(metrics, "rxlivechat.requests.in_flight", customer="alice") == 0
    latencies = {
        (a["rxlivechat.action"], a["rxlivechat.outcome"]): p.count
        for a, p in points(metrics, "rxlivechat.request.duration")
    }
    assert latencies[("start_chat", "ok")] == 1
    assert latencies[("send_event", "ok")] == 1
    assert latencies[("send_event", outcome)] == 1


async def test_a_pool_reports_its_login_queue_and_dropped_items(
    sandbox: Sandbox, telemetry: Telemetry, metrics: InMemoryMetricReader
) -> None:
    async with CustomerPool(
        max_concurrent_logins=1,
        telemetry=telemetry,
        organization_id=sandbox.organization_id,
        client_id="test-client",
        api_url=sandbox.api_url,
        accounts_url=sandbox.accounts_url,
    ) as pool:
        queue = pool.queue(bound=1, overflow="drop_oldest")
        for key in ("a", "b", "c"):
            _ = await pool.add(key)
        await pool.wait_connected(timeout=10)
        waits = [
            (a["rxlivechat.customer"], p.count)
            for a, p in points(metrics, "rxlivechat.queue.wait")
            if a["rxlivechat.queue"] == "connect"
        ]
        assert sorted(waits) == [("a", 1), ("b", 1), ("c", 1)]
        assert total(metrics, "rxlivechat.stream.dropped", pool="test") == queue.dropped
        assert queue.dropped > 0
        assert total(metrics, "rxlivechat.stream.buffered", pool="test") == 1
        queue.close()


def test_without_telemetry_opentelemetry_is_never_imported() -> None:
    code = (
        "import sys, rxlivechat, rxlivechat.pool, rxlivechat.cli.worker;"
        "sys.exit(any(m.startswith('opentelemetry') for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


async def test_an_abandoned_request_ends_its_span(
    sandbox: Sandbox,
    telemetry: Telemetry,
    spans: InMemorySpanExporter,
    metrics: InMemoryMetricReader,
) -> None:
    sdk = connect(sandbox, telemetry=telemetry.customer("bob"))
    await sdk.wait_connected(timeout=10)
    sandbox.delay_replies(5.0, "get_customer")
    subscription = sdk.get_customer().subscribe()
    await until(lambda: total(metrics, "rxlivechat.requests.in_flight") == 1)
    subscription.dispose()
    assert total(metrics, "rxlivechat.requests.in_flight") == 0
    (span,) = spans.get_finished_spans()
    assert span.attributes is not None
    assert span.attributes["rxlivechat.outcome"] == "Abandoned"
