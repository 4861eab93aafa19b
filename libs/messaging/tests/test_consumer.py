"""EventConsumer: applied once per event whatever the bus repeats; retried, or dead-lettered."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from messaging_helpers import Pinged, Ponged, ServiceDb, eventually, running
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from skiff_contracts import Envelope
from skiff_messaging import EventConsumer, PermanentError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

DURABLE = "svc--identity-test-pinged"


class Recorder:
    """A handler that writes a row (not idempotent by itself) and can be told to fail."""

    def __init__(self, fail_with: list[Exception] | None = None) -> None:
        self.calls: list[str] = []
        self.fail_with = list(fail_with or [])

    async def __call__(self, session: AsyncSession, envelope: Envelope, payload: Any) -> None:
        self.calls.append(envelope.id)
        await session.execute(
            text("insert into applied (event_id, n) values (:id, :n)"),
            {"id": envelope.id, "n": payload.n},
        )
        if self.fail_with:
            raise self.fail_with.pop(0)


def consumer_for(db: ServiceDb, js: JetStreamContext, handler: Recorder, **options: Any) -> Any:
    options.setdefault("backoff", (0.05,))
    return EventConsumer(
        js=js,
        session_factory=db.sessions,
        stream="IDENTITY",
        durable=DURABLE,
        handlers={"identity.test.pinged": (Pinged, handler)},
        **options,
    )


async def publish(js: JetStreamContext, body: bytes, msg_id: str, subject: str = "") -> bool:
    ack = await js.publish(subject or "identity.test.pinged", body, headers={"Nats-Msg-Id": msg_id})
    return bool(ack.duplicate)


def pinged(n: int = 1, **fields: Any) -> Envelope:
    return Envelope.wrap(Pinged(n=n), source="skiff/test", **fields)


async def settled(js: JetStreamContext) -> bool:
    """Every message of the consumer delivered and acked (or terminated)."""
    try:
        info = await js.consumer_info("IDENTITY", DURABLE)
    except NotFoundError:
        return False
    return info.num_pending == 0 and info.num_ack_pending == 0 and info.delivered.stream_seq > 0


async def applied(db: ServiceDb, event_id: str) -> int:
    return int(await db.scalar("select count(*) from applied where event_id = :id", id=event_id))


async def test_an_event_on_the_bus_twice_is_applied_once(
    service_db: ServiceDb, js: JetStreamContext
) -> None:
    event = pinged()
    assert await publish(js, event.encode(), event.id) is False
    assert await publish(js, event.encode(), event.id) is True  # the stream de-duplicates
    await publish(js, event.encode(), "republished-under-another-id")  # this one it cannot
    handler = Recorder()
    consumer = consumer_for(service_db, js, handler)

    async with running(consumer.run):
        await eventually(lambda: settled(js), what="both messages acked")

    assert handler.calls == [event.id]
    assert consumer.counts["handled"] == consumer.counts["duplicate"] == 1
    assert await applied(service_db, event.id) == 1
    assert await service_db.scalar("select count(*) from inbox") == 1


class AckLost(EventConsumer):
    """Dies (raises) after the commit and before the first ack."""

    lost = 0

    async def _ack(self, msg: Msg) -> None:
        if not self.lost:
            self.lost += 1
            raise ConnectionError("gone after commit, before ack")
        await super()._ack(msg)


async def test_a_crash_after_commit_before_ack_is_redelivered_and_skipped(
    service_db: ServiceDb, js: JetStreamContext
) -> None:
    event = pinged()
    await publish(js, event.encode(), event.id)
    handler = Recorder()
    consumer = AckLost(
        js=js,
        session_factory=service_db.sessions,
        stream="IDENTITY",
        durable=DURABLE,
        handlers={"identity.test.pinged": (Pinged, handler)},
        ack_wait=1.0,
    )
    async with running(consumer.run):
        await eventually(lambda: settled(js), within=10, what="redelivered and acked")

    assert consumer.lost == 1
    assert handler.calls == [event.id]
    assert consumer.counts == {"handled": 1, "duplicate": 1, "retried": 0, "dead_lettered": 0}
    assert await applied(service_db, event.id) == 1


async def test_a_transient_failure_is_retried_until_it_succeeds(
    service_db: ServiceDb, js: JetStreamContext
) -> None:
    event = pinged()
    await publish(js, event.encode(), event.id)
    handler = Recorder(fail_with=[RuntimeError("db hiccup"), TimeoutError()])
    consumer = consumer_for(service_db, js, handler)

    async with running(consumer.run):
        await eventually(lambda: settled(js), what="applied after two naks")

    assert handler.calls == [event.id] * 3
    assert consumer.counts["retried"] == 2
    assert await applied(service_db, event.id) == 1  # the failed attempts rolled back
    assert await service_db.scalar("select count(*) from dead_letters") == 0


async def test_a_permanent_failure_is_dead_lettered_once(
    service_db: ServiceDb, js: JetStreamContext
) -> None:
    event = pinged()
    await publish(js, event.encode(), event.id)
    handler = Recorder(fail_with=[PermanentError("organization org_9 does not exist")])
    consumer = consumer_for(service_db, js, handler, ack_wait=0.5)

    async with running(consumer.run):
        await eventually(lambda: settled(js), what="terminated")
        await asyncio.sleep(1.0)  # past ack_wait: a term is never redelivered

    assert handler.calls == [event.id]
    row = await dead_letter(service_db)
    assert row["event_id"] == event.id
    assert row["reason"] == "PermanentError: organization org_9 does not exist"
    assert (row["deliveries"], row["consumer"], row["subject"]) == (
        1,
        DURABLE,
        "identity.test.pinged",
    )
    assert bytes(row["payload"]) == event.encode()
    assert await applied(service_db, event.id) == 0
    assert await service_db.scalar("select count(*) from inbox") == 0


async def test_an_event_failing_max_deliver_times_is_dead_lettered(
    service_db: ServiceDb, js: JetStreamContext
) -> None:
    event = pinged()
    await publish(js, event.encode(), event.id)
    handler = Recorder(fail_with=[RuntimeError(f"attempt {n}") for n in range(1, 10)])
    consumer = consumer_for(service_db, js, handler, max_deliver=3)

    async with running(consumer.run):
        await eventually(lambda: settled(js), what="given up")
        await asyncio.sleep(0.3)

    assert handler.calls == [event.id] * 3
    row = await dead_letter(service_db)
    assert row["deliveries"] == 3
    assert row["reason"] == "failed 3 deliveries, last: RuntimeError: attempt 3"
    assert await applied(service_db, event.id) == 0


async def test_undecodable_messages_are_dead_lettered_and_unhandled_types_acked(
    service_db: ServiceDb, js: JetStreamContext
) -> None:
    bad_payload = msgspec.structs.replace(pinged(), data=msgspec.Raw(b'{"n": "one"}'))
    unhandled = Envelope.wrap(Ponged(n=1), source="skiff/test")
    await publish(js, b"not json at all", "garbage")
    await publish(js, bad_payload.encode(), bad_payload.id)
    await publish(js, unhandled.encode(), unhandled.id)  # a type this consumer has no handler for
    handler = Recorder()
    consumer = consumer_for(service_db, js, handler)

    async with running(consumer.run):
        await eventually(lambda: settled(js), what="all three settled")

    assert handler.calls == []
    reasons = await service_db.scalar(
        "select string_agg(coalesce(event_id, '-') || ' ' || reason, ' | ' order by id)"
        " from dead_letters"
    )
    garbage, invalid = reasons.split(" | ")
    assert garbage.startswith("- undecodable envelope:")
    assert invalid.startswith(f"{bad_payload.id} ValidationError: Expected `int`, got `str`")


async def dead_letter(db: ServiceDb) -> Any:
    async with db.engine.connect() as connection:
        rows = (await connection.execute(text("select * from dead_letters"))).mappings().all()
    assert len(rows) == 1, rows
    return rows[0]
