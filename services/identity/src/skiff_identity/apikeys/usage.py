"""Per-key usage: the gateway's batched counts summed per day and status class, then served."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from skiff_contracts import Envelope
from skiff_contracts.events.gateway import UsageReported
from skiff_messaging.service_bus import Subscription
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_identity.apikeys import repository
from skiff_identity.apikeys.schemas import ApiKeyUsageOut, UsageDay

DURABLE = "identity--gateway-usage-reported"


async def on_usage_reported(
    session: AsyncSession, envelope: Envelope, event: UsageReported
) -> None:
    """Add one replica's batch; the consumer's inbox makes a redelivered batch count once."""
    for row in event.usage:
        if row.requests > 0:
            await repository.add_usage(
                session,
                key_id=row.key_id,
                organization_id=row.organization_id,
                day=row.day,
                status_class=row.status_class,
                requests=row.requests,
            )


SUBSCRIPTION = Subscription(
    stream="GATEWAY",
    durable=DURABLE,
    handlers={UsageReported.event_type: (UsageReported, on_usage_reported)},
)


async def usage_of(session: AsyncSession, *, key_id: str, days: int) -> ApiKeyUsageOut:
    """The last `days` days (UTC, today included), each with its requests by status class."""
    end = datetime.now(UTC).date()
    start = end - timedelta(days=days - 1)
    by_day: dict[date, dict[str, int]] = {}
    for day, status_class, requests in await repository.usage(
        session, key_id=key_id, start=start, end=end
    ):
        by_day.setdefault(day, {})[status_class] = requests
    rows = [
        UsageDay(day=day, requests=sum(classes.values()), by_status_class=classes)
        for day, classes in sorted(by_day.items())
    ]
    return ApiKeyUsageOut(
        key_id=key_id, start=start, end=end, total=sum(r.requests for r in rows), days=rows
    )
