"""Relays and consumers stop when cancelled, whatever they are doing at that moment."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from messaging_helpers import CHANNEL, SCHEMA, Pinged, ServiceDb
from nats.js import JetStreamContext
from skiff_messaging import EventConsumer, OutboxRelay, connect
from skiff_messaging.connection import drain_then_close


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


async def test_a_subscription_nobody_reads_does_not_hold_the_shutdown(nats_url: str) -> None:
    """nats-py's drain waits for queued messages to be taken; the close must not wait 30 s."""
    nc = await connect(nats_url, name="shutdown-test")
    forgotten = await nc.subscribe("forgotten.reader")  # an iterator nobody calls any more
    for _ in range(3):
        await nc.publish("forgotten.reader", b"unread")
    await nc.flush()
    for _ in range(200):  # the server sends them back to us a moment later
        if forgotten.pending_msgs == 3:
            break
        await asyncio.sleep(0.01)
    assert forgotten.pending_msgs == 3

    started = time.monotonic()
    await drain_then_close(nc, within=0.5)

    assert nc.is_closed
    assert time.monotonic() - started < 3
