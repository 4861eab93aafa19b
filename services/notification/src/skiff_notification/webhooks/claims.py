"""The dispatcher's claim: due messages, a few per endpoint, leased with SKIP LOCKED.

A claimed message stays `pending`; its `next_attempt_at` moves to the end of the lease, so a
dispatcher that dies mid-send leaves it due again when the lease ends (at least once, the same
`webhook-id`), and no other replica takes it meanwhile.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_notification.webhooks.models import WebhookEndpoint
from skiff_notification.webhooks.signing import active_secrets

_SCAN = text(
    """
    SELECT id, endpoint_id FROM (
        SELECT id, endpoint_id, next_attempt_at,
               row_number() OVER (PARTITION BY endpoint_id ORDER BY next_attempt_at) AS rank
        FROM webhook_messages
        WHERE status = 'pending' AND next_attempt_at <= :now
          AND NOT (endpoint_id = ANY(:busy))
    ) due
    WHERE rank <= :per_endpoint
    ORDER BY next_attempt_at
    LIMIT :limit
    """
)
_LEASE = text(
    """
    UPDATE webhook_messages m SET next_attempt_at = :lease_until
    FROM (
        SELECT id FROM webhook_messages
        WHERE id = ANY(:ids) AND status = 'pending' AND next_attempt_at <= :now
        FOR UPDATE SKIP LOCKED
    ) picked
    WHERE m.id = picked.id
    RETURNING m.id, m.endpoint_id, m.event_type, m.body, m.attempts, m.manual
    """
)
_PARK = text(
    """
    UPDATE webhook_messages SET status = 'endpoint_disabled', next_attempt_at = NULL
    WHERE endpoint_id = ANY(:endpoints) AND status = 'pending'
    """
)


@dataclass(frozen=True, slots=True)
class Target:
    """Where and how to send: the endpoint as of the claim."""

    id: str
    url: str
    secrets: list[str]
    rate_limit_per_second: int | None
    enabled: bool


@dataclass(frozen=True, slots=True)
class Claimed:
    id: str
    endpoint_id: str
    event_type: str
    body: bytes
    attempts: int
    manual: bool


async def scan(
    session: AsyncSession, *, now: datetime, busy: Collection[str], per_endpoint: int, limit: int
) -> list[tuple[str, str]]:
    """(message id, endpoint id) of due messages, oldest first, skipping busy endpoints."""
    rows = await session.execute(
        _SCAN,
        {"now": now, "busy": list(busy), "per_endpoint": per_endpoint, "limit": limit},
    )
    return [(row.id, row.endpoint_id) for row in rows]


async def targets(
    session: AsyncSession, endpoint_ids: Collection[str], now: datetime
) -> dict[str, Target]:
    rows = await session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.id.in_(list(endpoint_ids)))
    )
    return {
        row.id: Target(
            id=row.id,
            url=row.url,
            secrets=active_secrets(row.secret, row.previous_secret, row.previous_secret_until, now),
            rate_limit_per_second=row.rate_limit_per_second,
            enabled=row.enabled,
        )
        for row in rows
    }


async def lease(
    session: AsyncSession, ids: list[str], *, now: datetime, lease_until: datetime
) -> list[Claimed]:
    """Lock and lease these messages if still due and not taken by another dispatcher."""
    if not ids:
        return []
    rows = await session.execute(_LEASE, {"ids": ids, "now": now, "lease_until": lease_until})
    return [
        Claimed(
            id=row.id,
            endpoint_id=row.endpoint_id,
            event_type=row.event_type,
            body=bytes(row.body),
            attempts=row.attempts,
            manual=row.manual,
        )
        for row in rows
    ]


async def park(session: AsyncSession, endpoint_ids: list[str]) -> None:
    """Pending messages of endpoints found disabled are kept as `endpoint_disabled`."""
    if endpoint_ids:
        await session.execute(_PARK, {"endpoints": endpoint_ids})
