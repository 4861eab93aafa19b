"""Ending a held session: its tasks, its sandbox, its row, the final usage and its event."""

from __future__ import annotations

import asyncio
from datetime import datetime

import structlog
from skiff_contracts.events.sandbox import SandboxFailed, SandboxStopped

from skiff_sandbox_runner.backends.base import BackendError
from skiff_sandbox_runner.held import Ending, Held
from skiff_sandbox_runner.metering import final_minutes, utcnow
from skiff_sandbox_runner.runtime import Runtime
from skiff_sandbox_runner.sessions import events, repository

log = structlog.get_logger("skiff_sandbox_runner.sessions")

# How long a stop waits for its killed tasks to report their outcome.
TASKS_GRACE_SECONDS = 5.0


async def end_session(rt: Runtime, held: Held, ending: Ending) -> bool:
    """Stop (or fail) the session once; False if another stop got there first.

    If recording fails the session stays held with `pending` set, and the lifecycle loop
    tries again: the sandbox is gone by then, but the row and the events are not lost.
    """
    async with held.lock:
        if held.ending_now or (held.status == "stopping" and held.pending is None):
            return False
        held.status = "stopping"
        held.pending = ending = held.pending or ending
        held.ending_now = True
    try:
        await _end(rt, held, ending)
    finally:
        held.ending_now = False
    held.pending = None
    rt.holdings.drop(held.session_id)
    await rt.registry.unplace(held.session_id)
    await rt.live.session_status(held.session_id, "failed" if ending.failed else "stopped")
    log.info("session ended", session_id=held.session_id, reason=ending.reason)
    return True


async def _end(rt: Runtime, held: Held, ending: Ending) -> None:
    await _end_tasks(held, ending)
    try:
        await rt.backend.remove(held.sandbox)
    except BackendError as exc:
        log.warning("sandbox removal failed", session_id=held.session_id, reason=exc.reason)
    except Exception:  # the end is recorded whatever the engine says (a foreign handle, ...)
        log.exception("sandbox removal crashed", session_id=held.session_id)
    now = utcnow()
    seconds = held.active_seconds(now)
    async with rt.sessions() as session, session.begin():
        await repository.update_sandbox(
            session,
            held.sandbox.sandbox_id,
            status="failed" if ending.failed else "stopped",
            stopped_at=now,
            stop_reason=ending.reason,
            active_seconds_before=seconds,
            running_since=None,
            minutes_reported=max(held.minutes_reported, final_minutes(seconds)),
        )
        await events.record_final_usage(session, held, seconds=seconds, at=now)
        await events.record(session, held, _event(rt, held, ending, seconds, now))


async def _end_tasks(held: Held, ending: Ending) -> None:
    """Kill the session's running tasks and let them report (`cancelled`, with why)."""
    runs = list(held.tasks.values())
    for run in runs:
        await run.cancel(f"the session ended ({ending.reason})")
    if runs:
        await asyncio.gather(*(run.wait(TASKS_GRACE_SECONDS) for run in runs))


def _event(
    rt: Runtime, held: Held, ending: Ending, seconds: float, at: datetime
) -> SandboxStopped | SandboxFailed:
    if ending.failed:
        return SandboxFailed(
            session_id=held.session_id,
            organization_id=held.organization_id,
            runner_id=rt.runner_id,
            reason=ending.reason,
            failed_at=at,
        )
    return SandboxStopped(
        session_id=held.session_id,
        organization_id=held.organization_id,
        runner_id=rt.runner_id,
        reason=ending.reason,
        active_seconds=round(seconds, 3),
        stopped_at=at,
    )
