"""Bumping daily rollups, in the caller's transaction (the event's inbox row, or the debit's).

Metrics: `sessions`, `tasks`, `container_minutes`, `api_calls`, `credits_used`,
`deployments`, `agent_runs`, `workflow_executions`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import BigInteger, Date, Text, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_billing.models import UsageDaily

# Any number of metrics in one statement: the database function the charges use too.
_BUMP = text("SELECT bump_usage(:organization_id, :day, :metrics, :values)").bindparams(
    bindparam("day", type_=Date),
    bindparam("metrics", type_=ARRAY(Text)),
    bindparam("values", type_=ARRAY(BigInteger)),
)

METRICS = (
    "sessions",
    "container_minutes",
    "tasks",
    "deployments",
    "agent_runs",
    "workflow_executions",
    "api_calls",
    "credits_used",
)


async def bump(
    session: AsyncSession, organization_id: str, day: date, metric: str, by: int
) -> None:
    """Add `by` to the organization's `metric` on `day` (one upsert)."""
    await bump_many(session, organization_id, day, {metric: by})


async def bump_many(
    session: AsyncSession, organization_id: str, day: date, metrics: Mapping[str, int]
) -> None:
    """Add each of `metrics` to the organization's counts of `day`, in one upsert."""
    # One order: two transactions bumping the same rows cannot deadlock.
    counts = sorted((metric, by) for metric, by in metrics.items() if by != 0)
    if not counts:
        return
    await session.execute(
        _BUMP,
        {
            "organization_id": organization_id,
            "day": day,
            "metrics": [metric for metric, _ in counts],
            "values": [by for _, by in counts],
        },
    )


async def totals(
    session: AsyncSession, organization_id: str, start: date, end: date
) -> dict[str, int]:
    """Sum of each metric over the days [start, end)."""
    rows = await session.execute(
        select(UsageDaily.metric, UsageDaily.value).where(
            UsageDaily.organization_id == organization_id,
            UsageDaily.day >= start,
            UsageDaily.day < end,
        )
    )
    sums = dict.fromkeys(METRICS, 0)
    for metric, value in rows:
        sums[metric] = sums.get(metric, 0) + int(value)
    return sums


async def total(
    session: AsyncSession, organization_id: str, metric: str, start: date, end: date
) -> int:
    """The metric summed over the days [start, end)."""
    value = await session.scalar(
        select(func.coalesce(func.sum(UsageDaily.value), 0)).where(
            UsageDaily.organization_id == organization_id,
            UsageDaily.metric == metric,
            UsageDaily.day >= start,
            UsageDaily.day < end,
        )
    )
    return int(value or 0)


async def daily(
    session: AsyncSession, organization_id: str, metric: str, start: date, end: date
) -> dict[date, int]:
    """The metric's value per day in [start, end) (days without a row are absent)."""
    rows = await session.execute(
        select(UsageDaily.day, UsageDaily.value).where(
            UsageDaily.organization_id == organization_id,
            UsageDaily.metric == metric,
            UsageDaily.day >= start,
            UsageDaily.day < end,
        )
    )
    return {day: int(value) for day, value in rows}
