"""Events published by sandbox-runners (`sandbox.>` on the SANDBOX stream)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from skiff_contracts.envelope import EventPayload


class SandboxStarted(EventPayload, frozen=True, kw_only=True):
    """A session's sandbox runs on `runner_id` (status `running`); metering starts."""

    event_type: ClassVar[str] = "sandbox.session.started"
    description: ClassVar[str] = "A session's sandbox started and is pinned to one runner."

    session_id: str
    organization_id: str
    runner_id: str
    backend: str  # "docker" | "local"
    warm: bool
    started_at: datetime


class SandboxFailed(EventPayload, frozen=True, kw_only=True):
    """A sandbox could not start, or died under the runner (status `failed`)."""

    event_type: ClassVar[str] = "sandbox.session.failed"
    description: ClassVar[str] = "A session's sandbox failed to start or died."

    session_id: str
    organization_id: str
    runner_id: str
    reason: str
    failed_at: datetime


class SandboxPaused(EventPayload, frozen=True, kw_only=True):
    """A sandbox was frozen (status `paused`); paused time is not billed."""

    event_type: ClassVar[str] = "sandbox.session.paused"
    description: ClassVar[str] = "A session's sandbox was paused."

    session_id: str
    organization_id: str
    runner_id: str
    paused_at: datetime


class SandboxResumed(EventPayload, frozen=True, kw_only=True):
    """A paused sandbox was thawed (status `running` again)."""

    event_type: ClassVar[str] = "sandbox.session.resumed"
    description: ClassVar[str] = "A session's sandbox was resumed."

    session_id: str
    organization_id: str
    runner_id: str
    resumed_at: datetime


class SandboxStopped(EventPayload, frozen=True, kw_only=True):
    """A sandbox is gone (status `stopped`), with why and how long it ran (paused time excluded)."""

    event_type: ClassVar[str] = "sandbox.session.stopped"
    description: ClassVar[str] = "A session's sandbox stopped and was removed."

    session_id: str
    organization_id: str
    runner_id: str
    # "requested" | "idle_timeout" | "timeout" | "credits_exhausted" | "orphaned"
    reason: str
    active_seconds: float
    stopped_at: datetime


class SessionUsage(EventPayload, frozen=True, kw_only=True):
    """Metering: how many container-minutes a session has started so far.

    Emitted when each minute of running time begins, and once more (`final`) when the session
    stops, with the exact running seconds. The event id is deterministic per (session, minute)
    (`usage_<session>_<minute>`, `usage_<session>_final`), so a re-emission is the same event.
    Billing charges 1 credit per started minute: it tops the session's charges up to
    `minutes_started`, so duplicates and reordering charge nothing twice.
    """

    event_type: ClassVar[str] = "sandbox.session.usage"
    description: ClassVar[str] = "Container-minutes started by a session (per minute, and final)."

    session_id: str
    organization_id: str
    runner_id: str
    minutes_started: int
    active_seconds: float
    final: bool
    measured_at: datetime


class TaskStarted(EventPayload, frozen=True, kw_only=True):
    """A task's process started in its session's sandbox."""

    event_type: ClassVar[str] = "sandbox.task.started"
    description: ClassVar[str] = "A task's process started."

    task_id: str
    session_id: str
    organization_id: str
    started_at: datetime


class TaskCompleted(EventPayload, frozen=True, kw_only=True):
    """A task ended, with its exit code and its output.

    Small transcripts ride here whole. A large one lives in the Object Store bucket
    `skiff-task-output` under `output_object` (see `skiff_contracts.task_output`); `stdout` and
    `stderr` are then the first few KiB of each stream, so the event stays small.
    """

    event_type: ClassVar[str] = "sandbox.task.completed"
    description: ClassVar[str] = "A task finished (succeeded, failed, cancelled or timed out)."

    task_id: str
    session_id: str
    organization_id: str
    status: str  # "succeeded" | "failed" | "cancelled" | "timed_out"
    exit_code: int | None
    stdout: str
    stderr: str
    truncated: bool
    error: str | None = None  # why it failed beyond its exit code, e.g. "out of memory"
    duration_ms: int
    finished_at: datetime
    output_object: str | None = None  # the full transcript's object name, when not inline


def usage_event_id(session_id: str, minute: int | None) -> str:
    """The deterministic id of a usage event: per started minute, or `final` (minute None)."""
    return f"usage_{session_id}_{'final' if minute is None else minute}"


EVENTS = (
    SandboxStarted,
    SandboxFailed,
    SandboxPaused,
    SandboxResumed,
    SandboxStopped,
    SessionUsage,
    TaskStarted,
    TaskCompleted,
)
