"""Billing's migrations go down and up again: 0005's hot-path functions leave nothing behind,
come back whole, and still charge (the same code paths every other test uses, on a schema
that was downgraded first)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from alembic import command
from skiff_billing.ledger import service
from skiff_billing.ledger.usage import charge_usage
from skiff_contracts import new_id
from skiff_contracts.events.sandbox import SessionUsage
from skiff_kit.db import create_engine, create_session_factory
from skiff_kit.migrations import alembic_config
from skiff_testing.databases import TestDatabase
from skiff_testing.services import migrated_schema

SCHEMA = "billing"
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
HOT_PATH = {"account_state", "bump_usage", "charge_usage", "hold_capture", "hold_entry"}
HOT_PATH |= {"hold_give_back", "hold_release", "hold_reserve"}


async def functions_of(database: TestDatabase) -> set[str]:
    connection = await asyncpg.connect(database.dsn())
    try:
        rows = await connection.fetch(
            "select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace"
            " where n.nspname = $1",
            SCHEMA,
        )
    finally:
        await connection.close()
    return {row["proname"] for row in rows}


async def test_0005_downgrades_to_0004_and_upgrades_again(fresh_database: TestDatabase) -> None:
    url = await migrated_schema(fresh_database, schema=SCHEMA, migrations=MIGRATIONS)
    assert await functions_of(fresh_database) >= HOT_PATH
    config = alembic_config(database_url=url, schema=SCHEMA, script_location=str(MIGRATIONS))

    await asyncio.to_thread(command.downgrade, config, "0004")
    assert not HOT_PATH & await functions_of(fresh_database)

    await asyncio.to_thread(command.upgrade, config, "head")
    assert await functions_of(fresh_database) >= HOT_PATH
    engine = create_engine(url, schema=SCHEMA)
    sessions = create_session_factory(engine)
    try:
        org = new_id("org")
        async with sessions() as session, session.begin():
            await service.open_account(session, organization_id=org, bonus=10)
        usage = SessionUsage(
            session_id="ses_1",
            organization_id=org,
            runner_id="run_1",
            minutes_started=3,
            active_seconds=150.0,
            final=False,
            measured_at=datetime.now(UTC),
        )
        async with sessions() as session, session.begin():
            charged = await charge_usage(session, usage)
        assert charged is not None
        assert (charged.minutes, charged.balance_after) == (3, 7)
    finally:
        await engine.dispose()
