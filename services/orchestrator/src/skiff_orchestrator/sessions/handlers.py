"""JetStream handlers of sandbox and billing events about sessions (idempotent, order-proof)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog
from skiff_contracts import Envelope, EventPayload
from skiff_contracts.events.billing import CreditsExhausted, UsageCharged
from skiff_contracts.events.sandbox import (
    SandboxFailed,
    SandboxPaused,
    SandboxResumed,
    SandboxStarted,
    SandboxStopped,
)
from skiff_messaging.consumer import Handler
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_orchestrator.live.announce import LiveAnnouncer
from skiff_orchestrator.models import Session
from skiff_orchestrator.sessions import lifecycle, repository

log = structlog.get_logger("skiff_orchestrator.sessions")

Handlers = Mapping[str, tuple[type[EventPayload], Handler]]


async def _session(db_session: AsyncSession, session_id: str) -> Session | None:
    session = await repository.by_id_for_update(db_session, session_id)
    if session is None:
        # Not ours (another deployment sharing NATS?) or long gone: nothing to apply.
        log.warning("event about an unknown session", session_id=session_id)
    return session


async def on_started(db_session: AsyncSession, _: Envelope, event: SandboxStarted) -> None:
    if session := await _session(db_session, event.session_id):
        await lifecycle.started(db_session, session, runner_id=event.runner_id, at=event.started_at)


async def on_paused(db_session: AsyncSession, _: Envelope, event: SandboxPaused) -> None:
    if session := await _session(db_session, event.session_id):
        lifecycle.paused(session, at=event.paused_at)


async def on_resumed(db_session: AsyncSession, _: Envelope, event: SandboxResumed) -> None:
    if session := await _session(db_session, event.session_id):
        lifecycle.resumed(session, at=event.resumed_at)


async def on_stopped(db_session: AsyncSession, _: Envelope, event: SandboxStopped) -> None:
    if session := await _session(db_session, event.session_id):
        await lifecycle.stopped(
            db_session,
            session,
            runner_id=event.runner_id,
            reason=event.reason,
            active_seconds=event.active_seconds,
            at=event.stopped_at,
        )


async def on_failed(db_session: AsyncSession, _: Envelope, event: SandboxFailed) -> None:
    if session := await _session(db_session, event.session_id):
        await lifecycle.sandbox_failed(
            db_session, session, runner_id=event.runner_id, reason=event.reason, at=event.failed_at
        )


async def on_usage_charged(db_session: AsyncSession, _: Envelope, event: UsageCharged) -> None:
    """`credits_used` only grows: a late or repeated charge cannot lower it."""
    await db_session.execute(
        update(Session)
        .where(
            Session.id == event.session_id,
            Session.organization_id == event.organization_id,
            Session.credits_used < event.session_credits_total,
        )
        .values(credits_used=event.session_credits_total)
    )


def on_credits_exhausted(live: LiveAnnouncer) -> Handler:
    """Stop every live session of the organization (reason `credits_exhausted`)."""

    async def handle(db_session: AsyncSession, _: Envelope, event: CreditsExhausted) -> None:
        sessions = await repository.live_of_organization_for_update(
            db_session, event.organization_id
        )
        for session in sessions:
            await lifecycle.request_stop(db_session, live, session, reason="credits_exhausted")

    return handle


SANDBOX_SESSION_HANDLERS: dict[str, tuple[type[EventPayload], Any]] = {
    SandboxStarted.event_type: (SandboxStarted, on_started),
    SandboxPaused.event_type: (SandboxPaused, on_paused),
    SandboxResumed.event_type: (SandboxResumed, on_resumed),
    SandboxStopped.event_type: (SandboxStopped, on_stopped),
    SandboxFailed.event_type: (SandboxFailed, on_failed),
}


def billing_handlers(live: LiveAnnouncer) -> Handlers:
    return {
        UsageCharged.event_type: (UsageCharged, on_usage_charged),
        CreditsExhausted.event_type: (CreditsExhausted, on_credits_exhausted(live)),
    }
