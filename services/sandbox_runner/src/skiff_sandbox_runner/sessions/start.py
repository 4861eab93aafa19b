"""Starting a requested session: a warm or a new sandbox, its row, `started` and minute one."""

from __future__ import annotations

import msgspec
import structlog
from skiff_contracts import new_id
from skiff_contracts.events.orchestrator import SessionRequested
from skiff_contracts.events.sandbox import SandboxFailed, SandboxStarted
from sqlalchemy.exc import IntegrityError

from skiff_sandbox_runner.backends.base import BackendError, Sandbox
from skiff_sandbox_runner.held import Held
from skiff_sandbox_runner.metering import utcnow
from skiff_sandbox_runner.models import SandboxRow
from skiff_sandbox_runner.outbox import OUTBOX
from skiff_sandbox_runner.runtime import Runtime
from skiff_sandbox_runner.sessions import events, repository

log = structlog.get_logger("skiff_sandbox_runner.sessions")


async def start_session(rt: Runtime, request: SessionRequested) -> None:
    """Start the session's sandbox, once: a session already started anywhere is left alone."""
    if rt.holdings.get(request.session_id) is not None:
        return
    async with rt.sessions() as session:
        if await repository.sandbox_of_session(session, request.session_id) is not None:
            return
    age = (utcnow() - request.requested_at).total_seconds()
    if age > rt.settings.start_deadline_seconds:
        await _record_failure(rt, request, f"not started within {age:.0f} s of the request")
        return
    warm = rt.warm_pool.claim(request.spec)
    try:
        sandbox = warm or await rt.backend.start(new_id("sbx"), request.spec, request.session_id)
    except BackendError as exc:
        log.warning("sandbox did not start", session_id=request.session_id, reason=exc.reason)
        await _record_failure(rt, request, exc.reason)
        return
    sandbox.session_id = request.session_id
    held = _held(request, sandbox)
    try:
        await _record_start(rt, held, warm=warm is not None)
    except IntegrityError:
        log.info("session started elsewhere meanwhile", session_id=request.session_id)
        await rt.backend.remove(sandbox)
        return
    except BaseException:
        await rt.backend.remove(sandbox)
        raise
    finally:
        if warm is not None:
            rt.warm_pool.refill_later()
    rt.holdings.add(held)
    await rt.registry.place(held.session_id, held.organization_id)
    await rt.live.session_status(held.session_id, "running")


def _held(request: SessionRequested, sandbox: Sandbox) -> Held:
    now = utcnow()
    return Held(
        sandbox=sandbox,
        session_id=request.session_id,
        organization_id=request.organization_id,
        spec=request.spec,
        status="running",
        active_seconds_before=0.0,
        running_since=now,
        last_activity=now,
        minutes_reported=1,
    )


async def _record_start(rt: Runtime, held: Held, *, warm: bool) -> None:
    """The row, `sandbox.session.started` and the first minute's usage, in one transaction."""
    started_at = held.running_since or utcnow()
    async with rt.sessions() as session, session.begin():
        session.add(
            SandboxRow(
                sandbox_id=held.sandbox.sandbox_id,
                session_id=held.session_id,
                organization_id=held.organization_id,
                runner_id=rt.runner_id,
                backend=held.sandbox.backend,
                handle=held.sandbox.handle,
                spec=msgspec.to_builtins(held.spec),
                status="running",
                started_at=started_at,
                active_seconds_before=0.0,
                running_since=started_at,
                last_activity_at=started_at,
                minutes_reported=1,
            )
        )
        await session.flush()
        await events.record(
            session,
            held,
            SandboxStarted(
                session_id=held.session_id,
                organization_id=held.organization_id,
                runner_id=rt.runner_id,
                backend=held.sandbox.backend,
                warm=warm,
                started_at=started_at,
            ),
        )
        await events.record_usage(session, held, minutes=1, seconds=0.0, at=started_at)


async def _record_failure(rt: Runtime, request: SessionRequested, reason: str) -> None:
    async with rt.sessions() as session, session.begin():
        await OUTBOX.record(
            session,
            SandboxFailed(
                session_id=request.session_id,
                organization_id=request.organization_id,
                runner_id=rt.runner_id,
                reason=reason,
                failed_at=utcnow(),
            ),
            subject=request.session_id,
            organization_id=request.organization_id,
        )
    await rt.live.session_status(request.session_id, "failed")
