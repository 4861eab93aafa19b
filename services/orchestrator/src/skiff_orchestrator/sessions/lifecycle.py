"""A session's status changes: forward only, whatever order the events arrive in.

Terminal statuses (`stopped`, `failed`) are never left; `running` never overwrites
`stopping`; pause and resume apply only if newer than the last change (`status_changed_at`).
Never commits; the changes the orchestrator makes itself are recorded in the outbox and
announced on LIVE after commit.
"""

from __future__ import annotations

from datetime import UTC, datetime

from skiff_contracts.events.orchestrator import SessionFailed, SessionStopRequested
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_orchestrator.live.announce import LiveAnnouncer
from skiff_orchestrator.models import TERMINAL_SESSION_STATUSES, Session
from skiff_orchestrator.outbox import OUTBOX
from skiff_orchestrator.tasks import repository as tasks

STOPPABLE = ("starting", "running", "paused")


def is_terminal(session: Session) -> bool:
    return session.status in TERMINAL_SESSION_STATUSES


def running_seconds(session: Session, now: datetime | None = None) -> float:
    """Running time so far: paused time excluded; exact once the runner reported the stop."""
    seconds = session.active_seconds
    if session.running_since is not None and not is_terminal(session):
        seconds += max(0.0, ((now or datetime.now(UTC)) - session.running_since).total_seconds())
    return round(seconds, 3)


async def request_stop(
    db_session: AsyncSession, live: LiveAnnouncer, session: Session, *, reason: str
) -> bool:
    """`stopping`, and ask the runner to stop it; False when it was stopping or over already."""
    if session.status not in STOPPABLE:
        return False
    now = datetime.now(UTC)
    session.status = "stopping"
    session.status_changed_at = now
    session.stop_reason = reason
    await _stop_requested(db_session, session, reason=reason, now=now)
    live.session_status(db_session, session.id, "stopping")
    return True


async def fail(
    db_session: AsyncSession, live: LiveAnnouncer, session: Session, *, reason: str
) -> bool:
    """The orchestrator gives up on a session (runner lost, never scheduled)."""
    if is_terminal(session):
        return False
    now = datetime.now(UTC)
    await _end(db_session, session, "failed", at=now)
    session.failure_reason = reason
    await OUTBOX.record(
        db_session,
        SessionFailed(
            session_id=session.id,
            organization_id=session.organization_id,
            runner_id=session.runner_id,
            reason=reason,
            failed_at=now,
        ),
        subject=session.id,
        organization_id=session.organization_id,
    )
    live.session_status(db_session, session.id, "failed")
    return True


async def started(
    db_session: AsyncSession, session: Session, *, runner_id: str, at: datetime
) -> None:
    """The runner started the sandbox: `running`, unless a stop was asked meanwhile."""
    if is_terminal(session):
        return
    session.runner_id = session.runner_id or runner_id  # the first runner keeps it
    session.started_at = session.started_at or at
    if session.status == "starting":
        session.status = "running"
        session.status_changed_at = at
        session.running_since = at
    elif session.status == "stopping":
        session.running_since = session.running_since or at
        # The stop request went out before anyone held the session: say it again, addressed.
        await _stop_requested(
            db_session, session, reason=session.stop_reason or "requested", now=datetime.now(UTC)
        )


def paused(session: Session, *, at: datetime) -> None:
    if session.status == "paused":
        session.status_changed_at = max(session.status_changed_at, at)
    if session.status not in ("starting", "running") or at < session.status_changed_at:
        return
    _bank_running_time(session, at)
    session.status = "paused"
    session.status_changed_at = at
    session.paused_at = at


def resumed(session: Session, *, at: datetime) -> None:
    if session.status == "running":  # already: remember it, so an older pause stays old
        session.status_changed_at = max(session.status_changed_at, at)
    # From `starting` too: a resume proves the sandbox runs, even if its start event comes late
    # (a redelivered event is applied after the ones behind it).
    if session.status not in ("starting", "paused") or at < session.status_changed_at:
        return
    session.status = "running"
    session.status_changed_at = at
    session.running_since = at
    session.paused_at = None


async def stopped(
    db_session: AsyncSession,
    session: Session,
    *,
    runner_id: str | None,
    reason: str,
    active_seconds: float,
    at: datetime,
) -> None:
    if is_terminal(session):
        return
    # The stop can overtake the start event (a stop sent before the runner held it).
    session.runner_id = session.runner_id or runner_id
    await _end(db_session, session, "stopped", at=at)
    session.active_seconds = active_seconds
    session.stop_reason = reason


async def sandbox_failed(
    db_session: AsyncSession,
    session: Session,
    *,
    runner_id: str | None,
    reason: str,
    at: datetime,
) -> None:
    if is_terminal(session):
        return
    session.runner_id = session.runner_id or runner_id
    await _end(db_session, session, "failed", at=at)
    session.failure_reason = reason


async def _end(db_session: AsyncSession, session: Session, status: str, *, at: datetime) -> None:
    if session.status in ("running", "stopping"):
        _bank_running_time(session, at)
    session.running_since = None
    session.status = status
    session.status_changed_at = at
    session.stopped_at = at
    await tasks.fail_unfinished(
        db_session, session.id, error=f"the session {status} before the task finished", at=at
    )


def _bank_running_time(session: Session, at: datetime) -> None:
    if session.running_since is not None:
        session.active_seconds += max(0.0, (at - session.running_since).total_seconds())
    session.running_since = None


async def _stop_requested(
    db_session: AsyncSession, session: Session, *, reason: str, now: datetime
) -> None:
    await OUTBOX.record(
        db_session,
        SessionStopRequested(
            session_id=session.id,
            organization_id=session.organization_id,
            runner_id=session.runner_id,
            reason=reason,
            requested_at=now,
        ),
        subject=session.id,
        organization_id=session.organization_id,
    )
