"""Deployment endings as the orchestrator will publish them (it does not yet: a later issue)."""

from __future__ import annotations

from datetime import UTC, datetime

from skiff_contracts import new_id
from skiff_contracts.events.orchestrator import (
    DeploymentCompleted,
    DeploymentCredits,
    DeploymentFailed,
)

FINISHED = datetime(2025, 3, 4, 5, 6, tzinfo=UTC)


def completed(org: str) -> DeploymentCompleted:
    return DeploymentCompleted(
        deployment_id=new_id("dep"),
        app_id=new_id("app"),
        app_name="Invoice Bot",
        organization_id=org,
        version="1.4.0",
        environment="production",
        credits=DeploymentCredits(reserved=12, captured=12, released=0),
        finished_at=FINISHED,
    )


def failed(org: str) -> DeploymentFailed:
    return DeploymentFailed(
        deployment_id=new_id("dep"),
        app_id=new_id("app"),
        app_name="Invoice Bot",
        organization_id=org,
        version="1.5.0",
        environment="staging",
        failed_step="validate_package",
        failure_message="manifest.json: entrypoint.command is missing",
        credits=DeploymentCredits(reserved=3, captured=0, released=3),
        finished_at=FINISHED,
    )
