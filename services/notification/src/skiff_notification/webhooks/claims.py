"""The dispatcher's claim: one statement, one round trip, on the dispatcher's own connection.

It takes due messages oldest first, at most `room` per endpoint (its concurrency cap and rate
limit left in this dispatcher), skips rows another dispatcher holds (`FOR UPDATE SKIP
LOCKED`), and leases them: a claimed message stays `pending` with `next_attempt_at` at the end
of the lease, so a dispatcher that dies mid-send leaves it due again (at least once, the same
`webhook-id`), and no other replica takes it meanwhile.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from skiff_notification.webhooks.signing import active_secrets

_CLAIM = """
WITH room(endpoint_id, n) AS (
    SELECT * FROM unnest($1::text[], $2::int[])
),
due AS (
    SELECT id FROM (
        SELECT m.id, m.next_attempt_at,
               row_number() OVER (PARTITION BY m.endpoint_id ORDER BY m.next_attempt_at) AS rank,
               coalesce(r.n, $3) AS room
        FROM webhook_messages m
        JOIN webhook_endpoints e ON e.id = m.endpoint_id AND e.enabled
        LEFT JOIN room r ON r.endpoint_id = m.endpoint_id
        WHERE m.status = 'pending' AND m.next_attempt_at <= $4
    ) ranked
    WHERE rank <= room
    ORDER BY next_attempt_at
    LIMIT $5
),
picked AS (
    SELECT m.id FROM webhook_messages m
    WHERE m.id IN (SELECT id FROM due) AND m.status = 'pending' AND m.next_attempt_at <= $4
    FOR UPDATE SKIP LOCKED
)
UPDATE webhook_messages m SET next_attempt_at = $6
FROM picked, webhook_endpoints e
WHERE m.id = picked.id AND e.id = m.endpoint_id
RETURNING m.id, m.endpoint_id, m.event_type, m.body, m.attempts, m.manual,
          e.url, e.secret, e.previous_secret, e.previous_secret_until, e.rate_limit_per_second
"""
_RELEASE = "UPDATE webhook_messages SET next_attempt_at = $2 WHERE id = ANY($1::text[])"


@dataclass(frozen=True, slots=True)
class Target:
    """Where and how to send: the endpoint as of the claim."""

    id: str
    url: str
    secrets: list[str]
    rate_limit_per_second: int | None


@dataclass(frozen=True, slots=True)
class Claimed:
    id: str
    endpoint_id: str
    event_type: str
    body: bytes
    attempts: int
    manual: bool


async def claim(
    connection: Any,
    *,
    now: datetime,
    lease_until: datetime,
    rooms: Mapping[str, int],
    per_endpoint: int,
    limit: int,
) -> list[tuple[Claimed, Target]]:
    """Lease what may be sent now (`rooms` overrides `per_endpoint` for known endpoints)."""
    rows = await connection.fetch(
        _CLAIM, list(rooms), list(rooms.values()), per_endpoint, now, limit, lease_until
    )
    return [
        (
            Claimed(
                id=row["id"],
                endpoint_id=row["endpoint_id"],
                event_type=row["event_type"],
                body=bytes(row["body"]),
                attempts=row["attempts"],
                manual=row["manual"],
            ),
            Target(
                id=row["endpoint_id"],
                url=row["url"],
                secrets=active_secrets(
                    row["secret"], row["previous_secret"], row["previous_secret_until"], now
                ),
                rate_limit_per_second=row["rate_limit_per_second"],
            ),
        )
        for row in rows
    ]


async def release(connection: Any, ids: list[str], *, now: datetime) -> None:
    """Give back leases taken beyond an endpoint's room (first claim of a rate-limited one)."""
    if ids:
        await connection.execute(_RELEASE, ids, now)
