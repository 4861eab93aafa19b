"""Bumping daily rollups, in the caller's transaction (the event's inbox row, or the debit's).

Metrics: `sessions`, `tasks`, `container_minutes`, `api_calls`, `credits_used`,
`deployments`, `agent_runs`, `workflow_executions`.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_billing.models import UsageDaily

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
    if by == 0:
        return
    statement = insert(UsageDaily).values(
        organization_id=organization_id, day=day, metric=metric, value=by
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["organization_id", "day", "metric"],
            set_={"value": UsageDaily.value + statement.excluded.value},
        )
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
