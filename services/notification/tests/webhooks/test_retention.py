"""The delivery log keeps 90 days; older attempts and finished messages go, pending ones stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from skiff_contracts import new_id
from skiff_notification.webhooks.maintenance import purge
from skiff_notification.webhooks.models import WebhookAttempt, WebhookEndpoint, WebhookMessage
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


async def test_purge_forgets_what_is_older_than_the_retention(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    now = datetime.now(UTC)
    endpoint_id = new_id("wh")
    async with sessions() as session, session.begin():
        session.add(
            WebhookEndpoint(
                id=endpoint_id,
                organization_id=new_id("org"),
                url="https://x.example/",
                description="",
                event_types=["*"],
                enabled=True,
                secret="whsec_x",
                created_at=now,
                updated_at=now,
            )
        )
        await session.flush()
        for age_days, status in [
            (100, "succeeded"),
            (100, "pending"),
            (100, "failed"),
            (10, "succeeded"),
        ]:
            at = now - timedelta(days=age_days)
            message_id = new_id("msg")
            session.add(
                WebhookMessage(
                    id=message_id,
                    endpoint_id=endpoint_id,
                    organization_id="org_x",
                    event_id=new_id("evt"),
                    event_type="sandbox.session.started",
                    body=b"{}",
                    status=status,
                    attempts=1,
                    manual=False,
                    created_at=at,
                    next_attempt_at=now if status == "pending" else None,
                )
            )
            await session.flush()
            session.add(
                WebhookAttempt(
                    message_id=message_id,
                    endpoint_id=endpoint_id,
                    at=at,
                    trigger="scheduled",
                    status_code=200,
                    duration_ms=3,
                    response_excerpt="",
                )
            )
    async with sessions() as session, session.begin():
        removed = await purge(session, now=now, retention=timedelta(days=90))
    async with sessions() as session:
        left = sorted(
            (s, (now - c).days)
            for s, c in await session.execute(
                select(WebhookMessage.status, WebhookMessage.created_at)
            )
        )
        attempts = await session.scalar(select(func.count()).select_from(WebhookAttempt))
    assert removed == 2
    assert left == [("pending", 100), ("succeeded", 10)]
    assert attempts == 1
