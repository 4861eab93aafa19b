"""Hold calls as the responders make them (holds.calls): alone when the rules stay quiet,
else on the session's road, where the rules' writes commit with the change.

Run against the real database with no app, so the outbox keeps what the rules recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from billing_support import open_account
from skiff_billing.holds import alone
from skiff_billing.holds.calls import HoldCalls
from skiff_billing.models import Account, AutoTopup, Hold, TopupAttempt
from skiff_billing.policy import Policy
from skiff_billing.settings import DEFAULT_PACKAGES
from skiff_kit.driver import driver_connection
from skiff_kit.errors import SkiffError
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

POLICY = Policy(low_credit_threshold=50, packages=DEFAULT_PACKAGES)


@pytest.fixture
def calls(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> HoldCalls:
    return HoldCalls(engine, sessions, POLICY)


async def reserve(calls: HoldCalls, org: str, amount: int, reference: str) -> str:
    now = datetime.now(UTC)
    hold = await calls.reserve(
        organization_id=org,
        amount=amount,
        reference=reference,
        expires_at=now + timedelta(minutes=10),
        description=reference,
        now=now,
    )
    return hold.id


async def outbox(sessions: async_sessionmaker[AsyncSession], subject_part: str) -> int:
    async with sessions() as session:
        found = await session.scalar(
            text("select count(*) from outbox where subject like :s"), {"s": f"%{subject_part}%"}
        )
        return int(found or 0)


async def account(sessions: async_sessionmaker[AsyncSession], org: str) -> Account:
    async with sessions() as session:
        found = await session.scalar(select(Account).where(Account.organization_id == org))
        assert found is not None
        return found


async def test_alone_commits_a_quiet_reservation_and_writes_nothing_when_a_rule_would(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    org = await open_account(sessions, bonus=100)
    now = datetime.now(UTC)
    rules = alone.rules_arguments(POLICY)
    fields = {"expires_at": None, "description": "d", "rules": rules, "now": now}
    async with driver_connection(engine) as connection:
        quiet = await alone.reserve(
            connection, organization_id=org, amount=30, reference="r1", **fields
        )
        # 70 → 30 available: below the low mark, so the threshold rule would write.
        crossing = await alone.reserve(
            connection, organization_id=org, amount=40, reference="r2", **fields
        )
    assert quiet is not None
    assert quiet.status == "pending"
    assert crossing is None
    assert (await account(sessions, org)).reserved == 30  # committed, and only the first
    async with sessions() as session:
        references = set(await session.scalars(select(Hold.reference)))
    assert references == {"r1"}


async def test_a_reservation_crossing_the_low_mark_emits_credits_low_once(
    calls: HoldCalls, sessions: async_sessionmaker[AsyncSession]
) -> None:
    org = await open_account(sessions, bonus=100)
    first = await reserve(calls, org, 30, "a")  # 70 available: quiet
    assert await outbox(sessions, "credits.low") == 0
    second = await reserve(calls, org, 30, "b")  # 40: crosses the mark of 50
    await reserve(calls, org, 10, "c")  # 30: below, already told: quiet
    assert await outbox(sessions, "credits.low") == 1
    state = await account(sessions, org)
    assert (state.reserved, state.low_credit_notified) == (70, True)

    # Back above the mark the flag is cleared, and the next crossing is told again.
    await calls.release(hold_id=first)
    await calls.release(hold_id=second)
    assert (await account(sessions, org)).low_credit_notified is False
    await reserve(calls, org, 50, "d")
    assert await outbox(sessions, "credits.low") == 2


async def test_a_capture_reaching_zero_emits_credits_exhausted_once(
    calls: HoldCalls, sessions: async_sessionmaker[AsyncSession]
) -> None:
    org = await open_account(sessions, bonus=10)
    hold = await reserve(calls, org, 10, "all")
    captured = await calls.capture(hold_id=hold, amount=None)
    assert (captured.status, captured.captured) == ("captured", 10)
    assert await outbox(sessions, "credits.exhausted") == 1
    state = await account(sessions, org)
    assert (state.balance, state.reserved) == (0, 0)


async def test_a_reservation_below_the_top_up_threshold_starts_one_attempt(
    calls: HoldCalls, sessions: async_sessionmaker[AsyncSession]
) -> None:
    org = await open_account(sessions, bonus=1_000)
    async with sessions() as session, session.begin():
        session.add(
            AutoTopup(
                organization_id=org,
                enabled=True,
                threshold_credits=500,
                package_id=DEFAULT_PACKAGES[0].id,
                max_per_month=5,
                status="active",
                consecutive_failures=0,
                payment_method_id="pm_card_visa",
            )
        )
    await reserve(calls, org, 100, "above")  # 900 available: quiet
    await reserve(calls, org, 450, "below")  # 450: below the top-up's threshold
    await reserve(calls, org, 10, "cooling")  # in the cooldown: quiet
    async with sessions() as session:
        started = await session.scalar(
            select(func.count()).where(TopupAttempt.organization_id == org)
        )
    assert started == 1
    assert (await account(sessions, org)).reserved == 560


async def test_refusals_are_the_domain_errors_with_their_details(
    calls: HoldCalls, sessions: async_sessionmaker[AsyncSession]
) -> None:
    org = await open_account(sessions, bonus=100)
    hold = await reserve(calls, org, 20, "x")

    with pytest.raises(SkiffError) as short:
        await reserve(calls, org, 81, "y")
    assert (short.value.code, short.value.details) == (
        "insufficient_credits",
        {"required": 81, "available": 80},
    )
    with pytest.raises(SkiffError) as reused:
        await reserve(calls, org, 21, "x")
    assert (reused.value.code, reused.value.details) == (
        "hold_reference_reused",
        {"reference": "x", "amount": 20},
    )
    with pytest.raises(SkiffError) as too_much:
        await calls.capture(hold_id=hold, amount=21)
    assert too_much.value.code == "invalid_amount"
    with pytest.raises(SkiffError) as missing:
        await calls.capture(hold_id="hld_missing", amount=None)
    assert missing.value.code == "hold_not_found"
    await calls.capture(hold_id=hold, amount=5)
    with pytest.raises(SkiffError) as resolved:
        await calls.release(hold_id=hold)
    assert (resolved.value.code, resolved.value.details) == (
        "hold_already_resolved",
        {"status": "captured"},
    )
    with pytest.raises(SkiffError) as not_positive:
        await reserve(calls, org, 0, "z")
    assert not_positive.value.code == "invalid_amount"


async def test_capturing_a_hold_past_its_time_expires_it(
    calls: HoldCalls, sessions: async_sessionmaker[AsyncSession]
) -> None:
    org = await open_account(sessions, bonus=1_000)
    hold = await reserve(calls, org, 30, "late")
    async with sessions() as session, session.begin():
        past = datetime.now(UTC) - timedelta(seconds=1)
        await session.execute(update(Hold).where(Hold.id == hold).values(expires_at=past))
    expired = await calls.capture(hold_id=hold, amount=None)
    assert (expired.status, expired.captured) == ("expired", 0)
    state = await account(sessions, org)
    assert (state.balance, state.reserved) == (1_000, 0)
