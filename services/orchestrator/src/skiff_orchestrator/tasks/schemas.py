"""HTTP bodies of the task routes; unknown fields are refused."""

from __future__ import annotations

from datetime import datetime

import msgspec


class CreateTask(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    command: str
    timeout_seconds: int | None = None
    env: dict[str, str] | None = None
    cwd: str | None = None
    stdin: str | None = None


class TaskSummary(msgspec.Struct, kw_only=True):
    """A task in a list: everything but its output."""

    id: str
    session_id: str
    status: str
    command: str
    cwd: str | None
    timeout_seconds: int
    exit_code: int | None
    truncated: bool
    error: str | None
    duration_ms: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class TaskOut(TaskSummary, kw_only=True):
    """One task with its bounded transcript."""

    stdout: str
    stderr: str


class TaskResult(msgspec.Struct, kw_only=True):
    """The answer of `?wait=true` once the task ended."""

    id: str
    status: str
    exit_code: int | None
    stdout: str
    stderr: str
    truncated: bool
    duration_ms: int | None
    error: str | None
