"""Usage routes: metrics against the last period, a daily chart, and a CSV export."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.openapi import ResponseSpec
from litestar.params import QueryParameter
from litestar.response import Stream
from skiff_kit.db import DbSession
from skiff_kit.internal_token import CurrentPrincipal
from skiff_kit.openapi_errors import errors

from skiff_billing import timerange
from skiff_billing.access import may_read
from skiff_billing.ledger import service as ledger
from skiff_billing.usage import export, service
from skiff_billing.usage.schemas import ChartOut, MetricsOut

CHART_METRICS = (
    "credits|credits_used|api_calls|container_minutes|sessions|tasks|deployments|agent_runs"
    "|workflow_executions"
)
MAX_EXPORT = timedelta(days=366)


class UsageController(Controller):
    path = "/api/v1/usage"
    tags = ["usage"]

    @get("/metrics")
    async def metrics(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        period: Annotated[str, QueryParameter(pattern="^(day|week|month)$")] = "month",
    ) -> MetricsOut:
        """This period against the last: sessions, container-minutes, tasks, deployments,
        agent runs, workflow executions, API calls and credits used.

        Periods are rolling and end today (UTC): `day` is today, `week` the last 7 days,
        `month` the last 30. `change_pct` is null when the last period was 0.
        `deployments`, `agent_runs` and `workflow_executions` are 0 until Skiff has
        deployments, agent runs and workflows (no service publishes their events yet).
        """
        may_read(principal)
        today = datetime.now(UTC).date()
        return await service.metrics(db_session, principal.organization_id, period, today)

    @get("/chart")
    async def chart(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        days: Annotated[int, QueryParameter(ge=1, le=365)] = 30,
        metric: Annotated[str, QueryParameter(pattern=f"^({CHART_METRICS})$")] = "credits",
    ) -> ChartOut:
        """One point per day for the last `days` days (today included), zero-filled."""
        may_read(principal)
        today = datetime.now(UTC).date()
        return await service.chart(db_session, principal.organization_id, metric, days, today)

    @get(
        "/export",
        media_type="text/csv",
        responses={
            200: ResponseSpec(
                data_container=str,
                media_type="text/csv",
                description="The CSV: a header, then one row per ledger entry and per day's usage",
            ),
            **errors(404),
        },
    )
    async def export_csv(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        db_session: DbSession,
        format: Annotated[str, QueryParameter(pattern="^csv$")] = "csv",
        start: Annotated[str | None, QueryParameter(max_length=40)] = None,
        end: Annotated[str | None, QueryParameter(max_length=40)] = None,
    ) -> Stream:
        """A streamed CSV of the ledger and the daily usage in [start, end) (default: the last
        30 days; at most 366), UTC times, signed amounts, references."""
        may_read(principal)
        await ledger.account(db_session, principal.organization_id)
        since, until = timerange.window(start, end)
        until = until or datetime.now(UTC) + timedelta(seconds=1)
        since = since or until - timedelta(days=30)
        if until - since > MAX_EXPORT:
            raise timerange.bad("start", "the window may span at most 366 days")
        sessions = request.app.state.db_session_factory  # there: db_session was provided
        name = f"skiff-usage-{since.date()}-{until.date()}.csv"
        return Stream(
            export.rows(sessions, principal.organization_id, since, until),
            media_type="text/csv",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )
