"""Traces: an incoming `traceparent` is continued by the server span, and headers carry it on."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from litestar import get
from litestar.testing import AsyncTestClient
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from skiff_kit.app import create_app
from skiff_kit.settings import ServiceSettings
from skiff_kit.telemetry import (
    LazyTracerProvider,
    configure_tracing,
    current_traceparent,
    extract_trace_context,
    inject_trace_headers,
    tracer,
)

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_SPAN_ID = "00f067aa0ba902b7"


@pytest.fixture(scope="module")
def exporter() -> Iterator[InMemorySpanExporter]:
    configure_tracing(service="kit-test", version="1", exporter="none", endpoint=None)
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    yield memory
    memory.shutdown()


@get("/traced")
async def traced() -> dict[str, str | None]:
    """The traceparent the handler would pass on."""
    return {"traceparent": current_traceparent()}


async def test_incoming_traceparent_is_continued(
    exporter: InMemorySpanExporter, make_settings: Callable[..., ServiceSettings]
) -> None:
    exporter.clear()
    app = create_app(make_settings(), route_handlers=[traced])
    async with AsyncTestClient(app) as client:
        response = await client.get(
            "/traced",
            headers={"traceparent": f"00-{TRACE_ID}-{PARENT_SPAN_ID}-01", "x-request-id": "rq-7"},
        )
    outgoing = response.json()["traceparent"]
    assert outgoing.startswith(f"00-{TRACE_ID}-")
    assert outgoing.split("-")[2] != PARENT_SPAN_ID
    server_spans = [s for s in exporter.get_finished_spans() if s.kind == trace.SpanKind.SERVER]
    assert len(server_spans) == 1
    span = server_spans[0]
    assert span.name == "GET /traced"
    assert format(span.context.trace_id, "032x") == TRACE_ID
    assert span.parent is not None
    assert format(span.parent.span_id, "016x") == PARENT_SPAN_ID
    assert span.attributes is not None
    assert span.attributes["skiff.request_id"] == "rq-7"
    assert span.attributes["http.status_code"] == 200


async def test_probes_are_not_traced(
    exporter: InMemorySpanExporter, make_settings: Callable[..., ServiceSettings]
) -> None:
    exporter.clear()
    async with AsyncTestClient(create_app(make_settings())) as client:
        assert (await client.get("/health")).status_code == 200
        assert (await client.get("/version")).status_code == 200
    names = [span.name for span in exporter.get_finished_spans()]
    assert names == ["GET /version"]


def test_inject_and_extract_round_trip(exporter: InMemorySpanExporter) -> None:
    assert current_traceparent() is None
    with tracer("test").start_as_current_span("publish") as span:
        headers = inject_trace_headers({"other": "kept"})
        assert headers["other"] == "kept"
        assert headers["traceparent"] == current_traceparent()
    context = extract_trace_context({"TraceParent": headers["traceparent"]})
    extracted = trace.get_current_span(context).get_span_context()
    assert extracted.trace_id == span.get_span_context().trace_id
    assert extracted.span_id == span.get_span_context().span_id
    with tracer("test").start_as_current_span("consume", context=context) as child:
        assert child.get_span_context().trace_id == span.get_span_context().trace_id


def test_extract_without_headers_is_an_empty_context() -> None:
    context = extract_trace_context({})
    assert not trace.get_current_span(context).get_span_context().is_valid


def test_spans_are_recorded_once_something_reads_them() -> None:
    provider = LazyTracerProvider(Resource.create({"service.name": "lazy"}))
    tracer = provider.get_tracer("test")
    with tracer.start_span("unread") as span:
        assert not span.is_recording()
        assert span.get_span_context().is_valid  # ids for the logs and the headers all the same
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    with tracer.start_span("read") as span:
        assert span.is_recording()
    assert [span.name for span in memory.get_finished_spans()] == ["read"]


def test_unread_spans_are_bare_ids_continuing_the_parent_trace() -> None:
    provider = LazyTracerProvider(Resource.create({"service.name": "lazy"}))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("outer") as outer:
        inner = tracer.start_span("inner")
    orphan = tracer.start_span("orphan")

    parent, child, alone = (s.get_span_context() for s in (outer, inner, orphan))
    assert isinstance(inner, trace.NonRecordingSpan)  # what the SDK makes when not sampling
    assert child.trace_id == parent.trace_id  # one trace
    assert child.span_id not in (0, parent.span_id)  # a span id of its own
    assert not child.trace_flags.sampled
    assert alone.is_valid  # no parent: a new trace
    assert alone.trace_id != parent.trace_id
    assert not trace.get_current_span().get_span_context().is_valid  # nothing left attached


def test_a_tracer_taken_before_the_reader_records_once_it_is_added() -> None:
    provider = LazyTracerProvider(Resource.create({"service.name": "lazy"}))
    tracer = provider.get_tracer("taken early")
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    with tracer.start_as_current_span("outer"), tracer.start_span("inner") as inner:
        assert inner.is_recording()
    assert sorted(span.name for span in memory.get_finished_spans()) == ["inner", "outer"]
