"""The inbox claim: first time yes, second time no, whichever way it reaches PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from messaging_helpers import SCHEMA, ServiceDb
from skiff_messaging.inbox import _claim_in_one_round_trip, claim, forget_handled
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine


@pytest.mark.parametrize("isolation", [None, "REPEATABLE READ"])
async def test_an_event_is_claimed_once_per_consumer(
    service_db: ServiceDb, isolation: str | None
) -> None:
    # A non-default isolation level takes the portable path (BEGIN, then INSERT).
    engine = create_async_engine(
        service_db.database.sqlalchemy_url(service_db.role, service_db.password),
        connect_args={"server_settings": {"search_path": SCHEMA}},
        **({"isolation_level": isolation} if isolation else {}),
    )
    sessions = async_sessionmaker(engine)
    try:
        outcomes = []
        for consumer in ("billing--a", "billing--a", "notification--a", "it's--quoted"):
            async with sessions() as session, session.begin():
                outcomes.append(await claim(session, consumer, "evt_1"))
        assert outcomes == [True, False, True, True]

        async def failing_handler() -> None:
            async with sessions() as session, session.begin():
                assert await claim(session, "billing--a", "evt_2")
                raise ZeroDivisionError  # the claim rolls back with the handler's work

        with pytest.raises(ZeroDivisionError):
            await failing_handler()
        async with sessions() as session, session.begin():
            assert await claim(session, "billing--a", "evt_2")
            level = (await session.execute(text("show transaction_isolation"))).scalar()
        assert level == (isolation or "read committed").lower()

        async with sessions() as session, session.begin():
            fast = await _claim_in_one_round_trip(session, "billing--a", "evt_3")
        assert fast is (None if isolation else True)
    finally:
        await engine.dispose()


async def test_old_inbox_rows_can_be_forgotten(service_db: ServiceDb) -> None:
    async with service_db.sessions() as session, session.begin():
        await claim(session, "c", "old")
        await claim(session, "c", "new")
        await session.execute(
            text("update inbox set handled_at = now() - interval '8 days' where event_id = 'old'")
        )
    async with service_db.sessions() as session, session.begin():
        assert await forget_handled(session, older_than=timedelta(days=7)) == 1
    assert await service_db.scalar("select string_agg(event_id, ',') from inbox") == "new"
