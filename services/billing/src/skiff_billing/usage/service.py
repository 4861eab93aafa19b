"""Metrics of this period against the last, and zero-filled daily charts, from the rollups."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from skiff_billing.usage import rollups
from skiff_billing.usage.schemas import ChartOut, Metric, MetricsOut, Point

PERIOD_DAYS = {"day": 1, "week": 7, "month": 30}


def change_pct(value: int, previous: int) -> float | None:
    """How much `value` changed against `previous`, in percent (None when previous is 0)."""
    if previous == 0:
        return None
    return round((value - previous) * 100 / previous, 1)


async def metrics(
    session: AsyncSession, organization_id: str, period: str, today: date
) -> MetricsOut:
    """Rolling periods ending today (UTC): `day` is today, `week` the last 7 days, `month`
    the last 30; each against the same number of days just before."""
    days = PERIOD_DAYS[period]
    start = today - timedelta(days=days - 1)
    previous_start = start - timedelta(days=days)
    now = await rollups.totals(session, organization_id, start, today + timedelta(days=1))
    before = await rollups.totals(session, organization_id, previous_start, start)
    values = {
        name: Metric(
            value=now[name], previous=before[name], change_pct=change_pct(now[name], before[name])
        )
        for name in rollups.METRICS
    }
    return MetricsOut(
        period=period,  # type: ignore[arg-type]
        start=start,
        end=today,
        previous_start=previous_start,
        **values,
    )


async def chart(
    session: AsyncSession, organization_id: str, metric: str, days: int, today: date
) -> ChartOut:
    """One point per day, oldest first, ending today; a day without usage is 0."""
    stored = "credits_used" if metric == "credits" else metric
    start = today - timedelta(days=days - 1)
    values = await rollups.daily(session, organization_id, stored, start, today + timedelta(days=1))
    points = [
        Point(date=day, value=values.get(day, 0))
        for day in (start + timedelta(days=n) for n in range(days))
    ]
    return ChartOut(metric=metric, days=days, data=points)
