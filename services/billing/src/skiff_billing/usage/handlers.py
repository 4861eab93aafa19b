"""Counting what organizations do, from the events billing can see, into daily rollups.

Each count is written in the consumer's transaction, with the event's inbox row, so an event
counts once however often it is delivered. The day is the event's own time (UTC).

- sessions: `orchestrator.session.requested`; tasks: `orchestrator.task.requested`;
- api_calls: `gateway.usage.reported` (requests of every status class);
- deployments, agent_runs, workflow_executions: `orchestrator.deployment.requested`,
  `orchestrator.run.requested`, `orchestrator.execution.requested`, once the orchestrator
  publishes them (any payload with an `organization_id` is counted).

`container_minutes` and `credits_used` are counted where they are charged (ledger.usage,
holds.service), in the charge's transaction.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any, ClassVar

from skiff_contracts import Envelope, EventPayload
from skiff_contracts.events.gateway import UsageReported
from skiff_contracts.events.orchestrator import SessionRequested, TaskRequested
from skiff_messaging.consumer import Handler
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_billing.usage import rollups


class OrganizationEvent(EventPayload, frozen=True, kw_only=True):
    """Any event of an organization: all a count needs (other fields are ignored)."""

    event_type: ClassVar[str] = "orchestrator.*"
    organization_id: str


COUNTED: dict[str, str] = {
    SessionRequested.event_type: "sessions",
    TaskRequested.event_type: "tasks",
    "orchestrator.deployment.requested": "deployments",
    "orchestrator.run.requested": "agent_runs",
    "orchestrator.execution.requested": "workflow_executions",
}


def _counter(metric: str) -> Handler:
    async def handle(session: AsyncSession, envelope: Envelope, payload: Any) -> None:
        await rollups.bump(session, payload.organization_id, envelope.time.date(), metric, 1)

    return handle


def orchestrator_handlers() -> dict[str, tuple[type[EventPayload], Handler]]:
    """The durable `billing--orchestrator`'s handlers: one count per event."""
    known: dict[str, type[EventPayload]] = {
        SessionRequested.event_type: SessionRequested,
        TaskRequested.event_type: TaskRequested,
    }
    return {
        event_type: (known.get(event_type, OrganizationEvent), _counter(metric))
        for event_type, metric in COUNTED.items()
    }


async def api_calls(session: AsyncSession, envelope: Envelope, payload: UsageReported) -> None:
    """A gateway replica's batch of per-key request counts, summed per organization and day."""
    sums: dict[tuple[str, date], int] = defaultdict(int)
    for item in payload.usage:
        sums[(item.organization_id, item.day)] += item.requests
    for (organization_id, day), requests in sorted(sums.items()):
        await rollups.bump(session, organization_id, day, "api_calls", requests)
