"""ledger.service: an account opens once, with its bonus entry and its event, never committing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from skiff_billing.ledger import service
from skiff_billing.models import Account, LedgerEntry
from skiff_contracts import decode_envelope, new_id
from skiff_contracts.events.billing import AccountOpened
from skiff_kit.errors import NotFound
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


async def outbox_rows(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, bytes]]:
    async with sessions() as session:
        rows = await session.execute(text("select subject, payload from outbox order by seq"))
        return [(row.subject, row.payload) for row in rows]


async def test_open_account_writes_the_account_the_bonus_and_the_event(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    org = new_id("org")
    async with sessions() as session, session.begin():
        assert await service.open_account(session, organization_id=org, bonus=100) is True

    async with sessions() as session:
        account = await service.account(session, org)
        entries = list(await session.scalars(select(LedgerEntry)))
    assert account.id.startswith("acc_")
    assert (account.balance, account.reserved, account.last_topped_up_at) == (100, 0, None)
    [entry] = entries
    assert (entry.type, entry.amount, entry.balance_after) == ("bonus", 100, 100)
    assert (entry.reference, entry.description) == ("signup_bonus", "Signup bonus")
    assert (entry.account_id, entry.organization_id) == (account.id, org)

    [(subject, raw)] = await outbox_rows(sessions)
    assert subject == "billing.account.opened"
    envelope = decode_envelope(raw)
    assert (envelope.source, envelope.organization_id) == ("skiff/billing", org)
    opened = envelope.payload(AccountOpened)
    assert (opened.account_id, opened.bonus_credits, opened.balance) == (account.id, 100, 100)


async def test_open_account_a_second_time_changes_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    org = new_id("org")
    async with sessions() as session, session.begin():
        assert await service.open_account(session, organization_id=org, bonus=100) is True
    async with sessions() as session, session.begin():
        assert await service.open_account(session, organization_id=org, bonus=100) is False

    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Account)) == 1
        assert await session.scalar(select(func.count()).select_from(LedgerEntry)) == 1
        assert (await service.account(session, org)).balance == 100
    assert len(await outbox_rows(sessions)) == 1


async def test_a_zero_bonus_opens_an_empty_account_without_an_entry(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    org = new_id("org")
    async with sessions() as session, session.begin():
        assert await service.open_account(session, organization_id=org, bonus=0) is True

    async with sessions() as session:
        assert (await service.account(session, org)).balance == 0
        assert list(await session.scalars(select(LedgerEntry))) == []
    [(_, raw)] = await outbox_rows(sessions)
    assert decode_envelope(raw).payload(AccountOpened).bonus_credits == 0


async def test_open_account_leaves_the_commit_to_the_caller(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    org = new_id("org")
    async with sessions() as session:
        await service.open_account(session, organization_id=org, bonus=100)
        await session.rollback()

    async with sessions() as session:
        with pytest.raises(NotFound):
            await service.account(session, org)
        assert list(await session.scalars(select(LedgerEntry))) == []
    assert await outbox_rows(sessions) == []


async def test_an_organization_without_an_account_is_not_found(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        with pytest.raises(NotFound) as raised:
            await service.account(session, new_id("org"))
    assert raised.value.code == "account_not_found"
    assert raised.value.status_code == 404


def test_month_start_is_midnight_of_the_first_day() -> None:
    now = datetime(2025, 3, 17, 15, 4, 5, 123456, tzinfo=UTC)
    assert service.month_start(now) == datetime(2025, 3, 1, tzinfo=UTC)
