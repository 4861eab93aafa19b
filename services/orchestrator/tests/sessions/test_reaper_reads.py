"""The reaper's looks for live sessions read the live sessions, not every session ever made
(migration 0006).

5 000 stopped and failed sessions of 200 organizations, and a dozen live ones: starting (three
overdue, two recent, all without a runner), running, paused and stopping (with runners). Each
look counts the session rows PostgreSQL fetched for it in its transaction
(`pg_stat_xact_user_tables`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from skiff_orchestrator.sessions import repository
from skiff_testing.rows_read import rows_fetched_by
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

ENDED, ORGANIZATIONS = 5_000, 200
OVERDUE = 3
LIVE = {"starting": OVERDUE + 2, "running": 4, "paused": 2, "stopping": 1}
WITH_RUNNER = LIVE["running"] + LIVE["paused"] + LIVE["stopping"]
AGE = timedelta(minutes=10)  # how long ago the ended and the overdue sessions were created

# Sessions written straight into the table (ids sort by time), one in five failed.
ENDED_ROWS = text(
    """
    INSERT INTO sessions (id, organization_id, status, image, cpu, memory_mb, network,
                          timeout_seconds, idle_timeout_seconds, runner_id, created_at,
                          status_changed_at)
    SELECT 'ses_' || lpad(g::text, 8, '0'), 'org_' || g % :orgs,
           CASE WHEN g % 5 = 0 THEN 'failed' ELSE 'stopped' END,
           'skiff/sandbox', 1, 512, 'none', 3600, 600, 'runner-' || g % 3,
           now() - CAST(:age AS interval), now()
    FROM generate_series(1, CAST(:count AS integer)) g
    """
)
# The live ones after them: starting ones have no runner yet, the first OVERDUE are old.
LIVE_ROWS = text(
    """
    INSERT INTO sessions (id, organization_id, status, image, cpu, memory_mb, network,
                          timeout_seconds, idle_timeout_seconds, runner_id, created_at,
                          status_changed_at)
    SELECT 'ses_live_' || lpad(n::text, 4, '0'), 'org_' || n % :orgs, status,
           'skiff/sandbox', 1, 512, 'none', 3600, 600,
           CASE WHEN status = 'starting' THEN NULL ELSE 'runner-' || n % 3 END,
           CASE WHEN n <= :overdue THEN now() - CAST(:age AS interval) ELSE now() END, now()
    FROM unnest(CAST(:statuses AS text[])) WITH ORDINALITY AS live(status, n)
    """
)
TABLE = "sessions"


@pytest.fixture
async def crowded(sessions: async_sessionmaker[AsyncSession]) -> None:
    """ENDED ended sessions and the LIVE ones (starting first, so the overdue are starting)."""
    statuses = [status for status, count in LIVE.items() for _ in range(count)]
    async with sessions() as session, session.begin():
        await session.execute(ENDED_ROWS, {"orgs": ORGANIZATIONS, "age": AGE, "count": ENDED})
        await session.execute(
            LIVE_ROWS,
            {"orgs": ORGANIZATIONS, "overdue": OVERDUE, "age": AGE, "statuses": statuses},
        )
        await session.execute(text("ANALYZE sessions"))


@pytest.mark.usefixtures("crowded")
async def test_the_look_for_sessions_on_runners_reads_only_live_ones(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    fetched, rows = await rows_fetched_by(sessions, TABLE, repository.live_with_runner)
    assert sorted(row.status for row in rows) == sorted(
        status for status, count in LIVE.items() if status != "starting" for _ in range(count)
    )
    assert len(rows) == WITH_RUNNER
    live = sum(LIVE.values())
    assert fetched <= live, f"{fetched} session rows read for {live} live"


@pytest.mark.usefixtures("crowded")
async def test_the_look_for_sessions_nobody_started_reads_only_overdue_ones(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    fetched, rows = await rows_fetched_by(
        sessions,
        TABLE,
        partial(repository.starting_since_for_update, created_before=datetime.now(UTC) - AGE / 2),
    )
    assert [row.id for row in rows] == [f"ses_live_{n:04d}" for n in range(1, OVERDUE + 1)]
    assert fetched <= OVERDUE, f"{fetched} session rows read for {OVERDUE} overdue"
