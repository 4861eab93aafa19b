"""The dispatcher's background chores: recoveries, endpoint health by the clock, retention."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_notification.webhooks.models import (
    ENDPOINT_DISABLED,
    FAILED,
    PENDING,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookMessage,
    WebhookRecovery,
)
from skiff_notification.webhooks.notices import Notifier
from skiff_notification.webhooks.outcomes import WARNING_AHEAD, check_health


async def run_recoveries(session: AsyncSession, *, now: datetime, max_bytes: int) -> int:
    """Make the failed and parked messages of each waiting recovery due now; how many."""
    recoveries = list(
        await session.scalars(
            select(WebhookRecovery)
            .where(WebhookRecovery.status == "running")
            .order_by(WebhookRecovery.created_at)
            .limit(20)
            .with_for_update(skip_locked=True)
        )
    )
    total = 0
    for recovery in recoveries:
        enabled = await session.scalar(
            select(WebhookEndpoint.enabled).where(WebhookEndpoint.id == recovery.endpoint_id)
        )
        count = 0
        if enabled:
            result = await session.execute(
                update(WebhookMessage)
                .where(
                    WebhookMessage.endpoint_id == recovery.endpoint_id,
                    WebhookMessage.status.in_([FAILED, ENDPOINT_DISABLED]),
                    WebhookMessage.created_at >= recovery.since,
                    WebhookMessage.created_at < recovery.until,
                    # Never the ones refused for their size: they can never be sent.
                    func.octet_length(WebhookMessage.body) <= max_bytes,
                )
                .values(status=PENDING, manual=True, next_attempt_at=now)
                .execution_options(synchronize_session=False)
            )
            count = _rowcount(result)
        recovery.status, recovery.messages, recovery.finished_at = "done", count, now
        total += count
    return total


async def park_strays(session: AsyncSession) -> None:
    """Pending messages of a disabled endpoint (stored while it was being disabled) are parked."""
    await session.execute(
        update(WebhookMessage)
        .where(
            WebhookMessage.status == PENDING,
            WebhookMessage.endpoint_id.in_(
                select(WebhookEndpoint.id).where(WebhookEndpoint.enabled.is_(False))
            ),
        )
        .values(status=ENDPOINT_DISABLED, next_attempt_at=None)
        .execution_options(synchronize_session=False)
    )


async def check_endpoints(
    session: AsyncSession, *, now: datetime, disable_after: timedelta, notifier: Notifier
) -> None:
    """Warn and disable by the clock too: retries can be a day apart."""
    endpoints = await session.scalars(
        select(WebhookEndpoint)
        .where(
            WebhookEndpoint.enabled.is_(True),
            WebhookEndpoint.failing_since <= now - (disable_after - WARNING_AHEAD),
        )
        .order_by(WebhookEndpoint.id)
        .limit(100)
        .with_for_update(skip_locked=True)
    )
    for endpoint in list(endpoints):
        await check_health(
            session, endpoint, now=now, disable_after=disable_after, notifier=notifier
        )


async def purge(session: AsyncSession, *, now: datetime, retention: timedelta) -> int:
    """Forget attempts and finished messages older than the retention; how many messages."""
    cutoff = now - retention
    await session.execute(delete(WebhookAttempt).where(WebhookAttempt.at < cutoff))
    result = await session.execute(
        delete(WebhookMessage).where(
            WebhookMessage.created_at < cutoff, WebhookMessage.status != PENDING
        )
    )
    await session.execute(
        delete(WebhookRecovery).where(
            WebhookRecovery.status == "done", WebhookRecovery.created_at < cutoff
        )
    )
    return _rowcount(result)


def _rowcount(result: object) -> int:
    return int(result.rowcount) if isinstance(result, CursorResult) else 0
