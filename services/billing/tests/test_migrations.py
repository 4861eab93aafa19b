"""Billing's migrations go down and up again: 0005's hot-path functions and 0006's calls alone
leave nothing behind, come back whole, and still charge (the same code paths every other test
uses, on a schema that was downgraded first)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from alembic import command
from skiff_billing.holds.calls import HoldCalls
from skiff_billing.ledger import service
from skiff_billing.ledger.usage import charge_usage
from skiff_billing.policy import Policy
from skiff_contracts import new_id
from skiff_contracts.events.sandbox import SessionUsage
from skiff_kit.db import create_engine, create_session_factory
from skiff_kit.migrations import alembic_config
from skiff_testing.databases import TestDatabase
from skiff_testing.services import migrated_schema

SCHEMA = "billing"
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
# Each function as name/number of arguments: 0006 gave the hold functions the rules' inputs.
HOT_PATH = {"account_state/2", "bump_usage/4", "charge_usage/7", "hold_entry/8"}
HOT_PATH |= {"hold_give_back/5", "hold_capture/5", "hold_release/4", "hold_reserve/8"}
AT_0006 = HOT_PATH - {"hold_capture/5", "hold_release/4", "hold_reserve/8"}
AT_0006 |= {"hold_capture/8", "hold_release/7", "hold_reserve/11", "rules_stay_quiet/15"}


async def functions_of(database: TestDatabase) -> set[str]:
    connection = await asyncpg.connect(database.dsn())
    try:
        rows = await connection.fetch(
            "select p.proname, p.pronargs from pg_proc p"
            " join pg_namespace n on n.oid = p.pronamespace"
            " where n.nspname = $1",
            SCHEMA,
        )
    finally:
        await connection.close()
    return {f"{row['proname']}/{row['pronargs']}" for row in rows}


async def test_0006_and_0005_go_down_to_0004_and_up_again(fresh_database: TestDatabase) -> None:
    url = await migrated_schema(fresh_database, schema=SCHEMA, migrations=MIGRATIONS)
    at_head = await functions_of(fresh_database)
    assert at_head >= AT_0006
    assert not at_head & (HOT_PATH - AT_0006)  # 0005's hold functions were replaced
    other_functions = at_head - AT_0006
    config = alembic_config(database_url=url, schema=SCHEMA, script_location=str(MIGRATIONS))

    await asyncio.to_thread(command.downgrade, config, "0005")
    assert await functions_of(fresh_database) == HOT_PATH | other_functions

    await asyncio.to_thread(command.downgrade, config, "0004")
    assert await functions_of(fresh_database) == other_functions

    await asyncio.to_thread(command.upgrade, config, "head")
    assert await functions_of(fresh_database) == AT_0006 | other_functions
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

        calls = HoldCalls(engine, sessions, Policy(low_credit_threshold=0))
        now = datetime.now(UTC)
        hold = await calls.reserve(
            organization_id=org,
            amount=5,
            reference="dep_1",
            expires_at=None,
            description="deploy",
            now=now,
        )
        captured = await calls.capture(hold_id=hold.id, amount=2)
        assert (captured.status, captured.captured) == ("captured", 2)
    finally:
        await engine.dispose()
