"""Events benchmark: outbox → relay → EventConsumer against raw nats-py JetStream, side by side.

`uv run python bench/events/run.py [--events 1000] [--burst 20000]`. Starts its own
PostgreSQL (durable: fsync and synchronous_commit on, as in production) and NATS in a temp
dir. Latency samples alternate between the two paths, and throughput rounds alternate, so
background noise hits both alike.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from raw import RawPath
from skiff_contracts import Envelope
from skiff_contracts.events.identity import OrganizationCreated
from skiff_messaging import EventConsumer, Outbox, OutboxRelay, connect, ensure_streams
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from world import Service, create_database, servers, service

CHANNEL = "skiff_outbox_identity"
ROUNDS = 2
ORGANIZATIONS = "CREATE TABLE organizations (id text PRIMARY KEY, name text)"
outbox = Outbox(source="skiff/identity", channel=CHANNEL)


def organization(n: int) -> OrganizationCreated:
    return OrganizationCreated(
        organization_id=f"org_{n:026d}",
        name=f"Organization {n}",
        slug=f"organization-{n}",
        owner_user_id=f"usr_{n:026d}",
        personal=True,
        created_at=datetime.now(UTC),
    )


async def create_organization(identity: Service, n: int) -> None:
    """What identity does: the row and its event in one transaction."""
    event = organization(n)
    async with identity.sessions() as session, session.begin():
        await session.execute(
            text("insert into organizations (id, name) values (:id, :name)"),
            {"id": event.organization_id, "name": event.name},
        )
        await outbox.record(session, event, organization_id=event.organization_id)


class Stopwatch:
    """Billing's handler, noting when it ran; `done` once the message is committed and acked."""

    def __init__(self) -> None:
        self.ran_at = 0.0
        self.done = asyncio.Event()

    async def open_account(self, session: AsyncSession, envelope: Envelope, event: Any) -> None:
        self.ran_at = time.perf_counter()
        await session.execute(
            text("insert into accounts (organization_id) values (:id)"),
            {"id": event.organization_id},
        )


class Timed(EventConsumer):
    stopwatch: Stopwatch

    async def handle(self, msg: Msg) -> None:
        await super().handle(msg)
        self.stopwatch.done.set()


async def latency(
    identity: Service, billing: Service, js: JetStreamContext, raw: RawPath, n: int
) -> tuple[list[float], list[float]]:
    """(commit → handler, raw publish → handler) samples in seconds, alternating."""
    stopwatch = Stopwatch()
    consumer = Timed(
        js=js,
        session_factory=billing.sessions,
        stream="IDENTITY",
        durable="billing--identity-organization-created",
        handlers={"identity.organization.created": (OrganizationCreated, stopwatch.open_account)},
    )
    consumer.stopwatch = stopwatch
    relay_nc = await connect(raw.nats_url, name="identity-relay")
    relay = OutboxRelay(
        dsn=identity.dsn,
        schema="identity",
        channel=CHANNEL,
        js=relay_nc.jetstream(),
        fallback_poll_seconds=60,
    )
    tasks = [asyncio.create_task(relay.run()), asyncio.create_task(consumer.run())]
    while not relay.leading:  # noqa: ASYNC110 - waiting for the relay to LISTEN
        await asyncio.sleep(0.01)
    ours: list[float] = []
    theirs: list[float] = []
    try:
        for i in range(-100, n):  # 100 warm-up rounds
            stopwatch.done.clear()
            await create_organization(identity, 10_000_000 + i)
            committed = time.perf_counter()
            await asyncio.wait_for(stopwatch.done.wait(), 5)
            sample = await raw.round_trip()
            if i >= 0:
                ours.append(stopwatch.ran_at - committed)
                theirs.append(sample)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await relay_nc.close()
    return ours, theirs


async def relay_burst(identity: Service, js: JetStreamContext, count: int, base: int) -> float:
    """Seconds for a relay to drain `count` events committed while it was down."""
    relay = OutboxRelay(dsn=identity.dsn, schema="identity", channel=CHANNEL, js=js)
    await relay.drain_once()  # connected, and nothing left from earlier

    async def commit(start: int, stop: int) -> None:
        async with identity.sessions() as session, session.begin():
            for n in range(start, stop):
                await outbox.record(session, organization(base + n))

    for start in range(0, count, 2000):  # four transactions at a time, to set up faster
        await asyncio.gather(
            *(commit(n, min(n + 500, count)) for n in range(start, min(start + 2000, count), 500))
        )
    began = time.perf_counter()
    published = await relay.drain_once()
    took = time.perf_counter() - began
    await relay.close()
    assert published == count, (published, count)
    return took


def ms(samples: list[float], percentile: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[percentile - 1] * 1000


async def bench(admin_dsn: str, nats_url: str, events: int, burst: int) -> None:
    location = await create_database(admin_dsn)
    identity = await service(
        admin_dsn,
        location,
        "identity",
        "CREATE TABLE organizations (id text PRIMARY KEY, name text)",
    )
    billing = await service(
        admin_dsn, location, "billing", "CREATE TABLE accounts (organization_id text PRIMARY KEY)"
    )
    nc = await connect(nats_url, name="billing")
    js = nc.jetstream()
    await ensure_streams(js)
    raw = RawPath(nats_url, Envelope.wrap(organization(0), source="skiff/identity").encode())
    await raw.start()
    gc.collect()
    gc.freeze()

    ours, theirs = await latency(identity, billing, js, raw, events)
    raw_took, relay_took = [], []
    for round_ in range(ROUNDS):
        raw_took.append(await raw.publish_burst(burst))
        relay_took.append(await relay_burst(identity, js, burst, (round_ + 2) * 10_000_000))
    raw_rate, relay_rate = burst / min(raw_took), burst / min(relay_took)
    await raw.stop()
    await nc.close()
    for engine in (identity.engine, billing.engine):
        await engine.dispose()
    report(ours, theirs, relay_rate, raw_rate, events=events, burst=burst, size=len(raw.payload))


def report(
    ours: list[float], theirs: list[float], relay_rate: float, raw_rate: float, **run: int
) -> None:
    print(
        f"PostgreSQL durable=True (fsync, synchronous_commit on); {run['events']} sequential"
        f" events; bursts of {run['burst']}, best of {ROUNDS}; envelope {run['size']} bytes"
    )
    print(
        f"commit_to_handler  p50 {ms(ours, 50):7.3f} ms  p99 {ms(ours, 99):7.3f} ms"
        "  (COMMIT returned -> EventConsumer handler entered)"
    )
    print(
        f"raw_round_trip     p50 {ms(theirs, 50):7.3f} ms  p99 {ms(theirs, 99):7.3f} ms"
        "  (js.publish called -> pull consumer has the message)"
    )
    print(f"relay_throughput   {relay_rate:9.0f} events/s (committed while down, then drained)")
    print(f"raw_publish_async  {raw_rate:9.0f} msgs/s   (no headers, every ack awaited)")
    latency_ratio, throughput_ratio = ms(ours, 50) / ms(theirs, 50), relay_rate / raw_rate
    verdict = "met" if latency_ratio <= 3.0 else "missed"
    print(f"target commit_to_handler_p50: {latency_ratio:.2f}x raw (goal <= 3.00x) {verdict}")
    verdict = "met" if throughput_ratio >= 0.5 else "missed"
    print(f"target relay_throughput: {throughput_ratio:.2f}x raw (goal >= 0.50x) {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--burst", type=int, default=20_000)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with (
        tempfile.TemporaryDirectory(prefix="skiff-bench-") as root,
        servers(Path(root), durable=True) as running,
    ):
        asyncio.run(bench(running.admin_dsn, running.nats_url, args.events, args.burst))


if __name__ == "__main__":
    main()
