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
from sqlalchemy import LargeBinary, bindparam, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_notification.webhooks import repository
from skiff_notification.webhooks.models import (
    ENDPOINT_DISABLED,
    FAILED,
    PENDING,
    SCHEDULED,
    WebhookAttempt,
)
from skiff_notification.webhooks.sender import TOO_LARGE

# NOTIFY channel of the dispatcher: new due messages, and recoveries to run.
CHANNEL = "skiff_webhooks"


# One round trip, one statement compiled once: a message per endpoint (once per event), and a
# NOTIFY (sent at COMMIT) when any pending one was new.
_STORE = text(
    """
    WITH made AS (
        INSERT INTO webhook_messages (id, endpoint_id, organization_id, event_id, event_type,
                                      body, status, attempts, manual, next_attempt_at, created_at)
        SELECT t.id, t.endpoint_id, :org, :event_id, :event_type, :body, t.status, 0, :manual,
               CASE WHEN t.status = 'pending' THEN CAST(:now AS timestamptz) END, :now
        FROM unnest(CAST(:ids AS text[]), CAST(:endpoints AS text[]), CAST(:statuses AS text[]))
             AS t(id, endpoint_id, status)
        ON CONFLICT ON CONSTRAINT uq_webhook_messages_event DO NOTHING
        RETURNING id, status
    )
    SELECT array_agg(id) AS ids,
           CASE WHEN bool_or(status = 'pending') THEN pg_notify(:channel, 'due') END
    FROM made
    """
).bindparams(bindparam("body", type_=LargeBinary))


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
    ids = [new_id("msg") for _ in endpoints]
    statuses = [
        FAILED if oversized else PENDING if enabled else ENDPOINT_DISABLED
        for _, enabled in endpoints
    ]
    found = await session.execute(
        _STORE,
        {
            "ids": ids,
            "endpoints": [endpoint_id for endpoint_id, _ in endpoints],
            "statuses": statuses,
            "org": organization_id,
            "event_id": event_id,
            "event_type": event_type,
            "body": body,
            "manual": manual,
            "now": now,
            "channel": CHANNEL,
        },
    )
    inserted: list[str] = list(found.scalar_one() or [])
    if oversized and inserted:
        await session.execute(
            insert(WebhookAttempt),
            [
                {
                    "message_id": message_id,
                    "endpoint_id": endpoint_id,
                    "at": now,
                    "trigger": SCHEDULED,
                    "error": TOO_LARGE,
                    "duration_ms": 0,
                    "response_excerpt": too_large(len(body), max_bytes),
                }
                for message_id, (endpoint_id, _) in zip(ids, endpoints, strict=True)
                if message_id in inserted
            ],
        )
    return inserted
