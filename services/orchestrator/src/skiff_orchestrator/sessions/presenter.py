"""A session row as the API shows it."""

from __future__ import annotations

from skiff_orchestrator.models import Session
from skiff_orchestrator.sessions.lifecycle import running_seconds
from skiff_orchestrator.sessions.schemas import ResourcesOut, SessionOut


def session_out(session: Session) -> SessionOut:
    return SessionOut(
        id=session.id,
        status=session.status,
        image=session.image,
        resources=ResourcesOut(cpu=session.cpu, memory_mb=session.memory_mb),
        network=session.network,
        timeout_seconds=session.timeout_seconds,
        idle_timeout_seconds=session.idle_timeout_seconds,
        env_keys=sorted(session.env),
        metadata=dict(session.metadata_),
        runner_id=session.runner_id,
        stop_reason=session.stop_reason,
        failure_reason=session.failure_reason,
        credits_used=session.credits_used,
        running_seconds=running_seconds(session),
        created_at=session.created_at,
        started_at=session.started_at,
        paused_at=session.paused_at,
        stopped_at=session.stopped_at,
    )
