"""One pending attempt per organization holds on a generic plan too.

`start_attempt` names the partial unique index by its predicate (`ON CONFLICT
(organization_id) WHERE status = 'pending'`). PostgreSQL can only match that predicate to the
index when it is a constant: sent as a bind parameter, it matched while the statement ran on
custom plans and failed ("no unique or exclusion constraint matching the ON CONFLICT
specification") once PostgreSQL chose a generic plan for the cached statement, which it may do
from the sixth execution on a connection. `force_generic_plan` makes that happen at once.
"""

from __future__ import annotations

from datetime import UTC, datetime

from skiff_billing.topup.repository import start_attempt
from skiff_contracts import new_id
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


async def test_one_pending_attempt_per_organization_on_a_generic_plan(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    org = new_id("org")
    async with sessions() as session, session.begin():
        await session.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
        started = [
            await start_attempt(
                session,
                attempt_id=new_id("tup"),
                organization_id=org,
                purchase_id=new_id("pur"),
                now=datetime.now(UTC),
            )
            for _ in range(3)
        ]
    assert started == [True, False, False]
