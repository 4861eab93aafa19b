"""Outbox + relay: what commits is published (once, fast), what rolls back is not."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from messaging_helpers import (
    CHANNEL,
    SCHEMA,
    Pinged,
    ServiceDb,
    eventually,
    running,
    stream_messages,
)
from nats.js import JetStreamContext
from skiff_contracts import Envelope, decode_envelope
from skiff_messaging import Outbox, OutboxRelay, ensure_streams
from skiff_messaging.outbox import NOTE_LIMIT
from sqlalchemy import text

outbox = Outbox(source="skiff/svc", channel=CHANNEL)


def relay_for(db: ServiceDb, js: JetStreamContext, **options: float) -> OutboxRelay:
    return OutboxRelay(dsn=db.dsn, schema=SCHEMA, channel=CHANNEL, js=js, **options)  # type: ignore[arg-type]


async def record(db: ServiceDb, *payloads: Pinged, commit: bool = True) -> list[Envelope]:
    async with db.sessions() as session, session.begin():
        envelopes = [await outbox.record(session, p, organization_id="org_1") for p in payloads]
        if not commit:
            await session.rollback()
    return envelopes


async def test_events_committed_while_no_relay_ran_are_published_on_start(
    service_db: ServiceDb, js: JetStreamContext
) -> None:
    envelopes = await record(service_db, Pinged(n=1), Pinged(n=2), Pinged(n=3))

    async with running(relay_for(service_db, js, fallback_poll_seconds=60).run):
        await eventually(lambda: _empty(service_db), what="outbox drained")

    messages = await stream_messages(js)
    assert [m.subject for m in messages] == ["identity.test.pinged"] * 3
    assert [decode_envelope(m.data or b"").id for m in messages] == [e.id for e in envelopes]
    assert [(m.headers or {}).get("Nats-Msg-Id") for m in messages] == [e.id for e in envelopes]
    first = decode_envelope(messages[0].data or b"")
    assert (first.source, first.organization_id) == ("skiff/svc", "org_1")
    assert first.payload(Pinged) == Pinged(n=1)


async def test_a_rolled_back_transaction_publishes_nothing(
    service_db: ServiceDb, js: JetStreamContext
) -> None:
    relay = relay_for(service_db, js, fallback_poll_seconds=60)
    async with running(relay.run):
        await eventually(lambda: _leading(relay), what="relay leads")
        await record(service_db, Pinged(n=1), commit=False)
        kept = await record(service_db, Pinged(n=2))
        await eventually(lambda: _count(js, 1), what="the committed event published")
        await asyncio.sleep(0.2)

    assert [decode_envelope(m.data or b"").id for m in await stream_messages(js)] == [kept[0].id]
    assert await service_db.scalar("select count(*) from outbox") == 0


@pytest.mark.parametrize("note", ["small", "too big for a notification"])
async def test_notify_wakes_the_relay_without_waiting_for_the_poll(
    service_db: ServiceDb, js: JetStreamContext, note: str
) -> None:
    text = "x" * (NOTE_LIMIT + 100) if note != "small" else "hello"
    relay = relay_for(service_db, js, fallback_poll_seconds=60)
    async with running(relay.run):
        await eventually(lambda: _leading(relay), what="relay leads")
        for n in range(5):
            await record(service_db, Pinged(n=n, note=text))
            took = await eventually(lambda n=n: _count(js, n + 1), within=2, what="published")
            assert took < 1.0
        await eventually(lambda: _empty(service_db), within=2, what="outbox emptied")


async def test_publish_failures_keep_events_until_the_stream_takes_them(
    service_db: ServiceDb, js: JetStreamContext
) -> None:
    await js.delete_stream("IDENTITY")  # nobody stores identity.> now
    relay = relay_for(service_db, js, fallback_poll_seconds=0.2, publish_timeout=1)
    async with running(relay.run):
        await eventually(lambda: _leading(relay), what="relay leads")
        envelopes = await record(service_db, Pinged(n=1), Pinged(n=2))
        await asyncio.sleep(0.5)
        assert await service_db.scalar("select count(*) from outbox") == 2
        await ensure_streams(js, ["IDENTITY"])
        await eventually(lambda: _empty(service_db), within=15, what="outbox drained")
    ids = [decode_envelope(m.data or b"").id for m in await stream_messages(js)]
    assert sorted(ids) == sorted(e.id for e in envelopes)


async def test_replicas_share_the_outbox_and_a_follower_takes_over(
    service_db: ServiceDb, js: JetStreamContext
) -> None:
    relays = [relay_for(service_db, js, fallback_poll_seconds=0.2, batch_size=7) for _ in "ab"]
    await record(service_db, *(Pinged(n=n) for n in range(40)))
    tasks = [asyncio.create_task(relay.run()) for relay in relays]
    try:
        await eventually(lambda: _empty(service_db), what="backlog drained")
        await eventually(lambda: _leading(*relays), what="one relay leads")
        assert [relay.leading for relay in relays].count(True) == 1
        await record(service_db, *(Pinged(n=n) for n in range(40, 60)))
        await eventually(lambda: _count(js, 60), what="published by the leader")

        leader = next(i for i, relay in enumerate(relays) if relay.leading)
        tasks[leader].cancel()
        await asyncio.gather(tasks[leader], return_exceptions=True)
        follower = relays[1 - leader]
        await eventually(lambda: _leading(follower), within=3, what="the follower takes over")
        await record(service_db, Pinged(n=60))
        await eventually(lambda: _count(js, 61), what="published by the new leader")
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    ids = [decode_envelope(m.data or b"").id for m in await stream_messages(js)]
    assert len(ids) == len(set(ids)) == 61


async def _empty(db: ServiceDb) -> bool:
    return bool(await db.scalar("select count(*) from outbox") == 0)


async def _leading(*relays: OutboxRelay) -> bool:
    return any(relay.leading for relay in relays)


async def _count(js: JetStreamContext, expected: int) -> bool:
    return int((await js.stream_info("IDENTITY")).state.messages) >= expected


async def test_the_relay_reconnects_after_losing_postgres(
    service_db: ServiceDb, js: JetStreamContext
) -> None:
    relay = relay_for(service_db, js, fallback_poll_seconds=60)
    async with running(relay.run):
        await eventually(lambda: _leading(relay), what="relay leads")
        admin = await asyncpg.connect(service_db.database.dsn())
        try:
            killed = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE application_name = 'outbox-relay'"
            )
        finally:
            await admin.close()
        assert killed >= 1
        await record(service_db, Pinged(n=1))  # committed while nobody listens
        await eventually(lambda: _count(js, 1), within=10, what="published after reconnecting")
        await eventually(lambda: _leading(relay), what="leading again")
        await record(service_db, Pinged(n=2))
        await eventually(lambda: _count(js, 2), within=2, what="published from NOTIFY again")


async def test_an_event_id_recorded_twice_is_published_once(
    service_db: ServiceDb, js: JetStreamContext
) -> None:
    for _ in range(2):  # e.g. a retried request that derives its event id from its input
        async with service_db.sessions() as session, session.begin():
            await outbox.record(session, Pinged(n=1), event_id="evt_org_1_exhausted_2026_11")
    assert await service_db.scalar("select count(*) from outbox") == 1
    async with running(relay_for(service_db, js, fallback_poll_seconds=60).run):
        await eventually(lambda: _empty(service_db), what="outbox drained")
        async with service_db.sessions() as session, session.begin():  # and once more, later
            await outbox.record(session, Pinged(n=1), event_id="evt_org_1_exhausted_2026_11")
        await eventually(lambda: _empty(service_db), what="outbox drained again")
    messages = await stream_messages(js)
    assert [decode_envelope(m.data or b"").id for m in messages] == ["evt_org_1_exhausted_2026_11"]


async def test_an_event_recorded_on_the_sessions_asyncpg_connection_is_published_alike(
    service_db: ServiceDb, js: JetStreamContext
) -> None:
    # record_on: billing's hot paths record on the driver connection under their session.
    relay = relay_for(service_db, js, fallback_poll_seconds=60)
    envelopes = []
    async with running(relay.run):
        await eventually(lambda: _leading(relay), what="relay leads")
        for commit in (False, True):
            async with service_db.sessions() as session, session.begin():
                await session.execute(text("select 1"))  # SQLAlchemy's BEGIN goes out lazily
                raw = await (await session.connection()).get_raw_connection()
                connection = raw.driver_connection
                assert isinstance(connection, asyncpg.Connection)
                envelope = await outbox.record_on(connection, Pinged(n=7), organization_id="o")
                envelopes.append(envelope)
                if not commit:
                    await session.rollback()
        await eventually(lambda: _count(js, 1), within=2, what="published from its NOTIFY")
        await asyncio.sleep(0.2)
    messages = await stream_messages(js)
    assert [decode_envelope(m.data or b"").id for m in messages] == [envelopes[1].id]
    assert (messages[0].headers or {}).get("Nats-Msg-Id") == envelopes[1].id
    assert decode_envelope(messages[0].data or b"").payload(Pinged) == Pinged(n=7)
    assert await service_db.scalar("select count(*) from outbox") == 0
