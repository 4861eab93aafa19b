"""`POST /sessions?wait=true`: the session once its row says it runs (or will not)."""

from __future__ import annotations

import time

from skiff_contracts.live import session_status_subject

from skiff_orchestrator.live.feed import live_feed
from skiff_orchestrator.models import Session
from skiff_orchestrator.runtime import Runtime

# The row is the truth (a task may be started once it says `running`); LIVE only wakes us.
_RECHECK_SECONDS = 0.25
SETTLED = frozenset({"running", "paused", "stopping", "stopped", "failed"})


async def settled(runtime: Runtime, session: Session) -> Session:
    """The session once it left `starting`, or as it stands after the wait limit."""
    if session.status in SETTLED:
        return session
    deadline = time.monotonic() + runtime.settings.session_wait_max_seconds
    subject = session_status_subject(session.id)
    async with live_feed(runtime.nats, subject, after=None) as feed:
        while (left := deadline - time.monotonic()) > 0:
            current = await runtime.load_session(session.id)
            if current is not None:
                session = current
                if current.status in SETTLED:
                    break
            await feed.next(timeout=min(_RECHECK_SECONDS, left))
    return session
