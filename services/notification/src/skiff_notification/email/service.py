"""Queueing an email: one outbox row per source event, announced by NOTIFY at commit."""

from __future__ import annotations

from datetime import UTC, datetime

from skiff_contracts import new_id
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_notification.email.models import PENDING, OutgoingEmail
from skiff_notification.email.templates import Rendered

CHANNEL = "skiff_email_outbox"


async def enqueue(
    session: AsyncSession,
    *,
    source_event_id: str,
    kind: str,
    to: str,
    message: Rendered,
    unsubscribe_url: str | None = None,
) -> bool:
    """Queue the email of one event to one address, once; False when it was queued before."""
    now = datetime.now(UTC)
    email_id = await session.scalar(
        insert(OutgoingEmail)
        .values(
            id=new_id("eml"),
            source_event_id=source_event_id,
            kind=kind,
            to_address=to,
            subject=message.subject,
            text_body=message.text,
            unsubscribe_url=unsubscribe_url,
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        .on_conflict_do_nothing(constraint="uq_email_outbox_source_to")
        .returning(OutgoingEmail.id)
    )
    if email_id is None:
        return False
    await session.execute(select(func.pg_notify(CHANNEL, email_id)))  # sent at COMMIT
    return True
