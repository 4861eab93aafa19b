"""A page of sessions of one status reads that page, not every session of the status
(migration 0004).

An organization with thousands of stopped sessions and hundreds of failed ones; each read
counts the session rows PostgreSQL fetched for it in its transaction
(`pg_stat_xact_user_tables`).
"""

from __future__ import annotations

from functools import partial

import pytest
from skiff_orchestrator.sessions import repository
from skiff_testing.rows_read import rows_fetched_by
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

ORG = "org_busy"
STOPPED, FAILED, PAGE = 3_000, 500, 50

# Sessions written straight into the table (ids sort by time), beside other organizations'.
GROW = text(
    """
    INSERT INTO sessions (id, organization_id, status, image, cpu, memory_mb, network,
                          timeout_seconds, idle_timeout_seconds, created_at, status_changed_at)
    SELECT 'ses_' || lpad(g::text, 8, '0'),
           CASE WHEN g % 3 = 0 THEN 'org_other_' || g % 40 ELSE :org END,
           CASE WHEN g % 7 = 0 THEN 'failed' ELSE 'stopped' END,
           'skiff/sandbox', 1, 512, 'none', 3600, 600, now(), now()
    FROM generate_series(1, CAST(:count AS integer)) g
    """
)
TABLE = "sessions"


@pytest.fixture
async def busy(sessions: async_sessionmaker[AsyncSession]) -> None:
    """About STOPPED stopped and FAILED failed sessions of ORG, a third as many of others."""
    async with sessions() as session, session.begin():
        await session.execute(GROW, {"org": ORG, "count": (STOPPED + FAILED) * 3 // 2})
        await session.execute(text("ANALYZE sessions"))


@pytest.mark.parametrize("status", ["failed", "stopped"])
@pytest.mark.usefixtures("busy")
async def test_a_page_of_a_status_reads_its_own_rows(
    sessions: async_sessionmaker[AsyncSession], status: str
) -> None:
    before_id = None
    for _ in range(2):  # the first page, and the one after its cursor
        fetched, rows = await rows_fetched_by(
            sessions,
            TABLE,
            partial(
                repository.page,
                organization_id=ORG,
                status=status,
                metadata={},
                before_id=before_id,
                limit=PAGE + 1,
            ),
        )
        assert len(rows) == PAGE + 1
        assert {row.status for row in rows} == {status}
        assert fetched <= PAGE + 1
        before_id = rows[PAGE - 1].id
