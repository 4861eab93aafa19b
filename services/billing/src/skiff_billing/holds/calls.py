"""Hold calls as billing's responders run them: alone when the rules stay quiet, else whole.

Each call first goes alone (holds.alone: one statement on a bare pooled connection, committed
by itself). When the function says the threshold or auto top-up rules would write after the
change, it wrote nothing, and the call runs again on the session's road (holds.service), where
the change and what the rules write commit in one transaction. Domain errors are raised as
`SkiffError`s either way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from skiff_kit.driver import driver_connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from skiff_billing.functions import HoldRow
from skiff_billing.holds import alone, service
from skiff_billing.policy import Policy


@dataclass(frozen=True, slots=True)
class HoldCalls:
    """Reserve, capture and release on one database (its engine and session factory)."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    policy: Policy

    async def reserve(
        self,
        *,
        organization_id: str,
        amount: int,
        reference: str,
        expires_at: datetime | None,
        description: str,
        now: datetime,
    ) -> HoldRow:
        """A new pending hold, or the hold `reference` already names (same amount)."""
        policy = self.policy

        async def quick(connection: asyncpg.Connection) -> HoldRow | None:
            return await alone.reserve(
                connection,
                organization_id=organization_id,
                amount=amount,
                reference=reference,
                expires_at=expires_at,
                description=description,
                policy=policy,
                now=now,
            )

        async def whole(session: AsyncSession) -> HoldRow:
            return await service.reserve(
                session,
                organization_id=organization_id,
                amount=amount,
                reference=reference,
                expires_at=expires_at,
                description=description,
                policy=policy,
                now=now,
            )

        return await self._run(quick, whole)

    async def capture(self, *, hold_id: str, amount: int | None) -> HoldRow:
        """Spend all or part of a pending hold (a hold past its time expires instead)."""
        policy, now = self.policy, datetime.now(UTC)

        async def quick(connection: asyncpg.Connection) -> HoldRow | None:
            return await alone.capture(
                connection, hold_id=hold_id, amount=amount, policy=policy, now=now
            )

        async def whole(session: AsyncSession) -> HoldRow:
            return await service.capture(
                session, hold_id=hold_id, amount=amount, policy=policy, now=now
            )

        return await self._run(quick, whole)

    async def release(self, *, hold_id: str) -> HoldRow:
        """Give a pending hold back whole."""
        policy, now = self.policy, datetime.now(UTC)

        async def quick(connection: asyncpg.Connection) -> HoldRow | None:
            return await alone.release(connection, hold_id=hold_id, policy=policy, now=now)

        async def whole(session: AsyncSession) -> HoldRow:
            return await service.release(session, hold_id=hold_id, policy=policy, now=now)

        return await self._run(quick, whole)

    async def _run(
        self,
        quick: Callable[[asyncpg.Connection], Awaitable[HoldRow | None]],
        whole: Callable[[AsyncSession], Awaitable[HoldRow]],
    ) -> HoldRow:
        async with driver_connection(self.engine) as connection:
            done = await quick(connection)
        if done is not None:
            return done
        async with self.sessions() as session, session.begin():
            return await whole(session)
