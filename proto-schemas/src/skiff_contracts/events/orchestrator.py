"""Events published by the orchestrator (`orchestrator.>` on the ORCHESTRATOR stream)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

import msgspec

from skiff_contracts.envelope import EventPayload


class SandboxSpec(msgspec.Struct, frozen=True, kw_only=True):
    """What a session's sandbox looks like: image, limits, network, lifetimes, env."""

    image: str
    cpu: float
    memory_mb: int
    network: str  # "none" | "egress"
    timeout_seconds: int
    idle_timeout_seconds: int
    env: dict[str, str] = {}


class SessionRequested(EventPayload, frozen=True, kw_only=True):
    """A session was created (status `starting`); any sandbox-runner may start its sandbox."""

    event_type: ClassVar[str] = "orchestrator.session.requested"
    description: ClassVar[str] = "A sandbox session was requested; a runner should start it."

    session_id: str
    organization_id: str
    spec: SandboxSpec
    requested_at: datetime


class SessionStopRequested(EventPayload, frozen=True, kw_only=True):
    """A session must stop (status `stopping`): its user deleted it, or credits ran out."""

    event_type: ClassVar[str] = "orchestrator.session.stop_requested"
    description: ClassVar[str] = "A session is to be stopped by the runner that holds it."

    session_id: str
    organization_id: str
    runner_id: str | None
    reason: str  # "requested" | "credits_exhausted"
    requested_at: datetime


class SessionFailed(EventPayload, frozen=True, kw_only=True):
    """The orchestrator gave up on a session (its runner vanished, or none picked it up)."""

    event_type: ClassVar[str] = "orchestrator.session.failed"
    description: ClassVar[str] = "A session was marked failed by the orchestrator."

    session_id: str
    organization_id: str
    runner_id: str | None
    reason: str  # "runner_lost" | "not_scheduled"
    failed_at: datetime


class TaskRequested(EventPayload, frozen=True, kw_only=True):
    """A task was queued in a session (the runner is asked by request/reply to run it)."""

    event_type: ClassVar[str] = "orchestrator.task.requested"
    description: ClassVar[str] = "A command was submitted to run in a session."

    task_id: str
    session_id: str
    organization_id: str
    command: str
    requested_at: datetime


class DeploymentCredits(msgspec.Struct, frozen=True, kw_only=True):
    """A deployment's hold, in credits: reserved when queued, then captured or released."""

    reserved: int
    captured: int  # on success
    released: int  # on failure or cancel


class DeploymentEnded(EventPayload, frozen=True, kw_only=True):
    """What every deployment ending says (a base: its subclasses are the events)."""

    deployment_id: str
    app_id: str
    app_name: str
    organization_id: str
    version: str
    environment: str  # "production" | "staging" | ...
    credits: DeploymentCredits
    finished_at: datetime


class DeploymentCompleted(DeploymentEnded, frozen=True, kw_only=True):
    """A deployment ended well: its environment now runs its version and its hold is captured.

    The orchestrator emits it when a deployment ends; deployments are a later issue, so nothing
    emits it yet. Its consumers (owners' notices, webhooks) are ready for when it does.
    """

    event_type: ClassVar[str] = "orchestrator.deployment.completed"
    description: ClassVar[str] = "A deployment of an app version to an environment completed."

    status: Literal["completed"] = "completed"


class DeploymentFailed(DeploymentEnded, frozen=True, kw_only=True):
    """A deployment ended in failure at one step; its hold is released.

    The orchestrator emits it when a deployment ends; deployments are a later issue, so nothing
    emits it yet. Its consumers (owners' notices, webhooks) are ready for when it does.
    """

    event_type: ClassVar[str] = "orchestrator.deployment.failed"
    description: ClassVar[str] = "A deployment of an app version to an environment failed."

    status: Literal["failed"] = "failed"
    # "validate_package" | "store_package" | "generate_metadata" | "notify_runtime" | "finalize"
    failed_step: str
    failure_message: str  # the failed step's message, as GET /deployments/{id} shows it


EVENTS = (
    SessionRequested,
    SessionStopRequested,
    SessionFailed,
    TaskRequested,
    DeploymentCompleted,
    DeploymentFailed,
)
