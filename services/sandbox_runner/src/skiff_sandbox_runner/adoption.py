"""Adoption on start: take back this runner's live sandboxes, clear away everything else.

A sandbox whose row is live is held again (timers re-armed, metering from the stored running
time, placement written). A sandbox without one (a warm one, or one whose stop was recorded)
is removed. A live row whose sandbox is gone fails, and tasks a crash left `running` fail.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import msgspec
import structlog
from skiff_contracts.events.orchestrator import SandboxSpec
from skiff_contracts.events.sandbox import TaskCompleted
from skiff_contracts.live import LiveEvent

from skiff_sandbox_runner.backends.base import BackendError, Sandbox
from skiff_sandbox_runner.held import Ending, Held
from skiff_sandbox_runner.metering import active_seconds, utcnow
from skiff_sandbox_runner.models import SandboxRow, TaskRow
from skiff_sandbox_runner.outbox import OUTBOX
from skiff_sandbox_runner.runtime import Runtime
from skiff_sandbox_runner.sessions import repository
from skiff_sandbox_runner.sessions.stop import end_session

log = structlog.get_logger("skiff_sandbox_runner.adoption")

VANISHED = "sandbox disappeared while its runner was down"
RESTARTED = "runner restarted"


async def adopt(rt: Runtime) -> None:
    """Reconcile the backend's sandboxes with the `sandboxes` table (before serving)."""
    await fail_orphaned_tasks(rt)
    managed = {sandbox.sandbox_id: sandbox for sandbox in await rt.backend.list_managed()}
    async with rt.sessions() as session:
        rows = list(await repository.live_sandboxes(session, rt.runner_id))
    for row in rows:
        sandbox = managed.pop(row.sandbox_id, None)
        held = _held(row, sandbox or _ghost(row))
        if sandbox is None:
            # Billed only up to the minutes already reported: when it vanished is unknown.
            ran = active_seconds(row.active_seconds_before, row.running_since, utcnow())
            held.running_since = None
            held.active_seconds_before = min(ran, row.minutes_reported * 60.0)
            log.warning("sandbox vanished", session_id=row.session_id)
            await end_session(rt, held, Ending(VANISHED, failed=True))
            continue
        rt.holdings.add(held)
        await rt.registry.place(held.session_id, held.organization_id)
        log.info("sandbox adopted", session_id=held.session_id, status=held.status)
    for sandbox in managed.values():
        log.info("removing an unclaimed sandbox", sandbox_id=sandbox.sandbox_id)
        try:
            await rt.backend.remove(sandbox)
        except BackendError as exc:
            log.warning("unclaimed sandbox not removed", reason=exc.reason)


def _held(row: SandboxRow, sandbox: Sandbox) -> Held:
    assert row.session_id is not None
    sandbox.session_id = row.session_id
    paused = row.status == "paused"
    return Held(
        sandbox=sandbox,
        session_id=row.session_id,
        organization_id=row.organization_id,
        spec=msgspec.convert(row.spec, SandboxSpec),
        status="paused" if paused else "running",
        active_seconds_before=row.active_seconds_before,
        running_since=None if paused else row.running_since or utcnow(),
        last_activity=utcnow(),  # the idle clock starts again with the runner
        minutes_reported=row.minutes_reported,
    )


def _ghost(row: SandboxRow) -> Sandbox:
    """A stand-in for a sandbox that no longer exists (removing it is a no-op)."""
    return Sandbox(
        sandbox_id=row.sandbox_id,
        backend=row.backend,
        runner_id=row.runner_id,
        spec=msgspec.convert(row.spec, SandboxSpec),
        workspace=Path(row.handle or "/nonexistent"),
        created_at=row.started_at,
        session_id=row.session_id,
        handle=row.handle,
    )


async def fail_orphaned_tasks(rt: Runtime) -> None:
    """Tasks this runner recorded as running before it went down: none of them still runs."""
    now = utcnow()
    async with rt.sessions() as session, session.begin():
        orphans = list(await repository.running_tasks(session, rt.runner_id))
        for task in orphans:
            await repository.finish_task(session, task.task_id, status="failed", finished_at=now)
            await OUTBOX.record(
                session,
                _completed(task, now),
                subject=task.task_id,
                organization_id=task.organization_id,
            )
    for task in orphans:
        await rt.live.publish(
            LiveEvent(
                kind="status",
                session_id=task.session_id,
                task_id=task.task_id,
                status="failed",
                error=RESTARTED,
                at=now,
            )
        )


def _completed(task: TaskRow, now: datetime) -> TaskCompleted:
    return TaskCompleted(
        task_id=task.task_id,
        session_id=task.session_id,
        organization_id=task.organization_id,
        status="failed",
        exit_code=None,
        stdout="",
        stderr="",
        truncated=False,
        error=RESTARTED,
        duration_ms=max(0, int((now - task.started_at).total_seconds() * 1000)),
        finished_at=now,
    )
