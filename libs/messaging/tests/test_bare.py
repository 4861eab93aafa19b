"""BareHandler: an event applied on a bare connection, inbox row and writes in one transaction;
once whatever the bus repeats, rolled back whole on failure, or handed to the session."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import asyncpg
import pytest
from messaging_helpers import CHANNEL, Pinged, ServiceDb, eventually, running
from nats.js import JetStreamContext
from skiff_contracts import Envelope, decode_envelope
from skiff_messaging import BareHandler, EventConsumer, Outbox, PermanentError
from skiff_messaging.bare import Commit
from skiff_messaging.outbox import decode_note
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from test_consumer import DURABLE, applied, dead_letter, pinged, publish, settled

OUTBOX = Outbox(source="skiff/test", channel=CHANNEL)


class Bare:
    """Writes a row on the bare connection; can fail, decline, or commit an event with it."""

    def __init__(self, *, fail_with: list[Exception] | None = None, decline: bool = False) -> None:
        self.bare: list[str] = []
        self.session: list[str] = []
        self.fail_with = list(fail_with or [])
        self.decline = decline
        self.announce = False

    async def on_connection(
        self, connection: asyncpg.Connection, envelope: Envelope, payload: Any
    ) -> Commit | None:
        self.bare.append(envelope.id)
        await connection.execute(
            "insert into applied (event_id, n) values ($1, $2)", envelope.id, payload.n
        )
        if self.fail_with:
            raise self.fail_with.pop(0)
        if self.decline:
            return None
        if self.announce:
            return await OUTBOX.record_with_commit(
                connection, pinged(payload.n + 1).payload(Pinged)
            )
        return Commit()

    async def on_session(self, session: AsyncSession, envelope: Envelope, payload: Any) -> None:
        self.session.append(envelope.id)
        await session.execute(
            text("insert into applied (event_id, n) values (:id, :n)"),
            {"id": envelope.id, "n": -payload.n},  # negative: written by the session's way
        )

    def handler(self) -> BareHandler:
        return BareHandler(on_connection=self.on_connection, on_session=self.on_session)


def consumer_for(db: ServiceDb, js: JetStreamContext, bare: Bare, **options: Any) -> Any:
    options.setdefault("backoff", (0.05,))
    return EventConsumer(
        js=js,
        session_factory=db.sessions,
        stream="IDENTITY",
        durable=DURABLE,
        handlers={"identity.test.pinged": (Pinged, bare.handler())},
        **options,
    )


async def rows(db: ServiceDb) -> list[tuple[str, int]]:
    async with db.engine.connect() as connection:
        result = await connection.execute(text("select event_id, n from applied order by n"))
        return [(row.event_id, row.n) for row in result]


async def test_an_event_on_the_bus_twice_is_applied_once_on_the_bare_connection(
    service_db: ServiceDb, js: JetStreamContext
) -> None:
    event = pinged(7)
    await publish(js, event.encode(), event.id)
    await publish(js, event.encode(), "republished-under-another-id")  # the inbox stops it
    bare = Bare()
    consumer = consumer_for(service_db, js, bare)

    async with running(consumer.run):
        await eventually(lambda: settled(js), what="both messages acked")

    assert (bare.bare, bare.session) == ([event.id], [])
    assert consumer.counts["handled"] == consumer.counts["duplicate"] == 1
    assert await rows(service_db) == [(event.id, 7)]
    assert await service_db.scalar("select count(*) from inbox") == 1


async def test_concurrent_deliveries_of_one_event_apply_it_once(service_db: ServiceDb) -> None:
    event = pinged(3)
    bare = Bare()
    consumer = consumer_for(service_db, None, bare)  # type: ignore[arg-type]  # no bus needed
    handler = consumer.handlers["identity.test.pinged"][1]

    outcomes = await asyncio.gather(
        *(consumer.apply(event, event.payload(Pinged), handler) for _ in range(6))
    )

    assert sorted(outcomes) == [False] * 5 + [True]
    assert await applied(service_db, event.id) == 1
    assert await service_db.scalar("select count(*) from inbox") == 1


async def test_a_failure_rolls_back_the_inbox_row_with_the_writes_and_is_retried(
    service_db: ServiceDb, js: JetStreamContext
) -> None:
    event = pinged(5)
    await publish(js, event.encode(), event.id)
    bare = Bare(fail_with=[RuntimeError("db hiccup")])
    consumer = consumer_for(service_db, js, bare)

    async with running(consumer.run):
        await eventually(lambda: settled(js), what="applied after a nak")

    # Had the first attempt's inbox row stayed, the second would have been a duplicate.
    assert bare.bare == [event.id, event.id]
    assert consumer.counts["retried"] == 1
    assert await rows(service_db) == [(event.id, 5)]


async def test_a_permanent_failure_is_dead_lettered_with_nothing_applied(
    service_db: ServiceDb, js: JetStreamContext
) -> None:
    event = pinged()
    await publish(js, event.encode(), event.id)
    bare = Bare(fail_with=[PermanentError("no such thing")])
    consumer = consumer_for(service_db, js, bare)

    async with running(consumer.run):
        await eventually(lambda: settled(js), what="terminated")

    assert (await dead_letter(service_db))["reason"] == "PermanentError: no such thing"
    assert await rows(service_db) == []
    assert await service_db.scalar("select count(*) from inbox") == 0


async def test_a_declined_event_goes_the_sessions_way_and_only_its_writes_stay(
    service_db: ServiceDb, js: JetStreamContext
) -> None:
    event = pinged(4)
    await publish(js, event.encode(), event.id)
    bare = Bare(decline=True)
    consumer = consumer_for(service_db, js, bare)

    async with running(consumer.run):
        await eventually(lambda: settled(js), what="applied by the session")

    assert (bare.bare, bare.session) == ([event.id], [event.id])
    assert await rows(service_db) == [(event.id, -4)]  # the bare attempt's row rolled back
    assert await service_db.scalar("select count(*) from inbox") == 1
    assert consumer.counts["handled"] == 1


async def test_an_event_recorded_with_commit_is_committed_then_announced(
    service_db: ServiceDb,
) -> None:
    listener = await asyncpg.connect(service_db.dsn)
    notes: asyncio.Queue[str] = asyncio.Queue()
    await listener.add_listener(CHANNEL, lambda *args: notes.put_nowait(args[3]))
    try:
        event = pinged(1)
        bare = Bare()
        bare.announce = True
        consumer = consumer_for(service_db, None, bare)  # type: ignore[arg-type]
        handler = consumer.handlers["identity.test.pinged"][1]

        assert await consumer.apply(event, event.payload(Pinged), handler)

        note = decode_note(await asyncio.wait_for(notes.get(), timeout=5))
        assert note.event_id == await service_db.scalar("select id from outbox")
        assert note.subject == "identity.test.pinged"
        assert note.payload is not None
        assert decode_envelope(note.payload).payload(Pinged) == Pinged(n=2)
        assert await rows(service_db) == [(event.id, 1)]
        assert await service_db.scalar("select count(*) from inbox") == 1
    finally:
        await listener.close()


async def test_a_swallowed_error_is_not_committed_as_if_applied(service_db: ServiceDb) -> None:
    """A bare handler that catches a failed statement and still answers Commit: nothing is
    taken for applied, and nothing meant for after COMMIT is sent."""
    listener = await asyncpg.connect(service_db.dsn)
    notes: list[str] = []
    await listener.add_listener(CHANNEL, lambda *args: notes.append(args[3]))
    answers = [Commit(), Commit(("select 1",), after=(f"select pg_notify('{CHANNEL}', 'x')",))]

    async def careless(connection: asyncpg.Connection, envelope: Envelope, payload: Any) -> Commit:
        with contextlib.suppress(asyncpg.UndefinedTableError):
            await connection.execute("insert into no_such_table values (1)")
        return answers.pop(0)

    async def unused(session: AsyncSession, envelope: Envelope, payload: Any) -> None:
        raise AssertionError("not declined")

    consumer = consumer_for(service_db, None, Bare())  # type: ignore[arg-type]
    handler = BareHandler(on_connection=careless, on_session=unused)
    try:
        for failure, expected in (
            (RuntimeError, "rolled back at COMMIT"),
            (asyncpg.InFailedSQLTransactionError, "current transaction is aborted"),
        ):
            event = pinged()
            with pytest.raises(failure, match=expected):
                await consumer.apply(event, event.payload(Pinged), handler)
        await asyncio.sleep(0.2)
    finally:
        await listener.close()
    assert notes == []
    assert await service_db.scalar("select count(*) from inbox") == 0
