"""A user told thousands of things reads only the unread ones for the bell (migration 0007).

Each read counts the notification rows PostgreSQL fetched for it in its transaction
(`pg_stat_xact_user_tables`): the unread count and a page of `?read=false` read the unread
notifications, not the thousands already read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from skiff_contracts import new_id
from skiff_notification.inbox import repository
from skiff_testing.rows_read import rows_fetched
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

READ, UNREAD = 3_000, 7

# Notifications written straight into the table, the read ones older: ids sort by time.
GROW = text(
    """
    INSERT INTO notifications (id, organization_id, user_id, type, title, body, data, read_at)
    SELECT 'ntf_' || lpad(g::text, 8, '0'), :org, :user, 'welcome', 'Hello', 'Hi', '{}',
           CASE WHEN g <= CAST(:read AS integer) THEN now() END
    FROM generate_series(1, CAST(:read AS integer) + CAST(:unread AS integer)) g
    """
)
TABLE = "notifications"

Read = Callable[[AsyncSession, str, str], Awaitable[Any]]


@pytest.fixture
async def told(sessions: async_sessionmaker[AsyncSession]) -> tuple[str, str]:
    """(organization, user) with READ read notifications and UNREAD unread ones."""
    org, user = new_id("org"), new_id("usr")
    async with sessions() as session, session.begin():
        params = {"org": org, "user": user, "read": READ, "unread": UNREAD}
        await session.execute(GROW, params)
        await session.execute(text("ANALYZE notifications"))
    return org, user


async def fetched_by(
    sessions: async_sessionmaker[AsyncSession], told: tuple[str, str], read: Read
) -> tuple[int, Any]:
    """The notification rows PostgreSQL fetched for `read`, and what it answered."""
    async with sessions() as session, session.begin():
        before = await rows_fetched(session, TABLE)
        answer = await read(session, *told)
        return await rows_fetched(session, TABLE) - before, answer


async def test_the_unread_count_reads_only_the_unread(
    sessions: async_sessionmaker[AsyncSession], told: tuple[str, str]
) -> None:
    async def count(session: AsyncSession, org: str, user: str) -> int:
        return await repository.unread_count(session, organization_id=org, user_id=user)

    fetched, answer = await fetched_by(sessions, told, count)
    assert answer == UNREAD
    assert fetched <= UNREAD


async def test_a_page_of_unread_reads_only_the_unread(
    sessions: async_sessionmaker[AsyncSession], told: tuple[str, str]
) -> None:
    async def unread_page(session: AsyncSession, org: str, user: str) -> list[Any]:
        return await repository.page(
            session,
            organization_id=org,
            user_id=user,
            read=False,
            type_=None,
            before_id=None,
            limit=51,
        )

    fetched, answer = await fetched_by(sessions, told, unread_page)
    assert len(answer) == UNREAD
    assert fetched <= UNREAD
