"""Every query of endpoints, messages and attempts (the dispatcher's claims live in claims.py)."""

from __future__ import annotations

from collections.abc import Sequence

from skiff_kit.pagination import newest_first
from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_notification.webhooks.models import (
    ENDPOINT_DISABLED,
    PENDING,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookMessage,
)


async def endpoint(
    session: AsyncSession, organization_id: str, endpoint_id: str, *, lock: bool = False
) -> WebhookEndpoint | None:
    query = select(WebhookEndpoint).where(
        WebhookEndpoint.id == endpoint_id, WebhookEndpoint.organization_id == organization_id
    )
    return await session.scalar(query.with_for_update() if lock else query)


async def endpoints_page(
    session: AsyncSession, organization_id: str, *, before_id: str | None, limit: int
) -> list[WebhookEndpoint]:
    query = select(WebhookEndpoint).where(WebhookEndpoint.organization_id == organization_id)
    return list(await session.scalars(newest_first(query, WebhookEndpoint.id, before_id, limit)))


async def count_endpoints(session: AsyncSession, organization_id: str) -> int:
    found = await session.scalar(
        select(func.count()).where(WebhookEndpoint.organization_id == organization_id)
    )
    return int(found or 0)


async def subscribed(
    session: AsyncSession, organization_id: str, event_type: str
) -> list[tuple[str, bool]]:
    """(id, enabled) of the organization's endpoints that take `event_type` (or `*`)."""
    rows = await session.execute(
        select(WebhookEndpoint.id, WebhookEndpoint.enabled).where(
            WebhookEndpoint.organization_id == organization_id,
            WebhookEndpoint.event_types.has_any(array([event_type, "*"])),
        )
    )
    return [(row.id, row.enabled) for row in rows]


async def message(
    session: AsyncSession, endpoint_id: str, message_id: str, *, lock: bool = False
) -> WebhookMessage | None:
    query = select(WebhookMessage).where(
        WebhookMessage.id == message_id, WebhookMessage.endpoint_id == endpoint_id
    )
    return await session.scalar(query.with_for_update() if lock else query)


async def messages_page(
    session: AsyncSession,
    endpoint_id: str,
    *,
    status: str | None,
    before_id: str | None,
    limit: int,
) -> list[WebhookMessage]:
    query = select(WebhookMessage).where(WebhookMessage.endpoint_id == endpoint_id)
    if status is not None:
        query = query.where(WebhookMessage.status == status)
    return list(await session.scalars(newest_first(query, WebhookMessage.id, before_id, limit)))


async def attempts_of(
    session: AsyncSession, message_ids: Sequence[str]
) -> dict[str, list[WebhookAttempt]]:
    by_message: dict[str, list[WebhookAttempt]] = {m: [] for m in message_ids}
    if not message_ids:
        return by_message
    rows = await session.scalars(
        select(WebhookAttempt)
        .where(WebhookAttempt.message_id.in_(message_ids))
        .order_by(WebhookAttempt.id)
    )
    for row in rows:
        by_message[row.message_id].append(row)
    return by_message


async def park_pending(session: AsyncSession, endpoint_id: str) -> int:
    """Every pending message of a disabled endpoint becomes `endpoint_disabled` (kept)."""
    result = await session.execute(
        update(WebhookMessage)
        .where(WebhookMessage.endpoint_id == endpoint_id, WebhookMessage.status == PENDING)
        .values(status=ENDPOINT_DISABLED, next_attempt_at=None)
    )
    return int(result.rowcount) if isinstance(result, CursorResult) else 0
