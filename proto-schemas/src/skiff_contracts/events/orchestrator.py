"""Events published by the orchestrator (`orchestrator.>` on the ORCHESTRATOR stream)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

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


EVENTS = (SessionRequested, SessionStopRequested, SessionFailed, TaskRequested)
