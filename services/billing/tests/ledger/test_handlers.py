"""identity.organization.created → one account with its signup bonus, however often it arrives."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from billing_support import consumed_everything, from_identity, organization_created
from litestar.testing import AsyncTestClient
from nats.js import JetStreamContext
from skiff_billing.app import create
from skiff_billing.ledger import handlers
from skiff_billing.models import Account, LedgerEntry
from skiff_billing.settings import BillingSettings
from skiff_contracts import Envelope, new_id
from skiff_contracts.events.billing import AccountOpened
from skiff_testing.bus import eventually, publish, stream_envelopes
from skiff_testing.services import GatewaySigner
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


async def accounts_of(
    sessions: async_sessionmaker[AsyncSession], organization_id: str
) -> list[Account]:
    async with sessions() as session:
        query = select(Account).where(Account.organization_id == organization_id)
        return list(await session.scalars(query))


async def entries_of(
    sessions: async_sessionmaker[AsyncSession], organization_id: str
) -> list[LedgerEntry]:
    async with sessions() as session:
        query = select(LedgerEntry).where(LedgerEntry.organization_id == organization_id)
        return list(await session.scalars(query.order_by(LedgerEntry.id)))


async def outbox_size(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(text("select count(*) from outbox")) or 0)


async def opened_events(js: JetStreamContext) -> list[Envelope]:
    return [e for e in await stream_envelopes(js, "BILLING") if e.type == AccountOpened.event_type]


async def test_a_new_organization_gets_an_account_with_the_signup_bonus(
    client: AsyncTestClient[Any],
    js: JetStreamContext,
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
) -> None:
    payload = organization_created()
    org = payload.organization_id
    await publish(js, from_identity(payload))

    async def opened() -> bool:
        return len(await opened_events(js)) == 1

    await eventually(opened, what="billing.account.opened on BILLING")

    [account] = await accounts_of(sessions, org)
    assert (account.balance, account.reserved) == (100, 0)
    [entry] = await entries_of(sessions, org)
    assert entry.id.startswith("txn_")
    assert entry.account_id == account.id
    assert (entry.type, entry.amount, entry.balance_after) == ("bonus", 100, 100)
    assert entry.reference == "signup_bonus"

    [event] = await opened_events(js)
    assert event.source == "skiff/billing"
    assert event.organization_id == org
    assert event.subject == account.id
    opened_payload = event.payload(AccountOpened)
    assert opened_payload.organization_id == org
    assert opened_payload.account_id == account.id
    assert (opened_payload.bonus_credits, opened_payload.balance) == (100, 100)

    headers = gateway_signer.headers(gateway_signer.user(org, new_id("usr")))
    balance = await client.get("/api/v1/credits/balance", headers=headers)
    assert balance.status_code == 200
    assert balance.json()["credits"] == 100
    assert balance.json()["available"] == 100


async def test_the_same_organization_announced_again_opens_one_account_and_one_bonus(
    client: AsyncTestClient[Any],
    js: JetStreamContext,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    payload = organization_created()
    org = payload.organization_id
    first = from_identity(payload)
    assert await publish(js, first) is False
    # The stream drops a repeat with the same Nats-Msg-Id within its duplicate window ...
    assert await publish(js, first) is True
    # ... but not one with another Nats-Msg-Id (the inbox must), nor a new envelope (the
    # unique account per organization must).
    assert await publish(js, first, msg_id=new_id("evt")) is False
    assert await publish(js, from_identity(payload)) is False

    async def handled() -> bool:
        return await consumed_everything(js)

    await eventually(handled, what="all three deliveries acked")

    async def relayed() -> bool:
        return await outbox_size(sessions) == 0 and len(await opened_events(js)) >= 1

    await eventually(relayed, what="billing's outbox relayed")

    assert len(await accounts_of(sessions, org)) == 1
    entries = await entries_of(sessions, org)
    assert [(e.type, e.amount, e.balance_after) for e in entries] == [("bonus", 100, 100)]
    [account] = await accounts_of(sessions, org)
    assert account.balance == 100
    assert len(await opened_events(js)) == 1


async def test_each_organization_gets_its_own_account(
    client: AsyncTestClient[Any],
    js: JetStreamContext,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    first, second = organization_created(), organization_created()
    await publish(js, from_identity(first))
    await publish(js, from_identity(second))

    async def both_opened() -> bool:
        return len(await opened_events(js)) == 2

    await eventually(both_opened, what="two billing.account.opened")

    for payload in (first, second):
        [account] = await accounts_of(sessions, payload.organization_id)
        assert account.balance == 100
        assert len(await entries_of(sessions, payload.organization_id)) == 1
    opened_for = {e.payload(AccountOpened).organization_id for e in await opened_events(js)}
    assert opened_for == {first.organization_id, second.organization_id}


async def test_the_configured_signup_bonus_is_granted(
    make_settings: Callable[..., BillingSettings],
    js: JetStreamContext,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    payload = organization_created()
    async with AsyncTestClient(create(make_settings(signup_bonus_credits=250))):
        await publish(js, from_identity(payload))

        async def opened() -> bool:
            return len(await opened_events(js)) == 1

        await eventually(opened, what="billing.account.opened")

    [account] = await accounts_of(sessions, payload.organization_id)
    assert account.balance == 250
    [entry] = await entries_of(sessions, payload.organization_id)
    assert (entry.type, entry.amount, entry.balance_after) == ("bonus", 250, 250)
    [event] = await opened_events(js)
    assert event.payload(AccountOpened).bonus_credits == 250


async def test_without_a_signup_bonus_the_account_opens_empty(
    make_settings: Callable[..., BillingSettings],
    js: JetStreamContext,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    payload = organization_created()
    async with AsyncTestClient(create(make_settings(signup_bonus_credits=0))):
        await publish(js, from_identity(payload))

        async def opened() -> bool:
            return len(await opened_events(js)) == 1

        await eventually(opened, what="billing.account.opened")

    [account] = await accounts_of(sessions, payload.organization_id)
    assert account.balance == 0
    assert await entries_of(sessions, payload.organization_id) == []
    [event] = await opened_events(js)
    payload_of_event = event.payload(AccountOpened)
    assert (payload_of_event.bonus_credits, payload_of_event.balance) == (0, 0)


async def test_the_handler_alone_opens_one_account_per_organization(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # The inbox normally stops a repeat; the handler must hold even where it does not.
    payload = organization_created()
    handle = handlers.organization_created(signup_bonus=40)
    for envelope in (from_identity(payload), from_identity(payload)):
        async with sessions() as session, session.begin():
            await handle(session, envelope, payload)

    [account] = await accounts_of(sessions, payload.organization_id)
    assert account.balance == 40
    entries = await entries_of(sessions, payload.organization_id)
    assert [(e.type, e.amount) for e in entries] == [("bonus", 40)]
