"""Buying credits with Stripe (the stand-in): checkout, the webhook grants once, whatever
arrives twice, concurrently, or in another order; bad signatures change nothing."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import stripe
from payments_support import STRIPE_SECRET, Shop, press, purchase, state
from skiff_billing.models import Account, LedgerEntry, ProviderEvent
from skiff_standins.stripe_state import public
from sqlalchemy import func, select


def signed(
    event: dict[str, Any], secret: str = STRIPE_SECRET, at: int | None = None
) -> tuple[bytes, str]:
    body = json.dumps(event, separators=(",", ":"))
    header = stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=at)
    return body.encode(), header


async def deliver(shop: Shop, body: bytes, signature: str) -> httpx.Response:
    """A Stripe event, as if Stripe sent it through the gateway."""
    return await shop.client.post(
        "/webhooks/stripe",
        content=body,
        headers={"stripe-signature": signature, **shop.signer.headers()},
    )


async def test_paying_at_stripe_grants_the_credits_once(shop: Shop) -> None:
    org = await shop.customer()
    started = await shop.started(org)
    assert started["provider"] == "stripe"
    assert started["url"].startswith(f"{shop.providers.url}/stripe/pay/cs_")
    shown = await shop.client.get(
        f"/api/v1/billing/purchases/{started['purchase_id']}",
        headers=shop.headers(org),
    )
    assert shown.json()["status"] == "pending"
    assert (await state(shop.sessions, org))[0] == 100  # nothing granted by starting a checkout

    await press(started["url"], "pay")
    await shop.settled()

    # checkout.session.completed and payment_intent.succeeded both arrived: one grant.
    kinds = [e["type"] for e in shop.providers.standins.stripe.events.values()]
    assert kinds == ["checkout.session.completed", "payment_intent.succeeded"]
    balance, entries = await state(shop.sessions, org)
    assert balance == 1100
    assert [e for e in entries if e[0] == "purchase"] == [
        ("purchase", 1000, f"purchase:{started['purchase_id']}")
    ]
    bought = await shop.client.get(
        f"/api/v1/billing/purchases/{started['purchase_id']}",
        headers=shop.headers(org),
    )
    assert bought.json()["status"] == "paid"
    assert bought.json()["paid_at"] is not None
    shown_balance = await shop.balance(org)
    assert shown_balance["credits"] == 1100
    assert shown_balance["last_topped_up"] is not None


async def test_the_same_event_delivered_ten_times_at_once_grants_once(shop: Shop) -> None:
    org = await shop.customer()
    started = await shop.started(org)
    shop.providers.attach(None)  # the stand-in's own deliveries fail: we deliver it ourselves
    await press(started["url"], "pay")
    [completed] = [
        e
        for e in shop.providers.standins.stripe.events.values()
        if e["type"].startswith("checkout")
    ]
    body, signature = signed(completed)

    answers = await asyncio.gather(*(deliver(shop, body, signature) for _ in range(10)))

    assert [a.status_code for a in answers] == [200] * 10
    statuses = sorted(a.json()["status"] for a in answers)
    assert statuses == ["applied"] + ["duplicate"] * 9
    balance, entries = await state(shop.sessions, org)
    assert balance == 1100
    assert sum(1 for e in entries if e[0] == "purchase") == 1


async def test_completed_then_async_payment_succeeded_grant_once(shop: Shop) -> None:
    org = await shop.customer()
    started = await shop.started(org)
    await press(started["url"], "pay")
    stand_in = shop.providers.standins.stripe
    [session] = stand_in.sessions.values()
    stand_in.emit("checkout.session.async_payment_succeeded", public(session))
    await shop.settled()

    balance, entries = await state(shop.sessions, org)
    assert balance == 1100
    assert sum(1 for e in entries if e[0] == "purchase") == 1
    async with shop.sessions() as db:
        seen = await db.scalar(select(func.count()).select_from(ProviderEvent))
    assert seen == 3  # three events recorded, one effect


async def test_pay_later_grants_only_when_the_payment_settles(shop: Shop) -> None:
    org = await shop.customer()
    started = await shop.started(org)
    await press(started["url"], "later")
    await shop.settled()
    assert (await state(shop.sessions, org))[0] == 100
    assert (await purchase(shop.sessions, started["purchase_id"])).status == "pending"

    await press(started["url"], "settle")
    await shop.settled()
    assert (await state(shop.sessions, org))[0] == 1100
    assert (await purchase(shop.sessions, started["purchase_id"])).status == "paid"


async def test_a_failed_transfer_fails_the_purchase_and_grants_nothing(shop: Shop) -> None:
    org = await shop.customer()
    started = await shop.started(org)
    await press(started["url"], "later")
    await press(started["url"], "fail_async")
    await shop.settled()
    assert (await state(shop.sessions, org))[0] == 100
    failed = await purchase(shop.sessions, started["purchase_id"])
    assert (failed.status, failed.failure_reason) == ("failed", "the payment failed")


async def test_a_refund_before_its_completion_waits_then_takes_the_credits_back(shop: Shop) -> None:
    org = await shop.customer()
    started = await shop.started(org)
    shop.providers.attach(None)
    await press(started["url"], "pay")
    stand_in = shop.providers.standins.stripe
    [intent] = stand_in.intents
    stand_in.refund(intent, 300)  # 3.00 USD of 10.00: 300 credits
    events = {e["type"]: e for e in stand_in.events.values()}

    refund = await deliver(shop, *signed(events["charge.refunded"]))
    assert refund.json()["status"] == "parked"
    assert (await state(shop.sessions, org))[0] == 100

    completed = await deliver(shop, *signed(events["checkout.session.completed"]))
    assert completed.json()["status"] == "applied"
    balance, entries = await state(shop.sessions, org)
    assert balance == 100 + 1000 - 300
    assert [e for e in entries if e[0] == "refund"] == [
        ("refund", -300, f"refund:{started['purchase_id']}:300")
    ]
    assert (await purchase(shop.sessions, started["purchase_id"])).status == "partially_refunded"
    again = await deliver(shop, *signed(events["charge.refunded"]))
    assert again.json()["status"] == "duplicate"
    assert (await state(shop.sessions, org))[0] == 800


async def test_a_full_refund_of_spent_credits_takes_the_balance_below_zero(shop: Shop) -> None:
    org = await shop.customer(bonus=0)
    started = await shop.started(org)
    await press(started["url"], "pay")
    await shop.settled()
    async with shop.sessions() as db, db.begin():  # spend 900 of the 1000
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
    [intent] = shop.providers.standins.stripe.intents
    shop.providers.standins.stripe.refund(intent, None)
    await shop.settled()

    balance, _ = await state(shop.sessions, org)
    assert balance == -900
    assert (await purchase(shop.sessions, started["purchase_id"])).status == "refunded"
    answer = await shop.balance(org)
    assert (answer["credits"], answer["available"]) == (-900, 0)


async def test_a_dispute_holds_the_credits_and_a_lost_one_takes_them(shop: Shop) -> None:
    org = await shop.customer()
    started = await shop.started(org)
    await press(started["url"], "pay")
    await shop.settled()
    stand_in = shop.providers.standins.stripe
    [intent] = stand_in.intents
    dispute = stand_in.dispute(intent, None)
    await shop.settled()
    held = await shop.balance(org)
    assert (held["credits"], held["reserved"], held["available"]) == (1100, 1000, 100)

    stand_in.close_dispute(dispute["id"], "lost")
    await shop.settled()
    lost = await shop.balance(org)
    assert (lost["credits"], lost["reserved"], lost["available"]) == (100, 0, 100)
    assert (await purchase(shop.sessions, started["purchase_id"])).status == "disputed"


async def test_a_won_dispute_gives_the_credits_back(shop: Shop) -> None:
    org = await shop.customer()
    started = await shop.started(org)
    await press(started["url"], "pay")
    await shop.settled()
    stand_in = shop.providers.standins.stripe
    [intent] = stand_in.intents
    dispute = stand_in.dispute(intent, 500)
    stand_in.close_dispute(dispute["id"], "won")
    await shop.settled()
    answer = await shop.balance(org)
    assert (answer["credits"], answer["reserved"]) == (1100, 0)
    assert (await purchase(shop.sessions, started["purchase_id"])).status == "paid"


async def test_tampered_stale_and_foreign_signatures_are_refused_and_change_nothing(
    shop: Shop,
) -> None:
    org = await shop.customer()
    started = await shop.started(org)
    shop.providers.attach(None)
    await press(started["url"], "pay")
    [completed] = [
        e
        for e in shop.providers.standins.stripe.events.values()
        if e["type"].startswith("checkout")
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
        refused = await deliver(shop, attempt_body, attempt_signature)
        assert refused.status_code == 400, refused.text
        assert refused.json()["code"] == "invalid_webhook"
    assert (await state(shop.sessions, org))[0] == 100
    async with shop.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(ProviderEvent)) == 0
    assert (await purchase(shop.sessions, started["purchase_id"])).status == "pending"

    accepted = await deliver(shop, body, signature)
    assert accepted.json()["status"] == "applied"
