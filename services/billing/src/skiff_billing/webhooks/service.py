"""One provider event, applied once, in the transaction that records it. Never commits.

The event id is claimed first (a row in `provider_events`); the effect is then keyed by the
business object (see purchases). An event about a payment billing has not seen paid yet (a
refund that overtook its completion) is parked with its payload; when a later event marks
that payment paid, the parked events are applied in arrival order in the same transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from skiff_kit.logging import get_logger
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_billing.webhooks import repository
from skiff_billing.webhooks.outcome import Outcome

Apply = Callable[[AsyncSession, bytes], Awaitable[Outcome]]
log = get_logger("skiff.billing.webhooks")


async def receive(
    session: AsyncSession,
    *,
    provider: str,
    event_id: str,
    event_type: str,
    body: bytes,
    apply: Apply,
    now: datetime,
) -> str:
    """Claim and apply one event; what became of it (`duplicate` when seen before)."""
    record = await repository.claim(session, provider, event_id, event_type, now)
    if record is None:
        return "duplicate"
    outcome = await apply(session, body)
    record.status, record.waiting_for = outcome.status, outcome.waiting_for
    record.payload = body if outcome.status == "parked" else None
    record.applied_at = now if outcome.status == "applied" else None
    log.info(
        "provider_event",
        provider=provider,
        event_id=event_id,
        event_type=event_type,
        status=outcome.status,
        waiting_for=outcome.waiting_for,
        reason=outcome.reason or None,
    )
    if outcome.paid is not None:
        await unpark(session, provider=provider, payment_id=outcome.paid, apply=apply, now=now)
    return outcome.status


async def unpark(
    session: AsyncSession, *, provider: str, payment_id: str, apply: Apply, now: datetime
) -> None:
    """Apply the events that waited for `payment_id` (a refund may wait on nothing else)."""
    for waiting in await repository.parked(session, provider, payment_id):
        outcome = await apply(session, waiting.payload or b"")
        if outcome.status == "parked":
            continue
        waiting.status, waiting.waiting_for, waiting.payload = outcome.status, None, None
        waiting.applied_at = now if outcome.status == "applied" else None
        log.info(
            "provider_event_unparked",
            provider=provider,
            event_id=waiting.event_id,
            event_type=waiting.type,
            status=outcome.status,
        )
