"""A page of an endpoint's deliveries of one status reads that page, not the endpoint's whole
log (migration 0008).

An endpoint with thousands of delivered messages and a few failed ones among them, beside
other endpoints' messages of every status; each read counts the message rows PostgreSQL
fetched for it in its transaction (`pg_stat_xact_user_tables`).
"""

from __future__ import annotations

import pytest
from skiff_contracts import new_id
from skiff_notification.webhooks import repository
from skiff_notification.webhooks.models import MESSAGE_STATUSES, WebhookMessage
from skiff_testing.rows_read import rows_fetched_by
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

SUCCEEDED, FAILED, OTHERS, PAGE = 3_000, 60, 20, 50
TABLE = "webhook_messages"

ENDPOINTS = text(
    """
    INSERT INTO webhook_endpoints (id, organization_id, url, event_types, secret,
                                   created_at, updated_at)
    SELECT e, 'org_of_' || e, 'https://hooks.example.com/skiff', '["*"]', 'whsec_x', now(), now()
    FROM unnest(CAST(:ids AS text[])) e
    """
)
# Messages written straight into the table (ids sort by time). The busy endpoint's are the even
# ids: every 102nd failed, the rest delivered. The odd ones are OTHERS endpoints', in each
# status in turn (MESSAGE_STATUSES; the pending ones due in an hour). The tests plan
# generically (skiff_testing.servers), from the whole table's statistics: many endpoints and
# every status, as in production.
GROW = text(
    """
    INSERT INTO webhook_messages (id, endpoint_id, organization_id, event_id, event_type, body,
                                  status, attempts, next_attempt_at, created_at)
    SELECT 'msg_' || lpad(g::text, 8, '0'),
           CASE WHEN g % 2 = 0 THEN :busy ELSE 'wh_other_' || g / 2 % CAST(:others AS integer) END,
           'org_x', 'evt_' || g, 'sandbox.session.started', convert_to('{}', 'UTF8'),
           CASE WHEN g % 2 = 0 THEN CASE WHEN g % 102 = 0 THEN 'failed' ELSE 'succeeded' END
                ELSE (CAST(:statuses AS text[]))[1 + g / 2 % 4] END,
           1, CASE WHEN g % 2 = 1 AND g / 2 % 4 = 0 THEN now() + interval '1 hour' END, now()
    FROM generate_series(1, 2 * (CAST(:succeeded AS integer) + CAST(:failed AS integer))) g
    """
)


@pytest.fixture
async def busy(sessions: async_sessionmaker[AsyncSession]) -> str:
    """The busy endpoint: SUCCEEDED delivered messages, FAILED failed ones among them."""
    busy = new_id("wh")
    others = [f"wh_other_{n}" for n in range(OTHERS)]
    async with sessions() as session, session.begin():
        await session.execute(ENDPOINTS, {"ids": [busy, *others]})
        params = {"busy": busy, "others": OTHERS, "succeeded": SUCCEEDED, "failed": FAILED}
        await session.execute(GROW, {**params, "statuses": list(MESSAGE_STATUSES)})
        await session.execute(text("ANALYZE webhook_messages"))
    return busy


async def fetched_by(
    sessions: async_sessionmaker[AsyncSession], endpoint_id: str, status: str, before_id: str | None
) -> tuple[int, list[WebhookMessage]]:
    """The message rows PostgreSQL fetched for a page of `?status=`, and the page."""

    async def page(session: AsyncSession) -> list[WebhookMessage]:
        return await repository.messages_page(
            session, endpoint_id, status=status, before_id=before_id, limit=PAGE + 1
        )

    return await rows_fetched_by(sessions, TABLE, page)


@pytest.mark.parametrize(("status", "total"), [("failed", FAILED), ("succeeded", SUCCEEDED)])
async def test_a_page_of_one_status_reads_only_that_page(
    sessions: async_sessionmaker[AsyncSession], busy: str, status: str, total: int
) -> None:
    before_id: str | None = None
    for expected in (PAGE + 1, min(PAGE + 1, total - PAGE)):  # a page, then past its cursor
        fetched, rows = await fetched_by(sessions, busy, status, before_id)
        assert len(rows) == expected
        assert {(row.endpoint_id, row.status) for row in rows} == {(busy, status)}
        assert fetched <= len(rows)  # every row fetched is one shown
        before_id = rows[PAGE - 1].id if len(rows) > PAGE else None
