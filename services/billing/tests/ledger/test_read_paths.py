"""The ledger's lists read a page, not the organization's ledger (migration 0010).

An organization with thousands of entries; each read counts the ledger rows PostgreSQL
fetched for it in its transaction (`pg_stat_xact_user_tables`): a page of transactions,
whatever its filters and cursor, and a page of the export read about their own rows, and the
month's spending reads none (it comes from the daily rollups).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from billing_support import open_account
from skiff_billing.ledger import repository, service
from skiff_testing.rows_read import rows_fetched_by
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

ENTRIES = 3_000  # of the grown organization: one every 10 minutes, a purchase in 50
NOW = datetime.now(UTC).replace(microsecond=0)
FIRST = NOW - timedelta(minutes=10 * ENTRIES)
PAGE = 50

# Entries written straight into the table: ids sort by time as `new_id`'s do.
GROW = text(
    """
    INSERT INTO ledger_entries (id, account_id, organization_id, type, amount, balance_after,
                                description, reference, created_at)
    SELECT 'txn_' || to_char(t, 'YYYYMMDDHH24MISS') || :suffix, :account_id, :org,
           CASE WHEN g % 50 = 0 THEN 'purchase' ELSE 'usage' END,
           CASE WHEN g % 50 = 0 THEN 100 ELSE -1 END, 0, 'grown', 'grown:' || g, t
    FROM generate_series(1, :count) g,
         LATERAL (SELECT CAST(:first AS timestamptz) + g * :step * interval '1 second') AS x(t)
    """
)
TABLE = "ledger_entries"


async def grow(sessions: async_sessionmaker[AsyncSession], org: str, count: int, step: int) -> None:
    async with sessions() as session, session.begin():
        account_id = await session.scalar(
            text("SELECT id FROM accounts WHERE organization_id = :org"), {"org": org}
        )
        await session.execute(
            GROW,
            {
                "suffix": org[-6:],
                "account_id": account_id,
                "org": org,
                "count": count,
                "first": FIRST,
                "step": step,
            },
        )
        await session.execute(text("ANALYZE ledger_entries"))


@pytest.fixture
async def grown(sessions: async_sessionmaker[AsyncSession]) -> str:
    """An organization with ENTRIES entries, beside another one with a third as many."""
    org = await open_account(sessions)
    await grow(sessions, org, ENTRIES, 600)
    await grow(sessions, await open_account(sessions), ENTRIES // 3, 1800)
    return org


Read = Callable[[AsyncSession, str], Awaitable[Any]]


async def fetched_by(sessions: async_sessionmaker[AsyncSession], org: str, read: Read) -> int:
    """The ledger rows PostgreSQL fetched for `read`, in a transaction of its own."""
    fetched, _ = await rows_fetched_by(sessions, TABLE, lambda session: read(session, org))
    return fetched


def page(**filters: Any) -> Read:
    async def read(session: AsyncSession, org: str) -> Any:
        return await repository.entries_page(session, org, limit=PAGE + 1, **filters)

    return read


async def cursor_deep_in(session: AsyncSession, org: str) -> tuple[datetime, str]:
    """The position of an entry two thirds of the way back in the organization's ledger."""
    rows = await repository.entries_page(
        session, org, before=None, limit=1, end=NOW - timedelta(minutes=20 * ENTRIES // 3)
    )
    return rows[0].created_at, rows[0].id


WEEK_AGO = {"start": NOW - timedelta(days=14), "end": NOW - timedelta(days=7)}


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"type_": "purchase"},
        WEEK_AGO,
        {**WEEK_AGO, "type_": "purchase"},
    ],
    ids=["newest", "a rare type", "a window back", "a window and a type"],
)
async def test_a_page_of_transactions_reads_its_own_rows(
    sessions: async_sessionmaker[AsyncSession], grown: str, filters: dict[str, Any]
) -> None:
    async with sessions() as session:
        rows = await repository.entries_page(session, grown, before=None, limit=PAGE, **filters)
    assert rows  # the filter matches
    for before in (None, (rows[-1].created_at, rows[-1].id)):
        fetched = await fetched_by(sessions, grown, page(before=before, **filters))
        assert fetched <= PAGE + 1


async def test_an_absent_type_reads_no_rows(
    sessions: async_sessionmaker[AsyncSession], grown: str
) -> None:
    assert await fetched_by(sessions, grown, page(before=None, type_="refund")) == 0


async def test_a_page_deep_in_the_ledger_reads_its_own_rows(
    sessions: async_sessionmaker[AsyncSession], grown: str
) -> None:
    async with sessions() as session:
        before = await cursor_deep_in(session, grown)
    assert await fetched_by(sessions, grown, page(before=before)) <= PAGE + 1


async def test_a_page_of_the_export_reads_its_own_rows(
    sessions: async_sessionmaker[AsyncSession], grown: str
) -> None:
    async def middle_page(session: AsyncSession, org: str) -> Any:
        after = (FIRST + (NOW - FIRST) / 2, "txn_")
        return await repository.entries_between(
            session, org, start=FIRST, end=NOW, after=after, limit=PAGE
        )

    assert await fetched_by(sessions, grown, middle_page) <= PAGE


async def test_the_months_spending_reads_no_entries(
    sessions: async_sessionmaker[AsyncSession], grown: str
) -> None:
    async def spending(session: AsyncSession, org: str) -> int:
        return await service.used_this_month(session, org, NOW)

    assert await fetched_by(sessions, grown, spending) == 0
