"""The rules of tasks: queue one in a running session, hand it to its runner, cancel it."""

from __future__ import annotations

from datetime import UTC, datetime

from skiff_contracts import new_id
from skiff_contracts.events.orchestrator import TaskRequested
from skiff_contracts.rpc.sandbox import ExecRequest
from skiff_kit.errors import SkiffError
from skiff_kit.internal_token import Principal
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_orchestrator.access import actor_of
from skiff_orchestrator.errors import TaskNotFound, TaskNotRunning
from skiff_orchestrator.models import TERMINAL_TASK_STATUSES, Session, Task
from skiff_orchestrator.outbox import OUTBOX
from skiff_orchestrator.runner_client import RunnerClient
from skiff_orchestrator.sessions import repository as sessions
from skiff_orchestrator.sessions.service import require_running
from skiff_orchestrator.tasks import repository
from skiff_orchestrator.tasks.validation import TaskSpec


async def get(
    db_session: AsyncSession, organization_id: str, task_id: str, *, for_update: bool = False
) -> Task:
    """The organization's task, else 404 (another organization's too)."""
    task = await repository.of_organization(
        db_session, organization_id, task_id, for_update=for_update
    )
    if task is None:
        raise TaskNotFound()
    return task


async def queue(
    db_session: AsyncSession,
    *,
    principal: Principal,
    session: Session,
    spec: TaskSpec,
    task_id: str | None = None,
) -> Task:
    """A `queued` task and its `orchestrator.task.requested`; 409 unless the session runs."""
    require_running(session)
    now = datetime.now(UTC)
    task = Task(
        id=task_id or new_id("tsk"),
        session_id=session.id,
        organization_id=session.organization_id,
        created_by=actor_of(principal),
        status="queued",
        command=spec.command,
        env=dict(spec.env),
        cwd=spec.cwd,
        timeout_seconds=spec.timeout_seconds,
        stdout="",
        stderr="",
        truncated=False,
        created_at=now,
    )
    db_session.add(task)
    await db_session.flush()
    await OUTBOX.record(
        db_session,
        TaskRequested(
            task_id=task.id,
            session_id=session.id,
            organization_id=session.organization_id,
            command=spec.command,
            requested_at=now,
        ),
        subject=task.id,
        organization_id=session.organization_id,
    )
    return task


async def dispatch(
    db_session: AsyncSession, runner: RunnerClient, session: Session, task: Task, spec: TaskSpec
) -> None:
    """Ask the runner to start the (committed) task; if it cannot, the task fails. Commits."""
    runner_id = require_running(session)
    request = ExecRequest(
        task_id=task.id,
        session_id=session.id,
        organization_id=session.organization_id,
        command=spec.command,
        env=spec.env,
        cwd=spec.cwd,
        stdin=spec.stdin.encode() if spec.stdin is not None else None,
        timeout_seconds=spec.timeout_seconds,
    )
    try:
        accepted = await runner.exec(runner_id, request)
    except SkiffError as exc:
        await _fail_undispatched(db_session, task.id, f"not started: {exc.message}")
        await db_session.commit()
        raise
    await repository.mark_accepted(db_session, task.id, at=accepted.started_at)
    await db_session.commit()


async def cancel(db_session: AsyncSession, runner: RunnerClient, task: Task) -> None:
    """Signal the process; a task the runner never took is cancelled here. Commits."""
    if task.status in TERMINAL_TASK_STATUSES:
        raise TaskNotRunning(f"The task is {task.status}.", details={"status": task.status})
    session = await sessions.by_id_for_update(db_session, task.session_id)
    runner_id = session.runner_id if session else None
    if task.status == "queued" and task.accepted_at is None:
        if runner_id is None:
            await _cancel_here(db_session, task)
            return
        try:
            await runner.cancel(runner_id, task.session_id, task.id)
        except TaskNotRunning:
            await _cancel_here(db_session, task)
        return
    if runner_id is None:
        raise TaskNotRunning(details={"status": task.status})
    await runner.cancel(runner_id, task.session_id, task.id)


async def _cancel_here(db_session: AsyncSession, task: Task) -> None:
    locked = await repository.by_id_for_update(db_session, task.id)
    if locked is not None and locked.status == "queued":
        locked.status = "cancelled"
        locked.error = "cancelled before it started"
        locked.finished_at = datetime.now(UTC)
    await db_session.commit()


async def _fail_undispatched(db_session: AsyncSession, task_id: str, error: str) -> None:
    task = await repository.by_id_for_update(db_session, task_id)
    if task is not None and task.status == "queued":
        task.status = "failed"
        task.error = error
        task.finished_at = datetime.now(UTC)
