"""Hold calls as billing's responders run them: alone when the rules stay quiet, else whole.

Each call first goes alone (holds.alone: one statement on a bare pooled connection, committed
by itself). When the function says the threshold or auto top-up rules would write after the
change, it wrote nothing, and the call runs again on the session's road (holds.service), where
the change and what the rules write commit in one transaction. Domain errors are raised as
`SkiffError`s either way.
"""

from __future__ import annotations

from datetime import UTC, datetime

from skiff_kit.driver import driver_connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from skiff_billing.functions import HoldRow
from skiff_billing.holds import alone, service
from skiff_billing.policy import Policy


class HoldCalls:
    """Reserve, capture and release on one database (its engine and session factory)."""

    def __init__(
        self, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], policy: Policy
    ) -> None:
        self.engine = engine
        self.sessions = sessions
        self.policy = policy
        self.rules = alone.rules_arguments(policy)  # the same for every call

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
        async with driver_connection(self.engine) as connection:
            done = await alone.reserve(
                connection, organization_id, amount, reference, expires_at, description,
                self.rules, now,
            )  # fmt: skip
        if done is not None:
            return done
        async with self.sessions() as session, session.begin():
            return await service.reserve(
                session,
                organization_id=organization_id,
                amount=amount,
                reference=reference,
                expires_at=expires_at,
                description=description,
                policy=self.policy,
                now=now,
            )

    async def capture(self, *, hold_id: str, amount: int | None) -> HoldRow:
        """Spend all or part of a pending hold (a hold past its time expires instead)."""
        now = datetime.now(UTC)
        async with driver_connection(self.engine) as connection:
            done = await alone.capture(connection, hold_id, amount, self.rules, now)
        if done is not None:
            return done
        async with self.sessions() as session, session.begin():
            return await service.capture(
                session, hold_id=hold_id, amount=amount, policy=self.policy, now=now
            )

    async def release(self, *, hold_id: str) -> HoldRow:
        """Give a pending hold back whole."""
        now = datetime.now(UTC)
        async with driver_connection(self.engine) as connection:
            done = await alone.release(connection, hold_id, self.rules, now)
        if done is not None:
            return done
        async with self.sessions() as session, session.begin():
            return await service.release(session, hold_id=hold_id, policy=self.policy, now=now)
