"""The hot functions find a reference with one probe of the unique index, even with plans
made while the tables were nearly empty (migration 0007).

Pooled connections keep their plans; a plan made on a new install is kept after the ledger
grows. Each test plans its statements on tiny tables, grows them to thousands of rows for
one organization without an ANALYZE, and reads the kept plans through auto_explain.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from skiff_billing import functions
from skiff_billing.holds import alone
from skiff_billing.policy import Policy
from skiff_testing.databases import TestDatabase
from skiff_testing.services import migrated_schema

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
ORG = "org_plans"
GROWN = 3_000  # rows of the organization once grown
POLICY = Policy(low_credit_threshold=0)


@pytest.fixture
async def connection(fresh_database: TestDatabase) -> AsyncIterator[asyncpg.Connection]:
    """A superuser connection to a migrated billing schema (auto_explain needs a superuser),
    with one account of ample credits."""
    await migrated_schema(fresh_database, schema="billing", migrations=MIGRATIONS)
    connection = await asyncpg.connect(
        fresh_database.dsn(), server_settings={"search_path": "billing"}
    )
    await connection.execute(
        "INSERT INTO accounts (id, organization_id, balance) VALUES ('acc_plans', $1, 1e9)", ORG
    )
    yield connection
    await connection.close()


async def explained(
    connection: asyncpg.Connection, statement: str, *args: object
) -> tuple[asyncpg.Record, str]:
    """`statement`'s row, and the plans of its nested statements as auto_explain reports them."""
    notices: list[str] = []

    def listen(_: asyncpg.Connection, message: asyncpg.PostgresLogMessage) -> None:
        notices.append(str(message))

    await connection.execute(
        "LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0;"
        " SET auto_explain.log_nested_statements = on; SET auto_explain.log_analyze = on;"
        " SET auto_explain.log_level = notice; SET client_min_messages = notice"
    )
    connection.add_log_listener(listen)
    try:
        row = await connection.fetchrow(statement, *args)
    finally:
        connection.remove_log_listener(listen)
        await connection.execute("SET auto_explain.log_min_duration = -1")
    assert row is not None
    return row, "\n".join(notices)


def most_rows_touched(plans: str) -> int:
    """The most rows any plan node produced or filtered away."""
    counts = re.findall(r"actual time=\S+ rows=(\d+)|Rows Removed by Filter: (\d+)", plans)
    return max(int(produced or removed) for produced, removed in counts)


def charge(minutes: list[int], now: datetime) -> tuple[object, ...]:
    return (
        ORG,
        minutes,
        [f"txn_plans_{m}" for m in minutes],
        [f"usage:ses_plans:{m}" for m in minutes],
        ["usage"] * len(minutes),
        now,
        now.date(),
    )


async def test_a_usage_charge_probes_each_minute_after_the_ledger_grew(
    connection: asyncpg.Connection,
) -> None:
    now = datetime.now(UTC)
    for minute in range(1, 10):  # past the fifth call: the kept (generic) plans are made
        window = [minute - 1, minute] if minute > 1 else [1]
        row = await connection.fetchrow(functions.CHARGE_USAGE, *charge(window, now))
        assert row is not None
        assert row["outcome"] == "charged"
    await connection.execute(
        "INSERT INTO ledger_entries (id, account_id, organization_id, type, amount,"
        " balance_after, description, reference, created_at)"
        " SELECT 'txn_grown_' || g, 'acc_plans', $1, 'usage', -1, 0, 'grown', 'grown:' || g, $2"
        " FROM generate_series(1, $3) g",
        ORG,
        now,
        GROWN,
    )

    row, plans = await explained(connection, functions.CHARGE_USAGE, *charge([9, 10], now))

    assert (row["outcome"], row["charged"]) == ("charged", [10])
    lookup = plans.split("FROM ledger_entries e", 1)[1].split("Query Text", 1)[0]
    assert "uq_ledger_entries_reference" in lookup, plans
    assert "Anti Join" not in lookup, plans
    assert most_rows_touched(plans) < 10, plans


async def test_a_reserve_of_a_known_reference_probes_it_after_the_holds_grew(
    connection: asyncpg.Connection,
) -> None:
    now = datetime.now(UTC)
    for n in range(10):
        hold = await alone.reserve(
            connection,
            organization_id=ORG,
            amount=1,
            reference=f"plans-{n}",
            expires_at=now + timedelta(minutes=10),
            description="plans",
            rules=alone.rules_arguments(POLICY),
            now=now,
        )
        assert hold is not None
        assert hold.status == "pending"
    await connection.execute(
        "INSERT INTO holds (id, organization_id, amount, captured, status, reference,"
        " description, expires_at, created_at, resolved_at)"
        " SELECT 'hld_grown_' || g, $1, 1, 1, 'captured', 'grown-' || g, 'grown', NULL, $2, $2"
        " FROM generate_series(1, $3) g",
        ORG,
        now,
        GROWN,
    )
    args = (ORG, 1, "plans-3", None, "plans", "hld_again", "txn_again", now)

    row, plans = await explained(
        connection, functions.HOLD_RESERVE, *args, *alone.rules_arguments(POLICY)
    )

    assert (row["outcome"], row["hold_reference"]) == ("existing", "plans-3")
    lookup = plans.split("FROM holds\n", 1)[1].split("Query Text", 1)[0]
    assert "uq_holds_reference" in lookup, plans
    assert most_rows_touched(plans) < 10, plans
