"""The task commands: exec, cancel and stdin, as the orchestrator sends them."""

from __future__ import annotations

import asyncio
from datetime import datetime

import structlog
from skiff_contracts.events.sandbox import TaskStarted
from skiff_contracts.live import LiveEvent
from skiff_contracts.rpc.sandbox import (
    SESSION_NOT_FOUND,
    SESSION_NOT_RUNNING,
    TASK_NOT_FOUND,
    Done,
    ExecAccepted,
    ExecRequest,
    StdinRequest,
    TaskRef,
)
from skiff_messaging.errors import ReplyError
from sqlalchemy.exc import IntegrityError

from skiff_sandbox_runner.backends.base import BackendError, Process
from skiff_sandbox_runner.held import Held
from skiff_sandbox_runner.metering import utcnow
from skiff_sandbox_runner.models import TaskRow
from skiff_sandbox_runner.outbox import OUTBOX
from skiff_sandbox_runner.runtime import Runtime
from skiff_sandbox_runner.sessions import repository
from skiff_sandbox_runner.tasks.execution import Outcome, TaskRun
from skiff_sandbox_runner.tasks.outcome import record_outcome

log = structlog.get_logger("skiff_sandbox_runner.tasks")

# How long cancel waits for the task's outcome before answering `cancelling`.
CANCEL_WAIT_SECONDS = 1.5


def held_session(rt: Runtime, session_id: str, organization_id: str | None = None) -> Held:
    """The live session held here, or the `session_not_found` reply."""
    held = rt.holdings.get(session_id, organization_id)
    if held is None:
        raise ReplyError(SESSION_NOT_FOUND, f"this runner does not hold session {session_id}")
    return held


async def exec_task(rt: Runtime, request: ExecRequest) -> ExecAccepted:
    """Start the task's process; a repeated request for the same task starts nothing new."""
    held = held_session(rt, request.session_id, request.organization_id)
    running = held.tasks.get(request.task_id)
    if running is not None:
        return ExecAccepted(task_id=request.task_id, started_at=running.started_at)
    async with rt.sessions() as session:
        known = await repository.task(session, request.task_id)
    if known is not None:
        return ExecAccepted(task_id=request.task_id, started_at=known.started_at)
    if held.status != "running":
        raise ReplyError(SESSION_NOT_RUNNING, f"session {request.session_id} is {held.status}")
    started_at = utcnow()
    # The process starts while its row is written: both are on the task's critical path.
    spawned, recorded = await asyncio.gather(
        _spawn(rt, held, request),
        _record_start(rt, request, started_at),
        return_exceptions=True,
    )
    if isinstance(spawned, BaseException):
        raise spawned
    process, error = spawned
    if isinstance(recorded, BaseException):
        if process is not None:
            await process.kill()
        if isinstance(recorded, IntegrityError):
            # The same task was started concurrently: keep that one.
            return ExecAccepted(task_id=request.task_id, started_at=started_at)
        raise recorded
    run = TaskRun(
        request,
        process=process,
        start_error=error,
        started_at=started_at,
        live=rt.live,
        output_limit=rt.settings.task_output_limit_bytes,
        finished=lambda run, outcome: _finished(rt, held, run, outcome),
    )
    held.tasks[request.task_id] = run
    held.touch(started_at)
    run.start()
    return ExecAccepted(task_id=request.task_id, started_at=started_at)


async def _spawn(
    rt: Runtime, held: Held, request: ExecRequest
) -> tuple[Process | None, str | None]:
    env = {**held.spec.env, **request.env}
    try:
        process = await rt.backend.exec(held.sandbox, request.command, env=env, cwd=request.cwd)
    except BackendError as exc:
        return None, exc.reason
    return process, None


async def _record_start(rt: Runtime, request: ExecRequest, started_at: datetime) -> None:
    async with rt.sessions() as session, session.begin():
        session.add(
            TaskRow(
                task_id=request.task_id,
                session_id=request.session_id,
                organization_id=request.organization_id,
                runner_id=rt.runner_id,
                status="running",
                started_at=started_at,
            )
        )
        await session.flush()
        await OUTBOX.record(
            session,
            TaskStarted(
                task_id=request.task_id,
                session_id=request.session_id,
                organization_id=request.organization_id,
                started_at=started_at,
            ),
            subject=request.task_id,
            organization_id=request.organization_id,
        )


async def _finished(rt: Runtime, held: Held, run: TaskRun, outcome: Outcome) -> None:
    """Record the outcome (row + `sandbox.task.completed`), then the final live status."""
    request = run.request
    final = LiveEvent(
        kind="status",
        session_id=request.session_id,
        task_id=request.task_id,
        status=outcome.status,
        exit_code=outcome.exit_code,
        error=outcome.error,
        duration_ms=outcome.duration_ms,
        truncated=outcome.truncated,
        at=outcome.finished_at,
    )
    try:
        # The live status goes out while the outcome commits: a waiting client need not wait
        # for the disk. If the commit fails, the row becomes "runner restarted" on next start.
        await asyncio.gather(record_outcome(rt, request, outcome), rt.live.publish(final))
    finally:
        held.tasks.pop(request.task_id, None)
        held.touch(outcome.finished_at)


def _running_task(rt: Runtime, session_id: str, task_id: str) -> TaskRun:
    held = held_session(rt, session_id)
    run = held.tasks.get(task_id)
    if run is None:
        raise ReplyError(TASK_NOT_FOUND, f"task {task_id} is not running on this runner")
    return run


async def cancel_task(rt: Runtime, ref: TaskRef) -> Done:
    """Kill the task's process; answers its status once it ended (or `cancelling`)."""
    run = _running_task(rt, ref.session_id, ref.task_id)
    await run.cancel()
    if await run.wait(CANCEL_WAIT_SECONDS):
        return Done(status="cancelled")
    return Done(status="cancelling")


async def write_stdin(rt: Runtime, request: StdinRequest) -> Done:
    """Write to a running task's stdin, and close it when `eof`."""
    run = _running_task(rt, request.session_id, request.task_id)
    await run.write_stdin(request.data, eof=request.eof)
    return Done(status="running")
