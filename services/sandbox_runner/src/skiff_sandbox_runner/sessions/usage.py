"""Per-minute metering: `sandbox.session.usage` as each minute of running time begins."""

from __future__ import annotations

from datetime import datetime

from skiff_sandbox_runner.held import Held
from skiff_sandbox_runner.metering import minutes_started
from skiff_sandbox_runner.runtime import Runtime
from skiff_sandbox_runner.sessions import events, repository


async def meter(rt: Runtime, held: Held, now: datetime) -> None:
    """Report the minute running time has entered, if it is new (one event, billing tops up)."""
    if minutes_started(held.active_seconds(now)) <= held.minutes_reported:
        return
    async with held.lock:
        if held.status == "stopping":
            return
        seconds = held.active_seconds(now)
        minutes = minutes_started(seconds)
        if minutes <= held.minutes_reported:
            return
        async with rt.sessions() as session, session.begin():
            await repository.update_sandbox(
                session, held.sandbox.sandbox_id, minutes_reported=minutes
            )
            await events.record_usage(session, held, minutes=minutes, seconds=seconds, at=now)
        held.minutes_reported = minutes
