"""Notices of deployments that ended: completed or failed (category `deployments`).

The orchestrator emits `orchestrator.deployment.completed|failed` once deployments exist (a
later issue); until then these handlers wait on the bus. Each ending is told once per
deployment, however often its event is delivered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from skiff_contracts import Envelope, EventPayload
from skiff_contracts.events.orchestrator import (
    DeploymentCompleted,
    DeploymentCredits,
    DeploymentEnded,
    DeploymentFailed,
)
from skiff_messaging.consumer import Handler
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_notification.email.one_line import one_line
from skiff_notification.notices.telling import Notice, Teller

# App names, versions and environments are the customer's words: kept to one short line, so a
# subject never carries a line break and fits the outbox's 300 characters.
NAME_MAX_LENGTH = 60


def _short(text: str) -> str:
    return one_line(text, NAME_MAX_LENGTH)


def _what(event: DeploymentEnded) -> str:
    return f"{_short(event.app_name)} {_short(event.version)} to {_short(event.environment)}"


def _credits(credits: DeploymentCredits) -> str:
    return (
        f"Credits: {credits.reserved} reserved, {credits.captured} captured,"
        f" {credits.released} released."
    )


def _data(event: DeploymentEnded) -> dict[str, Any]:
    return {
        "deployment_id": event.deployment_id,
        "app_id": event.app_id,
        "version": event.version,
        "environment": event.environment,
    }


def deployment_completed(event: DeploymentCompleted) -> Notice:
    what = _what(event)
    return Notice(
        category="deployments",
        kind="deployment_completed",
        title=f"Deployed {what}",
        body=f"Deployment {event.deployment_id} completed; {event.credits.captured} credits used.",
        email_subject=f"Skiff: deployed {what}",
        email_text=(
            f"The deployment of {what} completed at {event.finished_at:%Y-%m-%d %H:%M UTC}:"
            f" {_short(event.environment)} now runs version {_short(event.version)}.\n\n"
            f"Deployment: {event.deployment_id}\n{_credits(event.credits)}"
        ),
        data=_data(event),
    )


def deployment_failed(event: DeploymentFailed) -> Notice:
    what = _what(event)
    return Notice(
        category="deployments",
        kind="deployment_failed",
        title=f"Deploying {what} failed",
        body=(
            f"Step {event.failed_step} failed: {event.failure_message.rstrip('.')}."
            f" {event.credits.released} credits were released."
        ),
        email_subject=f"Skiff: deploying {what} failed",
        email_text=(
            f"The deployment of {what} failed at {event.finished_at:%Y-%m-%d %H:%M UTC},"
            f" in step {event.failed_step}:\n\n    {event.failure_message}\n\n"
            f"Deployment: {event.deployment_id}\n{_credits(event.credits)}"
        ),
        data={**_data(event), "failed_step": event.failed_step},
    )


def _handler(render: Callable[[Any], Notice], teller: Teller) -> Handler:
    async def handle(session: AsyncSession, envelope: Envelope, event: Any) -> None:
        notice = render(event)
        await teller.tell(
            session,
            organization_id=event.organization_id,
            # Keyed by the deployment, not the event: one ending is told once.
            source_id=f"{notice.kind}_{event.deployment_id}",
            notice=notice,
        )

    return handle


RENDERERS: dict[type[EventPayload], Callable[[Any], Notice]] = {
    DeploymentCompleted: deployment_completed,
    DeploymentFailed: deployment_failed,
}


def deployment_notice_handlers(teller: Teller) -> dict[str, tuple[type[EventPayload], Handler]]:
    """A handler per deployment ending its organization's owners are told of."""
    return {cls.event_type: (cls, _handler(render, teller)) for cls, render in RENDERERS.items()}
