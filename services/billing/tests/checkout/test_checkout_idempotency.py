"""Idempotency-Key on POST /api/v1/billing/checkout (issue 9): the key is recorded with the
purchase it created, in the same transaction, so a retry answers the same purchase and checkout
URL and opens no second checkout at the provider."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from billing_support import member, open_account
from litestar.testing import AsyncTestClient
from payments_support import Providers, press
from skiff_billing.ledger import service
from skiff_billing.models import IDEMPOTENCY_KEYS, Purchase
from skiff_contracts import new_id
from skiff_testing.services import GatewaySigner
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

CHECKOUT = "/api/v1/billing/checkout"


async def buy(
    client: AsyncTestClient[Any],
    signer: GatewaySigner,
    org: str,
    key: str,
    body: dict[str, Any] | None = None,
) -> httpx.Response:
    return await client.post(
        CHECKOUT,
        json=body or {"package_id": "pkg_1000"},
        headers={**signer.headers(member(org)), "idempotency-key": key},
    )


async def purchases_of(sessions: async_sessionmaker[AsyncSession], org: str) -> list[str]:
    async with sessions() as session:
        rows = await session.scalars(select(Purchase.id).where(Purchase.organization_id == org))
        return list(rows)


async def test_a_checkout_retried_with_its_key_answers_the_same_purchase_and_url(
    paying: AsyncTestClient[Any],
    providers: Providers,
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
) -> None:
    org = await open_account(sessions)
    opened_before = len(providers.standins.stripe.sessions)

    first = await buy(paying, gateway_signer, org, "checkout-1")
    again = await buy(paying, gateway_signer, org, "checkout-1")

    assert first.status_code == again.status_code == 201, (first.text, again.text)
    assert again.json() == first.json()
    assert await purchases_of(sessions, org) == [first.json()["purchase_id"]]
    assert len(providers.standins.stripe.sessions) == opened_before + 1  # one Stripe checkout
    async with sessions() as session:
        recorded = (
            await session.execute(
                select(IDEMPOTENCY_KEYS.c.key, IDEMPOTENCY_KEYS.c.resource_id).where(
                    IDEMPOTENCY_KEYS.c.organization_id == org
                )
            )
        ).all()
    assert [tuple(row) for row in recorded] == [("checkout-1", first.json()["purchase_id"])]


async def test_a_retry_after_the_purchase_was_paid_still_answers_its_checkout(
    paying: AsyncTestClient[Any],
    providers: Providers,
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
) -> None:
    org = await open_account(sessions)
    first = await buy(paying, gateway_signer, org, "checkout-paid")
    await press(first.json()["url"], "pay")
    await providers.standins.settle()

    again = await buy(paying, gateway_signer, org, "checkout-paid")

    assert again.status_code == 201
    assert again.json() == first.json()
    shown = await paying.get(
        f"/api/v1/billing/purchases/{first.json()['purchase_id']}",
        headers=gateway_signer.headers(member(org)),
    )
    assert shown.json()["status"] == "paid"
    assert len(await purchases_of(sessions, org)) == 1


async def test_another_body_under_the_same_key_is_a_422_and_buys_nothing(
    paying: AsyncTestClient[Any],
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
) -> None:
    org = await open_account(sessions)
    first = await buy(paying, gateway_signer, org, "checkout-2")

    reused = await buy(paying, gateway_signer, org, "checkout-2", {"package_id": "pkg_5000"})

    assert first.status_code == 201
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"
    assert await purchases_of(sessions, org) == [first.json()["purchase_id"]]


async def test_concurrent_retries_with_one_key_open_one_checkout(
    paying: AsyncTestClient[Any],
    providers: Providers,
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
) -> None:
    org = await open_account(sessions)
    opened_before = len(providers.standins.stripe.sessions)

    answers = await asyncio.gather(
        *(buy(paying, gateway_signer, org, "checkout-3") for _ in range(5))
    )

    assert [a.status_code for a in answers] == [201] * 5, [a.text for a in answers]
    assert len({a.json()["purchase_id"] for a in answers}) == 1
    assert len({a.json()["url"] for a in answers}) == 1
    assert len(await purchases_of(sessions, org)) == 1
    assert len(providers.standins.stripe.sessions) == opened_before + 1


async def test_a_checkout_that_failed_left_no_key_behind(
    paying: AsyncTestClient[Any],
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
) -> None:
    org = new_id("org")  # billing has not opened its account yet: the first try is a 404

    refused = await buy(paying, gateway_signer, org, "checkout-4")
    async with sessions() as session:
        keys = await session.scalar(
            select(func.count())
            .select_from(IDEMPOTENCY_KEYS)
            .where(IDEMPOTENCY_KEYS.c.organization_id == org)
        )
    async with sessions() as session, session.begin():
        await service.open_account(session, organization_id=org, bonus=100)
    retried = await buy(paying, gateway_signer, org, "checkout-4")

    assert refused.status_code == 404
    assert keys == 0
    assert retried.status_code == 201
    assert await purchases_of(sessions, org) == [retried.json()["purchase_id"]]


async def test_keys_belong_to_an_organization(
    paying: AsyncTestClient[Any],
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
) -> None:
    mine, theirs = await open_account(sessions), await open_account(sessions)

    first = await buy(paying, gateway_signer, mine, "shared-key")
    second = await buy(paying, gateway_signer, theirs, "shared-key")

    assert first.status_code == second.status_code == 201
    assert first.json()["purchase_id"] != second.json()["purchase_id"]
    assert await purchases_of(sessions, theirs) == [second.json()["purchase_id"]]
