"""Request/reply: answers, and clear errors when nobody answers, too late, or with an error."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import msgspec
import pytest
from nats.aio.client import Client as NATS
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from skiff_kit.telemetry import LazyTracerProvider, configure_tracing
from skiff_messaging import (
    NoResponders,
    RemoteError,
    ReplyError,
    RequestFailed,
    RequestTimeout,
    request,
    serve,
)

SUBJECT = "billing.rpc.reserve"


class Reserve(msgspec.Struct, frozen=True):
    organization_id: str
    amount: int


class Reserved(msgspec.Struct, frozen=True):
    hold_id: str
    balance: int
    trace_id: str = ""


async def reserve(body: Reserve) -> Reserved:
    if body.amount > 100:
        raise ReplyError("insufficient_credits", "balance is 100", {"balance": 100})
    if body.amount < 0:
        raise ValueError("a bug in the responder")
    trace_id = format(trace.get_current_span().get_span_context().trace_id, "032x")
    return Reserved(hold_id="hold_1", balance=100 - body.amount, trace_id=trace_id)


async def test_a_request_gets_its_typed_reply_and_carries_the_trace(nc: NATS) -> None:
    await serve(nc, SUBJECT, Reserve, reserve, queue="billing")
    with TracerProvider().get_tracer("test").start_as_current_span("route") as span:
        reply = await request(nc, SUBJECT, Reserve("org_1", 30), Reserved)
    assert (reply.hold_id, reply.balance) == ("hold_1", 70)
    assert reply.trace_id == format(span.get_span_context().trace_id, "032x")


async def test_nobody_listening_is_no_responders(nc: NATS) -> None:
    with pytest.raises(NoResponders, match=r"no responders on 'billing\.rpc\.reserve'"):
        await request(nc, SUBJECT, Reserve("org_1", 1), Reserved)


async def test_a_slow_responder_is_a_timeout(nc: NATS) -> None:
    async def slow(body: Reserve) -> Reserved:
        await asyncio.sleep(1)
        return Reserved(hold_id="late", balance=0)

    await serve(nc, SUBJECT, Reserve, slow, queue="billing")
    with pytest.raises(RequestTimeout, match=r"'billing\.rpc\.reserve' got no reply within 0\.2s"):
        await request(nc, SUBJECT, Reserve("org_1", 1), Reserved, timeout=0.2)


async def test_errors_of_the_responder_come_back_as_remote_errors(nc: NATS) -> None:
    await serve(nc, SUBJECT, Reserve, reserve, queue="billing")

    with pytest.raises(RemoteError) as refused:
        await request(nc, SUBJECT, Reserve("org_1", 500), Reserved)
    assert (refused.value.code, refused.value.remote_message) == (
        "insufficient_credits",
        "balance is 100",
    )
    assert refused.value.details == {"balance": 100}
    assert refused.value.subject == SUBJECT

    with pytest.raises(RemoteError) as crashed:
        await request(nc, SUBJECT, Reserve("org_1", -1), Reserved)
    assert crashed.value.code == "internal"

    class Wrong(msgspec.Struct):
        organization_id: int

    with pytest.raises(RemoteError) as bad:
        await request(nc, SUBJECT, Wrong(7), Reserved)
    assert bad.value.code == "bad_request"
    assert "Expected `str`, got `int` - at `$.organization_id`" in bad.value.remote_message


async def test_a_reply_of_the_wrong_shape_is_a_request_failure(nc: NATS) -> None:
    class Other(msgspec.Struct):
        something: str

    async def answer(body: Reserve) -> Other:
        return Other("else")

    await serve(nc, SUBJECT, Reserve, answer, queue="billing")
    with pytest.raises(RequestFailed, match="malformed reply"):
        await request(nc, SUBJECT, Reserve("org_1", 1), Reserved)


@pytest.fixture(scope="module")
def exporter() -> Iterator[InMemorySpanExporter]:
    """The process's tracer provider (as a service configures it), recording into memory."""
    configure_tracing(service="messaging-test", version="1", exporter="none", endpoint=None)
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    yield memory
    memory.shutdown()


async def test_with_a_provider_both_sides_record_spans_of_one_trace(
    nc: NATS, exporter: InMemorySpanExporter
) -> None:
    exporter.clear()
    subject = "billing.rpc.traced"
    server = await serve(nc, subject, Reserve, reserve, queue="billing")
    reply = await request(nc, subject, Reserve(organization_id="org_1", amount=30), Reserved)
    with pytest.raises(RemoteError):
        await request(nc, subject, Reserve(organization_id="org_1", amount=300), Reserved)
    await server.unsubscribe()

    spans = {(s.name, s.kind): s for s in exporter.get_finished_spans() if subject in s.name}
    assert set(spans) == {
        (f"{subject} request", SpanKind.CLIENT),
        (f"{subject} process", SpanKind.SERVER),
    }  # the last of each name: the refused request
    refused_client = spans[(f"{subject} request", SpanKind.CLIENT)]
    refused_server = spans[(f"{subject} process", SpanKind.SERVER)]
    assert refused_server.parent is not None
    assert refused_server.parent.span_id == refused_client.context.span_id
    assert refused_server.context.trace_id == refused_client.context.trace_id
    assert refused_server.status.status_code is StatusCode.ERROR
    assert refused_client.status.status_code is StatusCode.ERROR

    answered = next(s for s in exporter.get_finished_spans() if s.name == f"{subject} process")
    assert reply.trace_id == format(answered.context.trace_id, "032x")  # current in the handler
    assert answered.status.status_code is StatusCode.UNSET


async def test_while_nothing_reads_spans_each_side_still_has_its_own_span_id_in_one_trace(
    nc: NATS, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lazy provider while nothing reads it (skiff_kit.telemetry.LazyTracer): spans are
    bare ids, the trace continues across the bus, and each side has a span id of its own."""
    unread = LazyTracerProvider(Resource.create({"service.name": "unread"}))
    monkeypatch.setattr("skiff_messaging.rpc.tracer", unread.get_tracer("skiff_messaging"))
    seen: list[trace.SpanContext] = []

    async def record(body: Reserve) -> Reserved:
        seen.append(trace.get_current_span().get_span_context())
        return Reserved(hold_id="hold_1", balance=100)

    subject = "billing.rpc.unread"
    headers_sent: list[dict[str, str]] = []
    publish = nc.publish

    async def watched(
        subject_: str, payload: bytes = b"", reply: str = "", headers: dict[str, str] | None = None
    ) -> None:
        if subject_ == subject:
            headers_sent.append(dict(headers or {}))
        await publish(subject_, payload, reply, headers)

    monkeypatch.setattr(nc, "publish", watched)
    server = await serve(nc, subject, Reserve, record, queue="billing")
    with TracerProvider().get_tracer("test").start_as_current_span("route") as route:
        await request(nc, subject, Reserve("org_1", 1), Reserved)
    await server.unsubscribe()

    caller = route.get_span_context()
    [traceparent] = [sent["traceparent"] for sent in headers_sent]
    _, trace_id, client_span_id, _ = traceparent.split("-")
    assert int(trace_id, 16) == caller.trace_id
    assert int(client_span_id, 16) not in (0, caller.span_id)  # the request's own span id
    [server] = seen
    assert server.trace_id == caller.trace_id
    assert server.span_id not in (0, caller.span_id, int(client_span_id, 16))
    assert not trace.get_current_span().get_span_context().is_valid  # nothing left attached
