"""The rules of sessions: who may start one, how many, and asking runners to act. Never commits."""

from __future__ import annotations

from datetime import UTC, datetime

from nats.aio.client import Client as NATS
from skiff_contracts import new_id
from skiff_contracts.events.orchestrator import SandboxSpec, SessionRequested
from skiff_kit.internal_token import Principal
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_orchestrator import billing_client
from skiff_orchestrator.access import actor_of
from skiff_orchestrator.errors import (
    SessionNotFound,
    SessionNotPaused,
    SessionNotRunning,
    TooManySessions,
)
from skiff_orchestrator.live.announce import LiveAnnouncer
from skiff_orchestrator.models import Session
from skiff_orchestrator.outbox import OUTBOX
from skiff_orchestrator.runner_client import RunnerClient
from skiff_orchestrator.sessions import lifecycle, repository
from skiff_orchestrator.settings import OrchestratorSettings


async def create(
    db_session: AsyncSession,
    *,
    nc: NATS,
    live: LiveAnnouncer,
    settings: OrchestratorSettings,
    principal: Principal,
    spec: SandboxSpec,
    metadata: dict[str, str],
    session_id: str | None = None,
) -> Session:
    """A `starting` session and its `orchestrator.session.requested`, within the org's limits.

    The advisory lock makes count-then-insert atomic per organization: two creates at the
    limit are serialized, and the second one counts the first.
    """
    org = principal.organization_id
    await repository.lock_organization(db_session, org)
    live_count = await repository.count_live(db_session, org)
    limit = settings.max_sessions_per_organization
    if live_count >= limit:
        raise TooManySessions(
            f"This organization already has {live_count} live sessions (the limit is {limit}).",
            details={"limit": limit, "current": live_count},
        )
    await billing_client.require_credits(nc, org, within=settings.billing_rpc_timeout_seconds)
    now = datetime.now(UTC)
    session = Session(
        id=session_id or new_id("ses"),
        organization_id=org,
        created_by=actor_of(principal),
        status="starting",
        image=spec.image,
        cpu=spec.cpu,
        memory_mb=spec.memory_mb,
        network=spec.network,
        timeout_seconds=spec.timeout_seconds,
        idle_timeout_seconds=spec.idle_timeout_seconds,
        env=dict(spec.env),
        metadata_=metadata,
        credits_used=0,
        active_seconds=0.0,
        created_at=now,
        status_changed_at=now,
    )
    db_session.add(session)
    await db_session.flush()
    await OUTBOX.record(
        db_session,
        SessionRequested(session_id=session.id, organization_id=org, spec=spec, requested_at=now),
        subject=session.id,
        organization_id=org,
    )
    live.session_status(db_session, session.id, "starting")
    return session


async def get(
    db_session: AsyncSession, organization_id: str, session_id: str, *, for_update: bool = False
) -> Session:
    """The organization's session, else 404 (another organization's too)."""
    session = await repository.of_organization(
        db_session, organization_id, session_id, for_update=for_update
    )
    if session is None:
        raise SessionNotFound()
    return session


def require_running(session: Session, *, also: tuple[str, ...] = ()) -> str:
    """The runner holding a running session; 409 `session_not_running` otherwise."""
    if session.status not in ("running", *also) or session.runner_id is None:
        raise SessionNotRunning(
            f"The session is {session.status}.", details={"status": session.status}
        )
    return session.runner_id


async def pause(db_session: AsyncSession, runner: RunnerClient, session: Session) -> None:
    runner_id = require_running(session)
    await runner.session_command(runner_id, "pause", session.id)
    lifecycle.paused(session, at=max(datetime.now(UTC), session.status_changed_at))


async def resume(db_session: AsyncSession, runner: RunnerClient, session: Session) -> None:
    if session.status != "paused" or session.runner_id is None:
        raise SessionNotPaused(
            f"The session is {session.status}.", details={"status": session.status}
        )
    await runner.session_command(session.runner_id, "resume", session.id)
    lifecycle.resumed(session, at=max(datetime.now(UTC), session.status_changed_at))


async def keepalive(runner: RunnerClient, session: Session) -> None:
    """Reset the runner's idle clock of the session."""
    runner_id = require_running(session, also=("paused",))
    await runner.session_command(runner_id, "touch", session.id)
