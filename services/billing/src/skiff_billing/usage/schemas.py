"""HTTP bodies of the usage routes."""

from __future__ import annotations

from datetime import date
from typing import Literal

import msgspec


class Metric(msgspec.Struct):
    """This period's value, the last period's, and the change in percent (null after a 0)."""

    value: int
    previous: int
    change_pct: float | None


class MetricsOut(msgspec.Struct):
    period: Literal["day", "week", "month"]
    start: date  # this period: [start, end]
    end: date
    previous_start: date  # the last one: [previous_start, start)
    sessions: Metric
    container_minutes: Metric
    tasks: Metric
    deployments: Metric
    agent_runs: Metric
    workflow_executions: Metric
    api_calls: Metric
    credits_used: Metric


class Point(msgspec.Struct):
    date: date
    value: int


class ChartOut(msgspec.Struct):
    metric: str
    days: int
    data: list[Point]
