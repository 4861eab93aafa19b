"""Which way a usage event is charged: on a bare connection when no rule writes; the session's
way, rules and all in the debit's transaction, when one does (low, exhausted, auto top-up)."""

from __future__ import annotations

from typing import Any

import asyncpg
from billing_support import deliver_usage, open_account, session_usage
from skiff_billing.ledger import handlers
from skiff_billing.ledger.usage import exhausted_event_id
from skiff_billing.models import Account, LedgerEntry
from skiff_billing.policy import Policy
from skiff_contracts import Envelope, new_id
from skiff_messaging import BareHandler
from skiff_messaging.bare import Commit
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


class Ways:
    """Billing's usage handler, noting which way each event went."""

    def __init__(self, policy: Policy) -> None:
        self.real = handlers.session_usage(policy)
        self.ways: list[str] = []
        self.handler = BareHandler(on_connection=self.bare, on_session=self.session)

    async def bare(
        self, connection: asyncpg.Connection, envelope: Envelope, payload: Any
    ) -> Commit | None:
        answer = await self.real.on_connection(connection, envelope, payload)
        self.ways.append("bare" if answer is not None else "declined")
        return answer

    async def session(self, session: AsyncSession, envelope: Envelope, payload: Any) -> None:
        self.ways.append("session")
        await self.real.on_session(session, envelope, payload)


async def outbox(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, str]]:
    async with sessions() as session:
        rows = await session.execute(text("select id, subject from outbox order by seq"))
        return [(row.id, row.subject) for row in rows]


async def test_quiet_debits_go_bare_and_a_crossing_takes_the_session_with_its_events(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    policy = Policy(low_credit_threshold=2)
    org, ses = await open_account(sessions, bonus=4), new_id("ses")
    ways = Ways(policy)

    for minute in range(1, 6):  # 4 → 3 → 2 → 1 (low) → 0 (exhausted) → -1
        assert await deliver_usage(sessions, session_usage(org, ses, minute), policy, ways.handler)

    # 3 → 2 is not low yet (below the mark is); 0 → -1 crosses nothing new.
    assert ways.ways == ["bare", "bare", "declined", "session", "declined", "session", "bare"]
    async with sessions() as session:
        account = await session.scalar(select(Account).where(Account.organization_id == org))
        crossing = await session.scalar(
            select(LedgerEntry).where(
                LedgerEntry.organization_id == org, LedgerEntry.balance_after == 0
            )
        )
    assert account is not None
    assert crossing is not None
    assert (account.balance, account.low_credit_notified) == (-1, True)
    events = await outbox(sessions)
    assert [subject for _, subject in events] == [
        "billing.account.opened",
        *["billing.usage.charged"] * 3,
        "billing.credits.low",
        "billing.usage.charged",
        "billing.credits.exhausted",
        "billing.usage.charged",
    ]
    assert events[-2][0] == exhausted_event_id(crossing.id)
