"""Relays and consumers stop when cancelled, whatever they are doing at that moment."""

from __future__ import annotations

import asyncio
from typing import Any

from messaging_helpers import CHANNEL, SCHEMA, Pinged, ServiceDb
from nats.js import JetStreamContext
from skiff_messaging import EventConsumer, OutboxRelay


async def ignore(*_args: Any) -> None:
    return None


async def test_cancelling_at_any_moment_stops_relay_and_consumer(
    service_db: ServiceDb, js: JetStreamContext
) -> None:
    # Cancelling while nats-py's wait_for is completing gets swallowed on Python 3.11;
    # many cancellation points over the start-up sequence make sure that cannot hang us.
    for moment in range(40):
        consumer = EventConsumer(
            js=js,
            session_factory=service_db.sessions,
            stream="IDENTITY",
            durable="svc--identity-test-pinged",
            handlers={"identity.test.pinged": (Pinged, ignore)},
        )
        relay = OutboxRelay(dsn=service_db.dsn, schema=SCHEMA, channel=CHANNEL, js=js)
        tasks = [asyncio.create_task(consumer.run()), asyncio.create_task(relay.run())]
        await asyncio.sleep(0.0005 * moment)
        for task in tasks:
            task.cancel()
        _, pending = await asyncio.wait(tasks, timeout=3)
        assert not pending, f"still running {moment * 0.5} ms after start + 3 s after cancel"
