"""Idempotency-Key on POST /api/v1/billing/checkout (issue 9): the key is recorded with the
purchase it created, in the same transaction, so a retry answers the same purchase and checkout
URL and opens no second checkout at the provider."""

from __future__ import annotations

import asyncio

from payments_support import Shop, press
from skiff_billing.ledger import service
from skiff_billing.models import IDEMPOTENCY_KEYS, Purchase
from skiff_contracts import new_id
from sqlalchemy import func, select


async def purchases_of(shop: Shop, org: str) -> list[str]:
    async with shop.sessions() as session:
        rows = await session.scalars(select(Purchase.id).where(Purchase.organization_id == org))
        return list(rows)


async def keys_of(shop: Shop, org: str) -> list[tuple[str, str]]:
    """(key, purchase id) recorded for the organization."""
    async with shop.sessions() as session:
        rows = await session.execute(
            select(IDEMPOTENCY_KEYS.c.key, IDEMPOTENCY_KEYS.c.resource_id).where(
                IDEMPOTENCY_KEYS.c.organization_id == org
            )
        )
        return [(key, resource) for key, resource in rows]


def opened_at_stripe(shop: Shop) -> int:
    return len(shop.providers.standins.stripe.sessions)


async def test_a_checkout_retried_with_its_key_answers_the_same_purchase_and_url(
    shop: Shop,
) -> None:
    org = await shop.customer()
    opened_before = opened_at_stripe(shop)

    first = await shop.checkout(org, key="checkout-1")
    again = await shop.checkout(org, key="checkout-1")

    assert first.status_code == again.status_code == 201, (first.text, again.text)
    assert again.json() == first.json()
    assert await purchases_of(shop, org) == [first.json()["purchase_id"]]
    assert opened_at_stripe(shop) == opened_before + 1  # one Stripe checkout
    assert await keys_of(shop, org) == [("checkout-1", first.json()["purchase_id"])]


async def test_a_retry_after_the_purchase_was_paid_still_answers_its_checkout(
    shop: Shop,
) -> None:
    org = await shop.customer()
    first = await shop.checkout(org, key="checkout-paid")
    await press(first.json()["url"], "pay")
    await shop.settled()

    again = await shop.checkout(org, key="checkout-paid")

    assert again.status_code == 201
    assert again.json() == first.json()
    shown = await shop.client.get(
        f"/api/v1/billing/purchases/{first.json()['purchase_id']}", headers=shop.headers(org)
    )
    assert shown.json()["status"] == "paid"
    assert len(await purchases_of(shop, org)) == 1


async def test_another_body_under_the_same_key_is_a_422_and_buys_nothing(shop: Shop) -> None:
    org = await shop.customer()
    first = await shop.checkout(org, key="checkout-2")

    reused = await shop.checkout(org, {"package_id": "pkg_5000"}, key="checkout-2")

    assert first.status_code == 201
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"
    assert await purchases_of(shop, org) == [first.json()["purchase_id"]]


async def test_concurrent_retries_with_one_key_open_one_checkout(shop: Shop) -> None:
    org = await shop.customer()
    opened_before = opened_at_stripe(shop)

    answers = await asyncio.gather(*(shop.checkout(org, key="checkout-3") for _ in range(5)))

    assert [a.status_code for a in answers] == [201] * 5, [a.text for a in answers]
    assert len({a.json()["purchase_id"] for a in answers}) == 1
    assert len({a.json()["url"] for a in answers}) == 1
    assert len(await purchases_of(shop, org)) == 1
    assert opened_at_stripe(shop) == opened_before + 1


async def test_a_checkout_that_failed_left_no_key_behind(shop: Shop) -> None:
    org = new_id("org")  # billing has not opened its account yet: the first try is a 404

    refused = await shop.checkout(org, key="checkout-4")
    async with shop.sessions() as session:
        keys = await session.scalar(
            select(func.count())
            .select_from(IDEMPOTENCY_KEYS)
            .where(IDEMPOTENCY_KEYS.c.organization_id == org)
        )
    async with shop.sessions() as session, session.begin():
        await service.open_account(session, organization_id=org, bonus=100)
    retried = await shop.checkout(org, key="checkout-4")

    assert refused.status_code == 404
    assert keys == 0
    assert retried.status_code == 201
    assert await purchases_of(shop, org) == [retried.json()["purchase_id"]]


async def test_keys_belong_to_an_organization(shop: Shop) -> None:
    mine, theirs = await shop.customer(), await shop.customer()

    first = await shop.checkout(mine, key="shared-key")
    second = await shop.checkout(theirs, key="shared-key")

    assert first.status_code == second.status_code == 201
    assert first.json()["purchase_id"] != second.json()["purchase_id"]
    assert await purchases_of(shop, theirs) == [second.json()["purchase_id"]]
