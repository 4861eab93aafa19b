"""JetStream handlers: start requested sessions, stop the ones this runner holds.

Idempotence does not rest on the inbox alone: a session with a sandbox row anywhere is not
started again, and a session this runner does not hold (any more) is not stopped.
"""

from __future__ import annotations

from skiff_contracts import Envelope
from skiff_contracts.events.orchestrator import (
    SessionFailed,
    SessionRequested,
    SessionStopRequested,
)
from skiff_messaging.consumer import Handler
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_sandbox_runner.held import Ending
from skiff_sandbox_runner.service import SandboxRunner
from skiff_sandbox_runner.sessions.start import start_session
from skiff_sandbox_runner.sessions.stop import end_session


def session_requested(runner: SandboxRunner) -> Handler:
    """Start the session's sandbox (any runner may; the first to pull the event does)."""

    async def handle(session: AsyncSession, envelope: Envelope, payload: SessionRequested) -> None:
        await start_session(await runner.runtime(), payload)

    return handle


def session_ended(runner: SandboxRunner) -> Handler:
    """Stop the session if this runner holds it: final usage, then `sandbox.session.stopped`."""

    async def handle(
        session: AsyncSession, envelope: Envelope, payload: SessionStopRequested | SessionFailed
    ) -> None:
        rt = await runner.runtime()
        held = rt.holdings.get(payload.session_id, payload.organization_id)
        if held is not None:
            await end_session(rt, held, Ending(payload.reason))

    return handle
