"""Pausing and resuming a session: frozen time is neither billed nor counted as idle."""

from __future__ import annotations

from skiff_contracts.events.sandbox import SandboxPaused, SandboxResumed
from skiff_contracts.rpc.sandbox import SESSION_NOT_RUNNING
from skiff_messaging.errors import ReplyError

from skiff_sandbox_runner.backends.base import BackendError
from skiff_sandbox_runner.held import Held
from skiff_sandbox_runner.metering import utcnow
from skiff_sandbox_runner.runtime import Runtime
from skiff_sandbox_runner.sessions import events, repository

SANDBOX_ERROR = "sandbox_error"  # the backend failed to pause or resume (reason in the message)


async def pause(rt: Runtime, held: Held) -> str:
    """Freeze the sandbox and close the running segment; pausing a paused one is a no-op."""
    async with held.lock:
        if held.status == "paused":
            return "paused"
        if held.status != "running":
            raise ReplyError(SESSION_NOT_RUNNING, f"session {held.session_id} is {held.status}")
        try:
            await rt.backend.pause(held.sandbox)
        except BackendError as exc:
            raise ReplyError(SANDBOX_ERROR, exc.reason) from exc
        now = utcnow()
        seconds = held.active_seconds(now)
        async with rt.sessions() as session, session.begin():
            await repository.update_sandbox(
                session,
                held.sandbox.sandbox_id,
                status="paused",
                active_seconds_before=seconds,
                running_since=None,
            )
            await events.record(
                session,
                held,
                SandboxPaused(
                    session_id=held.session_id,
                    organization_id=held.organization_id,
                    runner_id=rt.runner_id,
                    paused_at=now,
                ),
            )
        held.status, held.active_seconds_before, held.running_since = "paused", seconds, None
    await rt.live.session_status(held.session_id, "paused")
    return "paused"


async def resume(rt: Runtime, held: Held) -> str:
    """Thaw the sandbox and open a new running segment; the idle clock starts again."""
    async with held.lock:
        if held.status == "running":
            return "running"
        if held.status != "paused":
            raise ReplyError(SESSION_NOT_RUNNING, f"session {held.session_id} is {held.status}")
        try:
            await rt.backend.resume(held.sandbox)
        except BackendError as exc:
            raise ReplyError(SANDBOX_ERROR, exc.reason) from exc
        now = utcnow()
        async with rt.sessions() as session, session.begin():
            await repository.update_sandbox(
                session,
                held.sandbox.sandbox_id,
                status="running",
                running_since=now,
                last_activity_at=now,
            )
            await events.record(
                session,
                held,
                SandboxResumed(
                    session_id=held.session_id,
                    organization_id=held.organization_id,
                    runner_id=rt.runner_id,
                    resumed_at=now,
                ),
            )
        held.status, held.running_since = "running", now
        held.touch(now)
    await rt.live.session_status(held.session_id, "running")
    return "running"
