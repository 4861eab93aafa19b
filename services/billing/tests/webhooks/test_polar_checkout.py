"""Buying credits with Polar (the stand-in): `order.paid` grants once, `order.created` grants
nothing, `order.refunded` takes back; both of Polar's secret formats verify."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from billing_support import member, open_account
from litestar.testing import AsyncTestClient
from nats.js import JetStreamContext
from payments_support import POLAR_LEGACY_SECRET, POLAR_SECRET, press, purchase, serving, state
from skiff_billing.app import create
from skiff_billing.settings import BillingSettings
from skiff_testing.services import GatewaySigner
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


@pytest.mark.parametrize("secret", [POLAR_SECRET, POLAR_LEGACY_SECRET], ids=["current", "legacy"])
async def test_paying_at_polar_grants_once_and_a_refund_takes_back(
    make_settings: Callable[..., BillingSettings],
    js: JetStreamContext,
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
    secret: str,
) -> None:
    async with serving(gateway_signer, polar_secret=secret) as providers:
        settings = make_settings(**providers.settings(polar_secret=secret))
        async with AsyncTestClient(create(settings)) as client:
            providers.attach(client)
            org = await open_account(sessions)
            answer = await client.post(
                "/api/v1/billing/checkout",
                json={"credits": 2500, "provider": "polar"},
                headers=gateway_signer.headers(member(org)),
            )
            assert answer.status_code == 201, answer.text
            started: dict[str, Any] = answer.json()
            assert started["url"].startswith(f"{providers.url}/polar/pay/")

            await press(started["url"], "pay")
            await providers.standins.settle()
            kinds = [a.event_id for a in providers.standins.polar.delivery.attempts]
            statuses = [a.status for a in providers.standins.polar.delivery.attempts]
            assert len(kinds) == 3, statuses  # checkout.updated, order.created, order.paid
            assert set(kinds) == providers.standins.polar.delivery.delivered
            balance, entries = await state(sessions, org)
            assert balance == 2600
            assert sum(1 for e in entries if e[0] == "purchase") == 1

            [order] = providers.standins.polar.orders
            providers.standins.polar.refund(order, 1000)
            await providers.standins.settle()
            assert (await state(sessions, org))[0] == 1600
            bought = await purchase(sessions, started["purchase_id"])
            assert (bought.status, bought.refunded_credits) == ("partially_refunded", 1000)
            providers.attach(None)


async def test_a_polar_webhook_signed_with_another_secret_is_refused(
    paying: AsyncTestClient[Any], gateway_signer: GatewaySigner
) -> None:
    from skiff_standins.polar_state import signer

    body = b'{"type":"order.paid","timestamp":"2026-01-01T00:00:00Z","data":{}}'
    from datetime import UTC, datetime

    sent = datetime.now(UTC)
    headers = {
        "webhook-id": "msg_forged",
        "webhook-timestamp": str(int(sent.timestamp())),
        "webhook-signature": signer("whsec_b3RoZXI=").sign("msg_forged", sent, body),
    }
    refused = await paying.post(
        "/webhooks/polar", content=body, headers={**headers, **gateway_signer.headers()}
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid_webhook"
