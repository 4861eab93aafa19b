"""A Hypothesis state machine over the ledger: reserve, capture, release, expire, grant and
usage in any order keep `balance = sum(entries)`, `reserved = sum(pending holds)`, the month's
spending in the rollups equal to the ledger's, and no hold resolved twice (each hold has at
most one capture or release entry, and one only once it is no longer pending)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule
from skiff_billing.holds import service as holds
from skiff_billing.holds.calls import HoldCalls
from skiff_billing.ledger import service as ledger
from skiff_billing.ledger.usage import charge_usage
from skiff_billing.models import Account, Hold, LedgerEntry
from skiff_billing.policy import Policy
from skiff_contracts import new_id
from skiff_contracts.events.sandbox import SessionUsage
from skiff_kit.db import create_engine, create_session_factory
from skiff_kit.errors import SkiffError
from sqlalchemy import func, select, update

T = TypeVar("T")
POLICY = Policy()


class LedgerMachine(RuleBasedStateMachine):
    """One organization; each rule is one transaction on the real database."""

    database_url = ""
    holds_made = Bundle("holds")

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.engine = create_engine(self.database_url, schema="billing", pool_size=2)
        self.sessions = create_session_factory(self.engine)
        self.calls = HoldCalls(self.engine, self.sessions, POLICY)
        self.org = new_id("org")
        self.minutes = 0
        self.session_id = new_id("ses")
        self.run(self._open())

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(work)

    async def _open(self) -> None:
        async with self.sessions() as session, session.begin():
            await ledger.open_account(session, organization_id=self.org, bonus=50)

    async def _tx(self, work: Any) -> Any:
        try:
            async with self.sessions() as session, session.begin():
                return await work(session)
        except SkiffError:
            return None

    async def _call(self, work: Coroutine[Any, Any, T]) -> T | None:
        try:
            return await work
        except SkiffError:
            return None

    # Reserve, capture and release as the responders make them (holds.calls): alone when the
    # rules stay quiet, on the session's road when they write (the low mark is near the
    # balance, so both roads are taken).
    @rule(target=holds_made, amount=st.integers(1, 40))
    def reserve(self, amount: int) -> str | None:
        now = datetime.now(UTC)
        hold = self.run(
            self._call(
                self.calls.reserve(
                    organization_id=self.org,
                    amount=amount,
                    reference=new_id("ref"),
                    expires_at=now + timedelta(hours=1),
                    description="machine",
                    now=now,
                )
            )
        )
        return None if hold is None else hold.id

    @rule(hold=holds_made, part=st.integers(0, 40) | st.none())
    def capture(self, hold: str | None, part: int | None) -> None:
        if hold is not None:
            self.run(self._call(self.calls.capture(hold_id=hold, amount=part)))

    @rule(hold=holds_made)
    def release(self, hold: str | None) -> None:
        if hold is not None:
            self.run(self._call(self.calls.release(hold_id=hold)))

    @rule(hold=holds_made)
    def expire(self, hold: str | None) -> None:
        if hold is None:
            return
        past = datetime.now(UTC) - timedelta(seconds=1)

        async def work(session: Any) -> None:
            await session.execute(
                update(Hold)
                .where(Hold.id == hold, Hold.status == "pending")
                .values(expires_at=past)
            )
            await holds.expire_due(session, hold_id=hold, policy=POLICY, now=datetime.now(UTC))

        self.run(self._tx(work))

    @rule(amount=st.integers(1, 100))
    def grant(self, amount: int) -> None:
        async def work(session: Any) -> None:
            account = await ledger.locked_account(session, self.org)
            await ledger.post(
                session,
                account,
                type_="adjustment",
                amount=amount,
                reference=new_id("grant"),
                description="machine grant",
                now=datetime.now(UTC),
            )

        self.run(self._tx(work))

    @rule(minutes=st.integers(1, 5))
    def usage(self, minutes: int) -> None:
        self.minutes += minutes
        event = SessionUsage(
            session_id=self.session_id,
            organization_id=self.org,
            runner_id="r1",
            minutes_started=self.minutes,
            active_seconds=self.minutes * 60.0,
            final=False,
            measured_at=datetime.now(UTC),
        )
        self.run(self._tx(lambda s: charge_usage(s, event, POLICY)))

    @invariant()
    def books_balance(self) -> None:
        async def check() -> None:
            async with self.sessions() as session:
                account = await session.scalar(
                    select(Account).where(Account.organization_id == self.org)
                )
                assert account is not None
                total = await session.scalar(
                    select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
                        LedgerEntry.organization_id == self.org
                    )
                )
                pending = await session.scalar(
                    select(func.coalesce(func.sum(Hold.amount), 0)).where(
                        Hold.organization_id == self.org, Hold.status == "pending"
                    )
                )
                assert account.balance == total
                assert account.reserved == pending
                # The month's spending as the balance shows it (the rollups) is the ledger's.
                now = datetime.now(UTC)
                spent = await session.scalar(
                    select(func.coalesce(func.sum(-LedgerEntry.amount), 0)).where(
                        LedgerEntry.organization_id == self.org,
                        LedgerEntry.type.in_(("usage", "capture")),
                        LedgerEntry.created_at >= ledger.month_start(now),
                    )
                )
                assert await ledger.used_this_month(session, self.org, now) == spent
                for hold in await session.scalars(
                    select(Hold).where(Hold.organization_id == self.org)
                ):
                    endings = await session.scalar(
                        select(func.count()).where(
                            LedgerEntry.organization_id == self.org,
                            LedgerEntry.reference.in_(
                                [f"hold:{hold.id}:capture", f"hold:{hold.id}:release"]
                            ),
                        )
                    )
                    assert endings == (0 if hold.status == "pending" else 1)
                    assert hold.captured <= hold.amount

        self.run(check())

    def teardown(self) -> None:
        self.run(self.engine.dispose())
        self.loop.close()


def test_the_ledger_keeps_its_books_whatever_the_order(database_url: str) -> None:
    LedgerMachine.database_url = database_url
    machine = LedgerMachine.TestCase
    machine.settings = settings(
        max_examples=25,
        stateful_step_count=15,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    machine().runTest()
