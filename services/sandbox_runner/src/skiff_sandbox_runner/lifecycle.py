"""The lifecycle loop: idle timeouts, maximum lifetimes, dead sandboxes and per-minute usage."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import structlog
from skiff_messaging.aio import raise_if_cancelled

from skiff_sandbox_runner.held import Ending, Held
from skiff_sandbox_runner.metering import utcnow
from skiff_sandbox_runner.runtime import Runtime
from skiff_sandbox_runner.sessions.stop import end_session
from skiff_sandbox_runner.sessions.usage import meter

log = structlog.get_logger("skiff_sandbox_runner.lifecycle")

DIED = "the sandbox died"


async def run_lifecycle(rt: Runtime) -> None:
    """Tend every held session once per tick, until cancelled."""
    last_liveness = time.monotonic()
    while True:
        raise_if_cancelled()  # a cancel swallowed inside nats-py must still stop the loop
        await asyncio.sleep(rt.settings.lifecycle_tick_seconds)
        check_liveness = time.monotonic() - last_liveness >= rt.settings.liveness_check_seconds
        if check_liveness:
            last_liveness = time.monotonic()
        for held in rt.holdings:
            try:
                await tend(rt, held, utcnow(), check_liveness=check_liveness)
            except Exception:
                log.exception("lifecycle check failed", session_id=held.session_id)


async def tend(rt: Runtime, held: Held, now: datetime, *, check_liveness: bool) -> None:
    """End the session if it must end (in the background), else meter it."""
    if held.ending_now:
        return
    ending = _due_ending(held, now)
    alive_unknown = ending is None and check_liveness and held.status != "stopping"
    if alive_unknown and not await rt.backend.is_running(held.sandbox):
        ending = Ending(DIED, failed=True)
    if ending is not None:
        rt.spawn(end_session(rt, held, ending), name=f"end-{held.session_id}")
        return
    await meter(rt, held, now)


def _due_ending(held: Held, now: datetime) -> Ending | None:
    if held.pending is not None:
        return held.pending  # a stop whose recording failed: try again
    if held.status == "stopping":
        return None
    if held.active_seconds(now) >= held.spec.timeout_seconds:
        return Ending("timeout")
    if held.idle_seconds(now) >= held.spec.idle_timeout_seconds:
        return Ending("idle_timeout")
    return None
