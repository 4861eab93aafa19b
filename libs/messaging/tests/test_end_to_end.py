"""Outbox → relay → stream → consumer, with the trace of the recording request carried along."""

from __future__ import annotations

import asyncio
from typing import Any

from messaging_helpers import CHANNEL, SCHEMA, Pinged, ServiceDb, running, stream_messages
from nats.js import JetStreamContext
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from skiff_contracts import Envelope
from skiff_messaging import EventConsumer, Outbox, OutboxRelay
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def test_a_recorded_event_reaches_the_handler_in_the_same_trace(
    service_db: ServiceDb, js: JetStreamContext
) -> None:
    seen: asyncio.Queue[tuple[Envelope, Any, int]] = asyncio.Queue()

    async def on_pinged(session: AsyncSession, envelope: Envelope, payload: Any) -> None:
        await session.execute(
            text("insert into applied (event_id, n) values (:id, :n)"),
            {"id": envelope.id, "n": payload.n},
        )
        await seen.put((envelope, payload, trace.get_current_span().get_span_context().trace_id))

    relay = OutboxRelay(dsn=service_db.dsn, schema=SCHEMA, channel=CHANNEL, js=js)
    consumer = EventConsumer(
        js=js,
        session_factory=service_db.sessions,
        stream="IDENTITY",
        durable="svc--identity-test-pinged",
        handlers={"identity.test.pinged": (Pinged, on_pinged)},
    )
    outbox = Outbox(source="skiff/svc", channel=CHANNEL)
    async with running(relay.run), running(consumer.run):
        with TracerProvider().get_tracer("test").start_as_current_span("POST /ping") as span:
            async with service_db.sessions() as session, session.begin():
                recorded = await outbox.record(
                    session, Pinged(n=7), subject="ping_1", organization_id="org_1"
                )
        envelope, payload, trace_id = await asyncio.wait_for(seen.get(), 5)

    assert envelope == recorded
    assert payload == Pinged(n=7)
    assert (envelope.subject, envelope.organization_id) == ("ping_1", "org_1")
    assert trace_id == span.get_span_context().trace_id
    assert recorded.traceparent is not None
    assert f"{trace_id:032x}" in recorded.traceparent
    (message,) = await stream_messages(js)
    assert (message.headers or {})["traceparent"] == recorded.traceparent
    assert await service_db.scalar("select count(*) from applied") == 1
