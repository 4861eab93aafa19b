"""Recording the session events of the SANDBOX stream in the caller's transaction."""

from __future__ import annotations

from datetime import datetime

from skiff_contracts import EventPayload
from skiff_contracts.events.sandbox import SessionUsage, usage_event_id
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_sandbox_runner.held import Held
from skiff_sandbox_runner.metering import final_minutes
from skiff_sandbox_runner.outbox import OUTBOX


async def record(session: AsyncSession, held: Held, payload: EventPayload) -> None:
    """An event about `held`'s session (subject: the session id)."""
    await OUTBOX.record(
        session, payload, subject=held.session_id, organization_id=held.organization_id
    )


async def record_usage(
    session: AsyncSession,
    held: Held,
    *,
    minutes: int,
    seconds: float,
    at: datetime,
    final: bool = False,
) -> None:
    """`sandbox.session.usage`, with the deterministic id of its minute (or `final`)."""
    payload = SessionUsage(
        session_id=held.session_id,
        organization_id=held.organization_id,
        runner_id=held.sandbox.runner_id,
        minutes_started=minutes,
        active_seconds=round(seconds, 3),
        final=final,
        measured_at=at,
    )
    await OUTBOX.record(
        session,
        payload,
        subject=held.session_id,
        organization_id=held.organization_id,
        event_id=usage_event_id(held.session_id, None if final else minutes),
    )


async def record_final_usage(
    session: AsyncSession, held: Held, *, seconds: float, at: datetime
) -> None:
    """The last usage of a session: its exact running seconds, at least one minute."""
    await record_usage(
        session, held, minutes=final_minutes(seconds), seconds=seconds, at=at, final=True
    )
