"""Billing releases holds past their `expires_at` by itself: a loop, one transaction per hold.

Every replica runs it; a hold is expired once (its row is locked and re-checked in the
transaction), and capturing a hold already past its time expires it instead (holds.service).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from skiff_kit.logging import get_logger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from skiff_billing.holds import repository, service
from skiff_billing.policy import Policy

log = get_logger("skiff.billing.holds")
BATCH = 100


async def expire_once(sessions: async_sessionmaker[AsyncSession], policy: Policy) -> int:
    """Expire the holds due now; how many."""
    now = datetime.now(UTC)
    async with sessions() as session:
        due = await repository.due(session, now, BATCH)
    expired = 0
    for hold_id, _ in due:
        async with sessions() as session, session.begin():
            expired += await service.expire_due(session, hold_id=hold_id, policy=policy, now=now)
    if expired:
        log.info("holds_expired", count=expired)
    return expired


def expiry_lifespan(policy: Policy, every: float) -> Any:
    """A Litestar lifespan running the expiry loop while the app runs."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        sessions = app.state.get("db_session_factory")
        task = asyncio.create_task(_loop(sessions, policy, every), name="billing-hold-expiry")
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    return lifespan


async def _loop(
    sessions: async_sessionmaker[AsyncSession] | None, policy: Policy, every: float
) -> None:
    if sessions is None:
        return
    while True:
        try:
            await expire_once(sessions, policy)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the database may be away for a moment; try again later
            log.warning("hold_expiry_failed", error=repr(error))
        await asyncio.sleep(every)
