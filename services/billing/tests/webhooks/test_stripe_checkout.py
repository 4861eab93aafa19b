"""Buying credits with Stripe (the stand-in): checkout, the webhook grants once, whatever
arrives twice, concurrently, or in another order; bad signatures change nothing."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import stripe
from billing_support import member, open_account
from litestar.testing import AsyncTestClient
from payments_support import STRIPE_SECRET, Providers, press, purchase, state
from skiff_billing.models import Account, LedgerEntry, ProviderEvent
from skiff_standins.stripe_state import public
from skiff_testing.services import GatewaySigner
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


async def checkout(
    client: AsyncTestClient[Any], signer: GatewaySigner, org: str, **body: Any
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/billing/checkout",
        json={"package_id": "pkg_1000", **body},
        headers=signer.headers(member(org)),
    )
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def signed(
    event: dict[str, Any], secret: str = STRIPE_SECRET, at: int | None = None
) -> tuple[bytes, str]:
    import json

    body = json.dumps(event, separators=(",", ":"))
    header = stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=at)
    return body.encode(), header


async def deliver(
    client: AsyncTestClient[Any], signer: GatewaySigner, body: bytes, signature: str
) -> httpx.Response:
    return await client.post(
        "/webhooks/stripe",
        content=body,
        headers={"stripe-signature": signature, **signer.headers()},
    )


async def test_paying_at_stripe_grants_the_credits_once(
    paying: AsyncTestClient[Any],
    providers: Providers,
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
) -> None:
    org = await open_account(sessions)
    started = await checkout(paying, gateway_signer, org)
    assert started["provider"] == "stripe"
    assert started["url"].startswith(f"{providers.url}/stripe/pay/cs_")
    shown = await paying.get(
        f"/api/v1/billing/purchases/{started['purchase_id']}",
        headers=gateway_signer.headers(member(org)),
    )
    assert shown.json()["status"] == "pending"
    assert (await state(sessions, org))[0] == 100  # nothing granted by starting a checkout

    await press(started["url"], "pay")
    await providers.standins.settle()

    # checkout.session.completed and payment_intent.succeeded both arrived: one grant.
    kinds = [e["type"] for e in providers.standins.stripe.events.values()]
    assert kinds == ["checkout.session.completed", "payment_intent.succeeded"]
    balance, entries = await state(sessions, org)
    assert balance == 1100
    assert [e for e in entries if e[0] == "purchase"] == [
        ("purchase", 1000, f"purchase:{started['purchase_id']}")
    ]
    bought = await paying.get(
        f"/api/v1/billing/purchases/{started['purchase_id']}",
        headers=gateway_signer.headers(member(org)),
    )
    assert bought.json()["status"] == "paid"
    assert bought.json()["paid_at"] is not None
    balance_answer = await paying.get(
        "/api/v1/credits/balance", headers=gateway_signer.headers(member(org))
    )
    assert balance_answer.json()["credits"] == 1100
    assert balance_answer.json()["last_topped_up"] is not None


async def test_the_same_event_delivered_ten_times_at_once_grants_once(
    paying: AsyncTestClient[Any],
    providers: Providers,
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
) -> None:
    org = await open_account(sessions)
    started = await checkout(paying, gateway_signer, org)
    providers.attach(None)  # the stand-in's own deliveries fail: we deliver it ourselves
    await press(started["url"], "pay")
    [completed] = [
        e for e in providers.standins.stripe.events.values() if e["type"].startswith("checkout")
    ]
    body, signature = signed(completed)

    answers = await asyncio.gather(
        *(deliver(paying, gateway_signer, body, signature) for _ in range(10))
    )

    assert [a.status_code for a in answers] == [200] * 10
    statuses = sorted(a.json()["status"] for a in answers)
    assert statuses == ["applied"] + ["duplicate"] * 9
    balance, entries = await state(sessions, org)
    assert balance == 1100
    assert sum(1 for e in entries if e[0] == "purchase") == 1


async def test_completed_then_async_payment_succeeded_grant_once(
    paying: AsyncTestClient[Any],
    providers: Providers,
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
) -> None:
    org = await open_account(sessions)
    started = await checkout(paying, gateway_signer, org)
    await press(started["url"], "pay")
    stand_in = providers.standins.stripe
    [session] = stand_in.sessions.values()
    stand_in.emit("checkout.session.async_payment_succeeded", public(session))
    await providers.standins.settle()

    balance, entries = await state(sessions, org)
    assert balance == 1100
    assert sum(1 for e in entries if e[0] == "purchase") == 1
    async with sessions() as db:
        seen = await db.scalar(select(func.count()).select_from(ProviderEvent))
    assert seen == 3  # three events recorded, one effect


async def test_pay_later_grants_only_when_the_payment_settles(
    paying: AsyncTestClient[Any],
    providers: Providers,
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
) -> None:
    org = await open_account(sessions)
    started = await checkout(paying, gateway_signer, org)
    await press(started["url"], "later")
    await providers.standins.settle()
    assert (await state(sessions, org))[0] == 100
    assert (await purchase(sessions, started["purchase_id"])).status == "pending"

    await press(started["url"], "settle")
    await providers.standins.settle()
    assert (await state(sessions, org))[0] == 1100
    assert (await purchase(sessions, started["purchase_id"])).status == "paid"


async def test_a_failed_transfer_fails_the_purchase_and_grants_nothing(
    paying: AsyncTestClient[Any],
    providers: Providers,
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
) -> None:
    org = await open_account(sessions)
    started = await checkout(paying, gateway_signer, org)
    await press(started["url"], "later")
    await press(started["url"], "fail_async")
    await providers.standins.settle()
    assert (await state(sessions, org))[0] == 100
    failed = await purchase(sessions, started["purchase_id"])
    assert (failed.status, failed.failure_reason) == ("failed", "the payment failed")


async def test_a_refund_before_its_completion_waits_then_takes_the_credits_back(
    paying: AsyncTestClient[Any],
    providers: Providers,
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
) -> None:
    org = await open_account(sessions)
    started = await checkout(paying, gateway_signer, org)
    providers.attach(None)
    await press(started["url"], "pay")
    stand_in = providers.standins.stripe
    [intent] = stand_in.intents
    stand_in.refund(intent, 300)  # 3.00 USD of 10.00: 300 credits
    events = {e["type"]: e for e in stand_in.events.values()}

    refund = await deliver(paying, gateway_signer, *signed(events["charge.refunded"]))
    assert refund.json()["status"] == "parked"
    assert (await state(sessions, org))[0] == 100

    completed = await deliver(paying, gateway_signer, *signed(events["checkout.session.completed"]))
    assert completed.json()["status"] == "applied"
    balance, entries = await state(sessions, org)
    assert balance == 100 + 1000 - 300
    assert [e for e in entries if e[0] == "refund"] == [
        ("refund", -300, f"refund:{started['purchase_id']}:300")
    ]
    assert (await purchase(sessions, started["purchase_id"])).status == "partially_refunded"
    again = await deliver(paying, gateway_signer, *signed(events["charge.refunded"]))
    assert again.json()["status"] == "duplicate"
    assert (await state(sessions, org))[0] == 800


async def test_a_full_refund_of_spent_credits_takes_the_balance_below_zero(
    paying: AsyncTestClient[Any],
    providers: Providers,
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
) -> None:
    org = await open_account(sessions, bonus=0)
    started = await checkout(paying, gateway_signer, org)
    await press(started["url"], "pay")
    await providers.standins.settle()
    async with sessions() as db, db.begin():  # spend 900 of the 1000
        account = await db.scalar(select(Account).where(Account.organization_id == org))
        assert account is not None
        account.balance -= 900
        db.add(
            LedgerEntry(
                id="txn_spent",
                account_id=account.id,
                organization_id=org,
                type="usage",
                amount=-900,
                balance_after=100,
                description="spent",
                reference="spent",
            )
        )
    [intent] = providers.standins.stripe.intents
    providers.standins.stripe.refund(intent, None)
    await providers.standins.settle()

    balance, _ = await state(sessions, org)
    assert balance == -900
    assert (await purchase(sessions, started["purchase_id"])).status == "refunded"
    answer = await paying.get(
        "/api/v1/credits/balance", headers=gateway_signer.headers(member(org))
    )
    assert (answer.json()["credits"], answer.json()["available"]) == (-900, 0)


async def test_a_dispute_holds_the_credits_and_a_lost_one_takes_them(
    paying: AsyncTestClient[Any],
    providers: Providers,
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
) -> None:
    org = await open_account(sessions)
    started = await checkout(paying, gateway_signer, org)
    await press(started["url"], "pay")
    await providers.standins.settle()
    stand_in = providers.standins.stripe
    [intent] = stand_in.intents
    dispute = stand_in.dispute(intent, None)
    await providers.standins.settle()
    headers = gateway_signer.headers(member(org))
    held = (await paying.get("/api/v1/credits/balance", headers=headers)).json()
    assert (held["credits"], held["reserved"], held["available"]) == (1100, 1000, 100)

    stand_in.close_dispute(dispute["id"], "lost")
    await providers.standins.settle()
    lost = (await paying.get("/api/v1/credits/balance", headers=headers)).json()
    assert (lost["credits"], lost["reserved"], lost["available"]) == (100, 0, 100)
    assert (await purchase(sessions, started["purchase_id"])).status == "disputed"


async def test_a_won_dispute_gives_the_credits_back(
    paying: AsyncTestClient[Any],
    providers: Providers,
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
) -> None:
    org = await open_account(sessions)
    started = await checkout(paying, gateway_signer, org)
    await press(started["url"], "pay")
    await providers.standins.settle()
    stand_in = providers.standins.stripe
    [intent] = stand_in.intents
    dispute = stand_in.dispute(intent, 500)
    stand_in.close_dispute(dispute["id"], "won")
    await providers.standins.settle()
    answer = await paying.get(
        "/api/v1/credits/balance", headers=gateway_signer.headers(member(org))
    )
    assert (answer.json()["credits"], answer.json()["reserved"]) == (1100, 0)
    assert (await purchase(sessions, started["purchase_id"])).status == "paid"


async def test_tampered_stale_and_foreign_signatures_are_refused_and_change_nothing(
    paying: AsyncTestClient[Any],
    providers: Providers,
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
) -> None:
    org = await open_account(sessions)
    started = await checkout(paying, gateway_signer, org)
    providers.attach(None)
    await press(started["url"], "pay")
    [completed] = [
        e for e in providers.standins.stripe.events.values() if e["type"].startswith("checkout")
    ]
    body, signature = signed(completed)
    tampered = body.replace(b'"payment_status":"paid"', b'"payment_status":"paid" ')
    stale = signed(completed, at=int(time.time()) - 301)
    foreign = signed(completed, secret="whsec_someone_else")

    for attempt_body, attempt_signature in (
        (tampered, signature),
        stale,
        foreign,
        (body, ""),
    ):
        refused = await deliver(paying, gateway_signer, attempt_body, attempt_signature)
        assert refused.status_code == 400, refused.text
        assert refused.json()["code"] == "invalid_webhook"
    assert (await state(sessions, org))[0] == 100
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(ProviderEvent)) == 0
    assert (await purchase(sessions, started["purchase_id"])).status == "pending"

    accepted = await deliver(paying, gateway_signer, body, signature)
    assert accepted.json()["status"] == "applied"
