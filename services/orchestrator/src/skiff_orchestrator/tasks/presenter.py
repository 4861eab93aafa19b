"""A task row as the API shows it."""

from __future__ import annotations

from skiff_orchestrator.models import Task
from skiff_orchestrator.tasks.schemas import TaskOut, TaskResult, TaskSummary


def task_summary(task: Task) -> TaskSummary:
    return TaskSummary(
        id=task.id,
        session_id=task.session_id,
        status=task.status,
        command=task.command,
        cwd=task.cwd,
        timeout_seconds=task.timeout_seconds,
        exit_code=task.exit_code,
        truncated=task.truncated,
        error=task.error,
        duration_ms=task.duration_ms,
        created_at=task.created_at,
        started_at=task.started_at,
        finished_at=task.finished_at,
    )


def task_out(task: Task) -> TaskOut:
    summary = task_summary(task)
    fields = {f: getattr(summary, f) for f in summary.__struct_fields__}
    return TaskOut(**fields, stdout=task.stdout, stderr=task.stderr)


def task_result(task: Task) -> TaskResult:
    return TaskResult(
        id=task.id,
        status=task.status,
        exit_code=task.exit_code,
        stdout=task.stdout,
        stderr=task.stderr,
        truncated=task.truncated,
        duration_ms=task.duration_ms,
        error=task.error,
    )
