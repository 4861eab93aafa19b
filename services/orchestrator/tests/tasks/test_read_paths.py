"""A page of a session's tasks of one status reads that page, not every task of the session
or every task of the status (migration 0005); so do failing a session's unfinished tasks and
the reaper's look for tasks never handed over.

One session with 2 951 succeeded tasks, 159 failed, 5 running and 5 queued, beside 200 small
sessions whose 1 040 tasks are a third failed and a third running (a table holds many
sessions: the generic plans the tests force guess one session's share of the tasks as one in
the number of sessions). Each read counts the task rows PostgreSQL fetched for it in its
transaction (`pg_stat_xact_user_tables`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from skiff_orchestrator.tasks import repository
from skiff_testing.rows_read import rows_fetched_by
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

ORG = "org_busy"
BUSY = "ses_busy"
TASKS, PAGE, QUEUED, UNFINISHED = 4_160, 50, 5, 10

SESSIONS = text(
    """
    INSERT INTO sessions (id, organization_id, status, image, cpu, memory_mb, network,
                          timeout_seconds, idle_timeout_seconds, created_at, status_changed_at)
    SELECT s, :org, 'running', 'skiff/sandbox', 1, 512, 'none', 3600, 600, now(), now()
    FROM unnest(CAST(:ids AS text[])) s
    """
)
# Tasks written straight into the table (ids sort by time): three in four in BUSY, of which
# one in 26 failed and ten unfinished; the fourth in 200 other sessions, a third of them failed
# and a third running.
GROW = text(
    """
    INSERT INTO tasks (id, session_id, organization_id, status, command, timeout_seconds,
                       created_at)
    SELECT 'tsk_' || lpad(g::text, 8, '0'),
           CASE WHEN g % 4 = 0 THEN 'ses_other_' || (g / 4) % 200 ELSE :busy END,
           :org,
           CASE WHEN g % 4 = 0 THEN (ARRAY['failed', 'running', 'succeeded'])[g % 3 + 1]
                WHEN g % 1000 = 2 THEN 'running'
                WHEN g % 1000 = 3 THEN 'queued'
                WHEN g % 26 = 1 THEN 'failed'
                ELSE 'succeeded' END,
           'true', 60, now()
    FROM generate_series(1, CAST(:count AS integer)) g
    """
)
TABLE = "tasks"


@pytest.fixture
async def busy(sessions: async_sessionmaker[AsyncSession]) -> None:
    """BUSY's thousands of tasks and its neighbours' (see GROW)."""
    others = [f"ses_other_{n}" for n in range(200)]
    async with sessions() as session, session.begin():
        await session.execute(SESSIONS, {"org": ORG, "ids": [BUSY, *others]})
        await session.execute(GROW, {"org": ORG, "busy": BUSY, "count": TASKS})
        await session.execute(text("ANALYZE sessions"))
        await session.execute(text("ANALYZE tasks"))


@pytest.mark.parametrize("status", ["failed", "succeeded"])
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
                repository.page_of_session,
                session_id=BUSY,
                status=status,
                before_id=before_id,
                limit=PAGE + 1,
            ),
        )
        assert len(rows) == PAGE + 1
        assert {(row.session_id, row.status) for row in rows} == {(BUSY, status)}
        assert [row.id for row in rows] == sorted((row.id for row in rows), reverse=True)
        assert fetched <= PAGE + 1, f"{fetched} task rows read for a page of {PAGE + 1}"
        before_id = rows[PAGE - 1].id


@pytest.mark.usefixtures("busy")
async def test_failing_a_sessions_unfinished_tasks_reads_only_those(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    fetched, _ = await rows_fetched_by(
        sessions,
        TABLE,
        partial(repository.fail_unfinished, session_id=BUSY, error="gone", at=datetime.now(UTC)),
    )
    async with sessions() as session:
        left = await session.scalar(
            text(
                "SELECT count(*) FROM tasks WHERE session_id = :busy"
                " AND status IN ('queued', 'running')"
            ),
            {"busy": BUSY},
        )
        failed_now = await session.scalar(
            text("SELECT count(*) FROM tasks WHERE status = 'failed' AND error = 'gone'")
        )
    assert (left, failed_now) == (0, UNFINISHED)
    assert fetched <= UNFINISHED, f"{fetched} task rows read for {UNFINISHED} unfinished"


@pytest.mark.usefixtures("busy")
async def test_the_reapers_look_for_tasks_never_handed_over_reads_only_queued_ones(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    fetched, rows = await rows_fetched_by(
        sessions,
        TABLE,
        partial(
            repository.never_accepted_for_update,
            created_before=datetime.now(UTC) + timedelta(seconds=1),
        ),
    )
    assert {(row.session_id, row.status) for row in rows} == {(BUSY, "queued")}
    assert len(rows) == QUEUED
    assert fetched <= QUEUED, f"{fetched} task rows read for {QUEUED} queued"
