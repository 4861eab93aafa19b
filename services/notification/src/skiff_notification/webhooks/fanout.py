"""Public events become messages: one per subscribed endpoint, in the consumer's transaction.

The body `{"type", "timestamp", "data"}` is encoded here once and stored; every attempt sends
(and signs) exactly these bytes. A body over the cap is refused here, visibly: the message is
kept as `failed` with one `too_large` attempt that says why, and is never sent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from skiff_contracts import Envelope, EventPayload, new_id
from skiff_contracts.public import public_data
from sqlalchemy import exists, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_notification.webhooks import repository
from skiff_notification.webhooks.models import (
    ENDPOINT_DISABLED,
    FAILED,
    PENDING,
    SCHEDULED,
    WebhookAttempt,
    WebhookMessage,
)
from skiff_notification.webhooks.sender import TOO_LARGE

# NOTIFY channel of the dispatcher: new due messages, and recoveries to run.
CHANNEL = "skiff_webhooks"


class Body(msgspec.Struct):
    type: str
    timestamp: datetime
    data: dict[str, Any]


def encode_body(event_type: str, timestamp: datetime, data: dict[str, Any]) -> bytes:
    return msgspec.json.encode(Body(type=event_type, timestamp=timestamp, data=data))


def too_large(size: int, cap: int) -> str:
    return f"the message body is {size} bytes; the limit is {cap} bytes, so it is never sent"


async def fan_out(
    session: AsyncSession, envelope: Envelope, payload: EventPayload, *, max_bytes: int
) -> int:
    """Store the messages of one event; how many endpoints take it."""
    if not envelope.organization_id:
        return 0
    endpoints = await repository.subscribed(session, envelope.organization_id, envelope.type)
    if not endpoints:
        return 0
    body = encode_body(envelope.type, envelope.time, public_data(envelope.type, payload))
    await store(
        session,
        organization_id=envelope.organization_id,
        event_id=envelope.id,
        event_type=envelope.type,
        body=body,
        endpoints=endpoints,
        max_bytes=max_bytes,
    )
    return len(endpoints)


async def store(
    session: AsyncSession,
    *,
    organization_id: str,
    event_id: str,
    event_type: str,
    body: bytes,
    endpoints: list[tuple[str, bool]],
    max_bytes: int,
    manual: bool = False,
) -> list[str]:
    """Insert one message per endpoint (once per event); the ids of those inserted."""
    now = datetime.now(UTC)
    oversized = len(body) > max_bytes
    rows = [
        {
            "id": new_id("msg"),
            "endpoint_id": endpoint_id,
            "organization_id": organization_id,
            "event_id": event_id,
            "event_type": event_type,
            "body": body,
            "status": FAILED if oversized else PENDING if enabled else ENDPOINT_DISABLED,
            "attempts": 0,
            "manual": manual,
            "next_attempt_at": now if enabled and not oversized else None,
            "created_at": now,
        }
        for endpoint_id, enabled in endpoints
    ]
    statement = (
        insert(WebhookMessage)
        .values(rows)
        .on_conflict_do_nothing(constraint="uq_webhook_messages_event")
        .returning(WebhookMessage.id)
    )
    if not oversized:
        # One round trip: the rows, and a NOTIFY (sent at COMMIT) only if any was new.
        made = statement.cte("made")
        found = await session.execute(
            select(
                select(func.array_agg(made.c.id)).scalar_subquery(),
                func.pg_notify(CHANNEL, "due"),
            ).where(exists(select(made.c.id)))
        )
        first = found.first()
        return list(first[0]) if first is not None else []
    inserted = list(await session.scalars(statement))
    if inserted:
        await session.execute(
            insert(WebhookAttempt),
            [
                {
                    "message_id": row["id"],
                    "endpoint_id": row["endpoint_id"],
                    "at": now,
                    "trigger": SCHEDULED,
                    "error": TOO_LARGE,
                    "duration_ms": 0,
                    "response_excerpt": too_large(len(body), max_bytes),
                }
                for row in rows
                if row["id"] in inserted
            ],
        )
    return inserted
