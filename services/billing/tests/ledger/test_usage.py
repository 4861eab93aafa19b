"""sandbox.session.usage → one credit per started minute, each minute once, through the bus."""

from __future__ import annotations

from typing import Any

from billing_support import member, open_account, record, session_usage
from litestar.testing import AsyncTestClient
from nats.js import JetStreamContext
from skiff_billing.ledger.usage import exhausted_event_id
from skiff_billing.models import Account, LedgerEntry
from skiff_contracts import Envelope, new_id
from skiff_contracts.events.billing import CreditsExhausted, UsageCharged
from skiff_contracts.events.sandbox import SessionUsage
from skiff_testing import bus
from skiff_testing.bus import eventually, publish
from skiff_testing.services import GatewaySigner
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

DURABLE = "billing--sandbox"


async def usage_entries(sessions: async_sessionmaker[AsyncSession], org: str) -> list[LedgerEntry]:
    async with sessions() as session:
        query = select(LedgerEntry).where(
            LedgerEntry.organization_id == org, LedgerEntry.type == "usage"
        )
        return list(await session.scalars(query.order_by(LedgerEntry.id)))


async def balance_of(sessions: async_sessionmaker[AsyncSession], org: str) -> int:
    async with sessions() as session:
        account = await session.scalar(select(Account).where(Account.organization_id == org))
        assert account is not None
        return account.balance


async def billing_events(js: JetStreamContext, event_type: str) -> list[Envelope]:
    return [e for e in await bus.stream_envelopes(js, "BILLING") if e.type == event_type]


async def all_handled_and_relayed(
    js: JetStreamContext, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Every usage event acked, and billing's outbox empty (its events are on BILLING)."""

    async def done() -> bool:
        if not await bus.consumed_everything(js, DURABLE, stream="SANDBOX"):
            return False
        async with sessions() as session:
            return int(await session.scalar(text("select count(*) from outbox")) or 0) == 0

    await eventually(done, what="usage events handled and billing's events relayed")


async def test_a_61_second_session_costs_exactly_two_credits(
    client: AsyncTestClient[Any],
    js: JetStreamContext,
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
) -> None:
    org = await open_account(sessions, bonus=100)
    ses = new_id("ses")

    for envelope in (
        session_usage(org, ses, 1),
        session_usage(org, ses, 2),
        session_usage(org, ses, 2, final=True, seconds=61.0),
    ):
        await publish(js, envelope)
    await all_handled_and_relayed(js, sessions)

    entries = await usage_entries(sessions, org)
    assert [(e.amount, e.balance_after, e.reference) for e in entries] == [
        (-1, 99, f"usage:{ses}:1"),
        (-1, 98, f"usage:{ses}:2"),
    ]
    assert entries[0].description == f"Session {ses} — 1 container-minute (minute 1)"
    assert await balance_of(sessions, org) == 98

    charged = [e.payload(UsageCharged) for e in await billing_events(js, UsageCharged.event_type)]
    assert charged == [
        UsageCharged(
            organization_id=org,
            session_id=ses,
            transaction_id=entries[0].id,
            amount=1,
            session_credits_total=1,
            balance_after=99,
        ),
        UsageCharged(
            organization_id=org,
            session_id=ses,
            transaction_id=entries[1].id,
            amount=1,
            session_credits_total=2,
            balance_after=98,
        ),
    ]
    [first] = (await billing_events(js, UsageCharged.event_type))[:1]
    assert (first.organization_id, first.subject, first.source) == (org, ses, "skiff/billing")
    assert await billing_events(js, CreditsExhausted.event_type) == []

    headers = gateway_signer.headers(member(org))
    balance = (await client.get("/api/v1/credits/balance", headers=headers)).json()
    assert (balance["credits"], balance["available"], balance["usage_this_month"]) == (98, 98, 2)
    listed = (await client.get("/api/v1/credits/transactions", headers=headers)).json()["data"]
    assert [(t["type"], t["amount"], t["reference"], t["description"]) for t in listed[:2]] == [
        ("usage", -1, f"usage:{ses}:2", f"Session {ses} — 1 container-minute (minute 2)"),
        ("usage", -1, f"usage:{ses}:1", f"Session {ses} — 1 container-minute (minute 1)"),
    ]


async def test_the_final_event_first_then_late_and_repeated_ones_charge_each_minute_once(
    client: AsyncTestClient[Any],
    js: JetStreamContext,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    org = await open_account(sessions, bonus=100)
    ses = new_id("ses")
    final = session_usage(org, ses, 3, final=True, seconds=150.0)

    await publish(js, final)  # overtook the per-minute events: tops up minutes 1..3 at once
    for envelope in (session_usage(org, ses, 2), session_usage(org, ses, 1)):
        await publish(js, envelope)  # late
    # Repeats the stream does not drop (another Nats-Msg-Id): the inbox does.
    await publish(js, final, msg_id=new_id("msg"))
    await publish(js, session_usage(org, ses, 3), msg_id=new_id("msg"))
    # A re-emission of a minute under a fresh event id: only the references stop it.
    again = session_usage(org, ses, 2).payload(SessionUsage)
    await publish(js, Envelope.wrap(again, source="skiff/sandbox_runner", organization_id=org))
    await all_handled_and_relayed(js, sessions)

    entries = await usage_entries(sessions, org)
    assert sorted(e.reference for e in entries) == [f"usage:{ses}:{m}" for m in (1, 2, 3)]
    assert await balance_of(sessions, org) == 97
    [charged] = await billing_events(js, UsageCharged.event_type)
    payload = charged.payload(UsageCharged)
    assert (payload.amount, payload.session_credits_total, payload.balance_after) == (3, 3, 97)
    assert payload.transaction_id == entries[-1].id


async def test_sessions_are_charged_separately(
    client: AsyncTestClient[Any],
    js: JetStreamContext,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    org = await open_account(sessions, bonus=100)
    first, second = new_id("ses"), new_id("ses")
    for envelope in (session_usage(org, first, 1), session_usage(org, second, 1)):
        await publish(js, envelope)
    await publish(js, session_usage(org, second, 2))
    await all_handled_and_relayed(js, sessions)

    assert await balance_of(sessions, org) == 97
    totals = {
        (p.session_id, p.session_credits_total)
        for p in (
            e.payload(UsageCharged) for e in await billing_events(js, UsageCharged.event_type)
        )
    }
    assert totals == {(first, 1), (second, 1), (second, 2)}


async def test_reaching_zero_emits_credits_exhausted_once_per_crossing(
    client: AsyncTestClient[Any],
    js: JetStreamContext,
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
) -> None:
    org = await open_account(sessions, bonus=2)
    one, two = new_id("ses"), new_id("ses")

    # Two live sessions: 2 → 1 → 0 (crossing) → -1 → -2 (the documented overdraft).
    for minute in (1, 2):
        for ses in (one, two):
            await publish(js, session_usage(org, ses, minute))
            await all_handled_and_relayed(js, sessions)
    assert await balance_of(sessions, org) == -2

    [exhausted] = await billing_events(js, CreditsExhausted.event_type)
    crossing = next(e for e in await usage_entries(sessions, org) if e.balance_after == 0)
    assert exhausted.id == exhausted_event_id(crossing.id)
    assert exhausted.organization_id == org
    assert exhausted.payload(CreditsExhausted).balance == 0

    headers = gateway_signer.headers(member(org))
    balance = await client.get("/api/v1/credits/balance", headers=headers)
    assert balance.status_code == 200
    assert (balance.json()["credits"], balance.json()["available"]) == (-2, 0)
    assert balance.json()["usage_this_month"] == 4

    # Topped up above zero, then spent down again: a new crossing, a second event.
    await record(sessions, org, [("purchase", 3, crossing.created_at)])
    for minute in (3, 4):
        await publish(js, session_usage(org, one, minute))
        await all_handled_and_relayed(js, sessions)
    assert await balance_of(sessions, org) == -1
    assert len(await billing_events(js, CreditsExhausted.event_type)) == 2
