"""Session status changes on LIVE, published once their transaction committed (best effort).

Domain code calls `announce(db_session, event)` the way it records outbox events; nothing is
published if the transaction rolls back. LIVE is not the truth (the row is), so a failed
publish is logged and forgotten.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgspec
import structlog
from nats.aio.client import Client as NATS
from skiff_contracts.live import LiveEvent, session_status_subject
from skiff_messaging.provision import provisioned
from skiff_messaging.streams import ensure_live_stream
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

log = structlog.get_logger("skiff_orchestrator.live")

_PENDING = "live_pending"
_background: set[asyncio.Task[None]] = set()


class LiveAnnouncer:
    """Publishes recorded live events after commit on the connection `nats()` gives."""

    def __init__(self, nats: Callable[[], NATS | None]) -> None:
        self._nats = nats

    def session_status(self, db_session: AsyncSession, session_id: str, status: str) -> None:
        """Announce that the session entered `status`."""
        live = LiveEvent(kind="status", session_id=session_id, status=status, at=datetime.now(UTC))
        self.announce(db_session, session_status_subject(session_id), live)

    def announce(self, db_session: AsyncSession, subject: str, live: LiveEvent) -> None:
        info = db_session.sync_session.info
        pending: list[tuple[str, LiveEvent]] | None = info.get(_PENDING)
        if pending is None:
            pending = info[_PENDING] = []
            sync = db_session.sync_session
            event.listen(sync, "after_commit", self._after_commit, once=True)
            event.listen(sync, "after_soft_rollback", _forget, once=True)
        pending.append((subject, live))

    def _after_commit(self, sync_session: Any) -> None:
        pending = sync_session.info.pop(_PENDING, [])
        nc = self._nats()
        if nc is None or not pending:
            return
        task = asyncio.get_running_loop().create_task(_publish(nc, pending))
        _background.add(task)
        task.add_done_callback(_background.discard)


def _forget(sync_session: Any, _previous: Any) -> None:
    sync_session.info.pop(_PENDING, None)


async def _publish(nc: NATS, pending: list[tuple[str, LiveEvent]]) -> None:
    js = nc.jetstream()
    for subject, live in pending:
        try:
            data = msgspec.json.encode(live)
            await provisioned(
                lambda: js.publish(subject, data),  # noqa: B023 - awaited within the iteration
                lambda: ensure_live_stream(js),
            )
        except Exception as exc:
            log.warning("live event not published", subject=subject, error=repr(exc))
