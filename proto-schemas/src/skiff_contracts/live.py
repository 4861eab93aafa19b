"""Live output of sessions and tasks, and where sandbox-runners announce themselves.

Live events ride the LIVE stream (`live.>`, short retention): a task's output chunks and
status changes, and a session's status changes. SSE ids are the stream sequence numbers, so
`Last-Event-ID` resumes exactly after the last event a client saw. The durable truth (final
status, a bounded transcript) is in the orchestrator's database, fed by `sandbox.task.*` events.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

LIVE_STREAM = "LIVE"
LIVE_SUBJECTS = "live.>"

# NATS KV buckets written by sandbox-runners.
RUNNERS_BUCKET = "sandbox-runners"  # runner_id -> RunnerInfo, refreshed every few seconds (TTL)
PLACEMENT_BUCKET = "sandbox-placement"  # session_id -> Placement, while the session lives


def task_subject(session_id: str, task_id: str) -> str:
    """Output and status of one task."""
    return f"live.{session_id}.{task_id}"


def session_status_subject(session_id: str) -> str:
    """Status changes of the session itself."""
    return f"live.{session_id}.session"


def session_subjects(session_id: str) -> str:
    """Everything live about one session (the `/sessions/{id}/events` stream)."""
    return f"live.{session_id}.>"


class LiveEvent(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One live event.

    kind `output`: `stream` (stdout|stderr), `data` and `seq` (per task, from 1).
    kind `status`: `status` of the task (`task_id` set) or of the session (`task_id` None),
    with `exit_code`, `error` and `duration_ms` when a task ends.
    """

    kind: str  # "output" | "status"
    session_id: str
    task_id: str | None = None
    stream: str | None = None
    data: str | None = None
    seq: int | None = None
    status: str | None = None
    exit_code: int | None = None
    error: str | None = None
    duration_ms: int | None = None
    truncated: bool | None = None
    at: datetime


class RunnerInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A live sandbox-runner: where its HTTP (file routes) answers, and its backend."""

    runner_id: str
    url: str
    backend: str
    heartbeat_at: datetime


class Placement(msgspec.Struct, frozen=True, kw_only=True):
    """Which runner holds a session; the gateway forwards its file routes to `url`."""

    session_id: str
    organization_id: str
    runner_id: str
    url: str
