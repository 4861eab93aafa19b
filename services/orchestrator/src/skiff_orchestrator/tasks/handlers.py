"""JetStream handlers of `sandbox.task.*`: the task row follows, never leaving a final status."""

from __future__ import annotations

from typing import Any

from skiff_contracts import Envelope, EventPayload
from skiff_contracts.events.sandbox import TaskCompleted, TaskStarted
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_orchestrator.models import TERMINAL_TASK_STATUSES
from skiff_orchestrator.tasks import repository
from skiff_orchestrator.tasks.outputs import TaskOutputs

FINAL = frozenset(TERMINAL_TASK_STATUSES)
Handlers = dict[str, tuple[type[EventPayload], Any]]


def storable(text: str, limit: int) -> str:
    """Output as a text column takes it: at most `limit` bytes, NUL (which PostgreSQL refuses in
    text) shown as U+FFFD."""
    encoded = text.encode()
    if len(encoded) > limit:
        text = encoded[:limit].decode(errors="ignore")
    return text.replace("\x00", "\ufffd")


async def on_started(db_session: AsyncSession, _: Envelope, event: TaskStarted) -> None:
    task = await repository.by_id_for_update(db_session, event.task_id)
    if task is None or task.status in FINAL:
        return
    task.status = "running"
    task.started_at = event.started_at


def task_handlers(outputs: TaskOutputs, *, output_limit: int) -> Handlers:
    """The handlers of SANDBOX's task events; a large transcript is read from the Object Store."""

    async def on_completed(db_session: AsyncSession, _: Envelope, event: TaskCompleted) -> None:
        task = await repository.by_id_for_update(db_session, event.task_id)
        if task is None or task.status in FINAL:
            return
        stdout, stderr, truncated = event.stdout, event.stderr, event.truncated
        if event.output_object is not None:
            full = await outputs.fetch(event.output_object)
            if full is None:
                truncated = True  # only the excerpt is left
            else:
                stdout, stderr, truncated = full.stdout, full.stderr, full.truncated
                outputs.forget_later(event.output_object)
        task.status = event.status if event.status in FINAL else "failed"
        task.exit_code = event.exit_code
        task.stdout = storable(stdout, output_limit)
        task.stderr = storable(stderr, output_limit)
        too_long = max(len(stdout.encode()), len(stderr.encode())) > output_limit
        task.truncated = truncated or too_long
        task.error = event.error
        task.duration_ms = event.duration_ms
        task.finished_at = event.finished_at
        task.started_at = task.started_at or event.finished_at

    return {
        TaskStarted.event_type: (TaskStarted, on_started),
        TaskCompleted.event_type: (TaskCompleted, on_completed),
    }
