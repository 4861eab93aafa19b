"""A user told thousands of things reads only the unread ones for the bell (migration 0007),
and a page of one type reads that type's page (migration 0008).

Each read counts the notification rows PostgreSQL fetched for it in its transaction
(`pg_stat_xact_user_tables`): the unread count and a page of `?read=false` read the unread
notifications, not the thousands already read; a page of `?type=` (with `?read=false` too)
reads that type's notifications, not the thousands of another type.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from skiff_contracts import new_id
from skiff_notification.inbox import repository
from skiff_testing.rows_read import rows_fetched_by
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
# The user's COMMON session_failed notifications, every other one read, with RARE unread
# deployment_failed ones among them (the rare ones run from the oldest to the newest), between
# other users' notifications of every kind: ids sort by time, the user's are the even ones.
# The tests plan generically (skiff_testing.servers), from the whole table's statistics: many
# users and kinds, as in production, not one user's two.
GROW_TYPES = text(
    """
    INSERT INTO notifications (id, organization_id, user_id, type, title, body, data, read_at)
    SELECT 'ntf_' || lpad(g::text, 8, '0'),
           CASE WHEN g % 2 = 0 THEN :org ELSE 'org_other_' || g % 40 END,
           CASE WHEN g % 2 = 0 THEN :user ELSE 'usr_other_' || g % 40 END,
           CASE WHEN g % 2 = 1 THEN (CAST(:kinds AS text[]))[1 + g % 7]
                WHEN g % 102 = 0 THEN 'deployment_failed' ELSE 'session_failed' END,
           'Hello', 'Hi', '{}',
           CASE WHEN g % 102 <> 0 AND g % 4 IN (0, 1) THEN now() END
    FROM generate_series(1, 2 * (CAST(:common AS integer) + CAST(:rare AS integer))) g
    """
)
KINDS = [
    "session_failed",
    "credits_low",
    "deployment_completed",
    "deployment_failed",
    "webhook_failing",
    "webhook_disabled",
    "purchase_failed",
]
COMMON, RARE, PAGE = 3_000, 60, 50
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


@pytest.fixture
async def told_two_types(sessions: async_sessionmaker[AsyncSession]) -> tuple[str, str]:
    """(organization, user) with COMMON session_failed notifications, RARE deployment_failed."""
    org, user = new_id("org"), new_id("usr")
    async with sessions() as session, session.begin():
        params = {"org": org, "user": user, "common": COMMON, "rare": RARE, "kinds": KINDS}
        await session.execute(GROW_TYPES, params)
        await session.execute(text("ANALYZE notifications"))
    return org, user


async def fetched_by(
    sessions: async_sessionmaker[AsyncSession], told: tuple[str, str], read: Read
) -> tuple[int, Any]:
    """The notification rows PostgreSQL fetched for `read`, and what it answered."""
    return await rows_fetched_by(sessions, TABLE, lambda session: read(session, *told))


def page_of(kind: str | None, read: bool | None, before_id: str | None) -> Read:
    """A page of the user's notifications (`?type=`, `?read=`, `?cursor=`)."""

    async def page(session: AsyncSession, org: str, user: str) -> list[Any]:
        return await repository.page(
            session,
            organization_id=org,
            user_id=user,
            read=read,
            type_=kind,
            before_id=before_id,
            limit=PAGE + 1,
        )

    return page


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
    fetched, answer = await fetched_by(sessions, told, page_of(None, False, None))
    assert len(answer) == UNREAD
    assert fetched <= UNREAD


@pytest.mark.parametrize(
    ("kind", "read", "total"),
    [
        ("deployment_failed", None, RARE),
        ("deployment_failed", False, RARE),
        # Half the user's session_failed ones are read: the unread ones are a page too.
        ("session_failed", False, COMMON // 2),
    ],
)
async def test_a_page_of_one_type_reads_only_that_page(
    sessions: async_sessionmaker[AsyncSession],
    told_two_types: tuple[str, str],
    kind: str,
    read: bool | None,
    total: int,
) -> None:
    before_id: str | None = None
    for expected in (PAGE + 1, min(PAGE + 1, total - PAGE)):  # a page, then past its cursor
        page = page_of(kind, read, before_id)
        fetched, answer = await fetched_by(sessions, told_two_types, page)
        assert len(answer) == expected
        assert {row.type for row in answer} == {kind}
        assert read is None or all(row.read_at is None for row in answer)
        assert fetched <= len(answer)  # every row fetched is one shown
        before_id = answer[PAGE - 1].id if len(answer) > PAGE else None
