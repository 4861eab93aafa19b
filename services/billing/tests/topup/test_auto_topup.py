"""Auto top-up: concurrent debits crossing the threshold start exactly one charge; the card
is charged at the stand-in and the credits arrive with the webhook; the monthly cap holds;
three declines in a row disable it."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from billing_support import deliver_usage, session_usage
from payments_support import Shop, press, state
from skiff_billing.ledger.usage import charge_usage
from skiff_billing.models import AutoTopup, Purchase, TopupAttempt
from skiff_billing.policy import Policy
from skiff_contracts import new_id
from skiff_contracts.events.sandbox import SessionUsage
from skiff_testing.bus import eventually
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


async def attempts(sessions: async_sessionmaker[AsyncSession], org: str) -> list[TopupAttempt]:
    async with sessions() as session:
        rows = await session.scalars(
            select(TopupAttempt).where(TopupAttempt.organization_id == org)
        )
        return list(rows)


@pytest.mark.parametrize("path", ["consumer", "session"])
async def test_concurrent_debits_start_one_top_up_which_arrives_by_webhook(
    shop: Shop, path: str
) -> None:
    """`consumer`: the usage consumer's own path (a bare connection, the session's way for
    the debits that cross the threshold); `session`: `charge_usage` in a session (that way)."""
    org = await shop.customer(bonus=0)
    bought = await shop.started(org, credits=1000, save_card=True)
    await press(bought["url"], "pay")
    await shop.settled()
    enabled = await shop.client.put(
        "/api/v1/billing/auto-topup",
        json={"enabled": True, "threshold_credits": 995, "package_id": "pkg_5000"},
        headers=shop.signer.headers(shop.signer.user(org, new_id("usr"), role="admin")),
    )
    assert enabled.status_code == 200, enabled.text
    assert enabled.json()["payment_method"] == {"brand": "visa", "last4": "4242"}

    # Ten sessions of one organization each charge a minute at once: 1000 → 990.
    policy = Policy.from_settings(shop.client.app.state.settings)

    async def debit(n: int) -> None:
        envelope = session_usage(org, f"ses_{n}", 1)
        if path == "consumer":
            assert await deliver_usage(shop.sessions, envelope, policy)
            return
        async with shop.sessions() as session, session.begin():
            await charge_usage(session, envelope.payload(SessionUsage), policy)

    await asyncio.gather(*(debit(n) for n in range(10)))

    [attempt] = await attempts(shop.sessions, org)
    assert attempt.status in ("pending", "succeeded")

    async def topped_up() -> bool:
        return (await state(shop.sessions, org))[0] == 990 + 5000

    await eventually(topped_up, within=20, what="the top-up's credits")
    [attempt] = await attempts(shop.sessions, org)
    assert attempt.status == "succeeded"
    async with shop.sessions() as session:
        purchase = await session.get(Purchase, attempt.purchase_id)
    assert purchase is not None
    assert (purchase.kind, purchase.status, purchase.credits) == ("auto_topup", "paid", 5000)


async def test_the_monthly_cap_and_three_declines(shop: Shop) -> None:
    org = await shop.customer(bonus=0)
    headers = shop.headers(org)
    bought = await shop.started(org, credits=1000, save_card=True)
    await press(bought["url"], "pay")
    await shop.settled()
    admin = shop.signer.headers(shop.signer.user(org, new_id("usr"), role="admin"))
    body = {
        "enabled": True,
        "threshold_credits": 5000,
        "package_id": "pkg_1000",
        "max_per_month": 2,
    }
    assert (
        await shop.client.put("/api/v1/billing/auto-topup", json=body, headers=admin)
    ).status_code == 200
    policy = Policy.from_settings(shop.client.app.state.settings)

    async def debit(minute: int) -> None:
        event = session_usage(org, "ses_cap", minute).payload(SessionUsage)
        async with shop.sessions() as session, session.begin():
            await charge_usage(session, event, _no_cooldown(policy))

    for minute in range(1, 8):  # each debit finds the balance below 5000
        await debit(minute)
        await shop.settled()
        await asyncio.sleep(0.3)
    counted = [a for a in await attempts(shop.sessions, org) if a.status != "failed"]
    assert len(counted) == 2  # the cap, though every debit was below the threshold

    # Three declines in a row disable it (next month's count is not needed: lift the cap).
    customer = next(iter(shop.providers.standins.stripe.customers))
    shop.providers.standins.stripe.declining.add(customer)
    async with shop.sessions() as session, session.begin():
        await session.execute(
            update(AutoTopup).where(AutoTopup.organization_id == org).values(max_per_month=100)
        )
    for minute in range(8, 20):
        await debit(minute)
        await shop.settled()
        await asyncio.sleep(0.3)
        shown = (await shop.client.get("/api/v1/billing/auto-topup", headers=headers)).json()
        if shown["status"] == "disabled_after_failures":
            break
    assert shown["status"] == "disabled_after_failures"
    assert shown["consecutive_failures"] == 3
    failed = [a for a in await attempts(shop.sessions, org) if a.status == "failed"]
    assert len(failed) == 3
    before = len(await attempts(shop.sessions, org))
    await debit(30)
    assert len(await attempts(shop.sessions, org)) == before  # disabled: no more charges


def _no_cooldown(policy: Policy) -> Policy:
    return replace(policy, autotopup_cooldown_seconds=0)
