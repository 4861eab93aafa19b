"""Sending on request: replay one message, recover a window in the background, test ping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from skiff_contracts import new_id
from skiff_contracts.public import WebhookPing, public_data
from skiff_kit.errors import NotFound, ValidationFailed
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_notification.webhooks import fanout, repository
from skiff_notification.webhooks.models import (
    PENDING,
    WebhookEndpoint,
    WebhookMessage,
    WebhookRecovery,
)
from skiff_notification.webhooks.service import require_enabled

RECOVER_WINDOW = timedelta(days=14)


async def replay(
    session: AsyncSession, endpoint: WebhookEndpoint, message_id: str
) -> WebhookMessage:
    """Make the message due now, for one attempt (whatever its status)."""
    require_enabled(endpoint)
    message = await repository.message(session, endpoint.id, message_id, lock=True)
    if message is None:
        raise NotFound("No such delivery of this endpoint.", code="delivery_not_found")
    message.status, message.manual = PENDING, True
    message.next_attempt_at = datetime.now(UTC)
    await session.execute(select(func.pg_notify(fanout.CHANNEL, "due")))
    return message


async def recover(
    session: AsyncSession, endpoint: WebhookEndpoint, since: datetime, until: datetime | None
) -> WebhookRecovery:
    """Record a recovery of `[since, until)`; the dispatcher makes its messages due."""
    require_enabled(endpoint)
    now = datetime.now(UTC)
    end = until or now
    problems = []
    if since < now - RECOVER_WINDOW:
        problems.append({"field": "since", "message": "at most 14 days ago"})
    if end <= since:
        problems.append({"field": "until", "message": "must be after since"})
    if problems:
        raise ValidationFailed("The recovery window is not valid.", details={"fields": problems})
    recovery = WebhookRecovery(
        id=new_id("rcv"),
        endpoint_id=endpoint.id,
        organization_id=endpoint.organization_id,
        since=since,
        until=end,
        status="running",
        messages=0,
        created_at=now,
    )
    session.add(recovery)
    await session.flush()
    await session.execute(select(func.pg_notify(fanout.CHANNEL, "recover")))
    return recovery


async def ping(
    session: AsyncSession, endpoint: WebhookEndpoint, *, max_bytes: int
) -> WebhookMessage:
    """A `skiff.ping` message to this endpoint alone, through the same dispatcher and guard."""
    require_enabled(endpoint)
    now = datetime.now(UTC)
    event = WebhookPing(
        endpoint_id=endpoint.id,
        organization_id=endpoint.organization_id,
        message="A test message from Skiff: this endpoint receives signed webhooks.",
        sent_at=now,
    )
    body = fanout.encode_body(event.event_type, now, public_data(event.event_type, event))
    (message_id,) = await fanout.store(
        session,
        organization_id=endpoint.organization_id,
        event_id=new_id("ping"),
        event_type=event.event_type,
        body=body,
        endpoints=[(endpoint.id, True)],
        max_bytes=max_bytes,
        manual=True,
    )
    found = await repository.message(session, endpoint.id, message_id)
    assert found is not None
    return found
