"""The audit log filtered by action reads that action's entries, not the log (migration 0008).

An organization with thousands of sign-ins and a handful of role changes; each read counts the
audit rows PostgreSQL fetched for it in its transaction (`pg_stat_xact_user_tables`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial

import asyncpg
import pytest
from skiff_identity.audit import repository
from skiff_kit.db import create_engine, create_session_factory
from skiff_testing.databases import TestDatabase
from skiff_testing.rows_read import rows_fetched_by
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

ORG = "org_audited"
SIGN_INS, ROLE_CHANGES = 3_000, 4

# Entries written straight into the table, the role changes among the oldest (ids sort by
# time), beside as many sign-ins of 50 other organizations: one log holds every organization's.
GROW = """
INSERT INTO identity.audit_log (id, organization_id, actor_type, actor_id, action)
SELECT 'aud_' || lpad(g::text, 8, '0'), $1, 'user', 'usr_1',
       CASE WHEN g <= $3::integer THEN 'member.role_changed' ELSE 'auth.login' END
FROM generate_series(1, $2::integer + $3::integer) g
UNION ALL
SELECT 'aud_x' || lpad(g::text, 8, '0'), 'org_' || g % 50, 'user', 'usr_2', 'auth.login'
FROM generate_series(1, $2::integer) g
"""
TABLE = "audit_log"


@pytest.fixture
async def sessions(
    database: asyncpg.Connection, migrated_database: tuple[TestDatabase, str]
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Identity's sessions, on a log of SIGN_INS sign-ins and ROLE_CHANGES role changes."""
    await database.execute(GROW, ORG, SIGN_INS, ROLE_CHANGES)
    await database.execute("ANALYZE identity.audit_log")
    engine = create_engine(migrated_database[1], schema="identity")
    yield create_session_factory(engine)
    await engine.dispose()


@pytest.mark.parametrize("action", ["member.role_changed", "member.*"])
async def test_a_rare_action_reads_its_own_entries(
    sessions: async_sessionmaker[AsyncSession], action: str
) -> None:
    fetched, entries = await rows_fetched_by(
        sessions,
        TABLE,
        partial(
            repository.page,
            organization_id=ORG,
            actor_id=None,
            action=action,
            target_type=None,
            target_id=None,
            before_id=None,
            limit=51,
        ),
    )

    assert [entry.action for entry in entries] == ["member.role_changed"] * ROLE_CHANGES
    assert fetched <= ROLE_CHANGES
