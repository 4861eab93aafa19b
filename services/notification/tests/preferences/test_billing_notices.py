"""Billing's events reach the organization's owners: in-app and by email (issue 11)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient
from nats.js import JetStreamContext
from skiff_contracts import Envelope, EventPayload, new_id
from skiff_contracts.events.billing import (
    AutoTopupFailed,
    CreditsDisputed,
    CreditsLow,
    CreditsPurchased,
    CreditsRefunded,
    PurchaseFailed,
)
from skiff_testing import bus
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

sys.path.insert(0, str(Path(__file__).parents[1] / "email"))
sys.path.insert(0, str(Path(__file__).parents[1] / "webhooks"))

from email_support import Mailbox, body_of
from webhook_support import owner_of, owners_known, told, until


def events(org: str) -> list[tuple[EventPayload, str, str]]:
    """(event, notification type, words its email must say) for each billing notice."""
    purchase = new_id("pur")
    return [
        (
            CreditsLow(organization_id=org, available=80, threshold=100, balance=80),
            "credits_low",
            "80 credits left, below 100",
        ),
        (
            CreditsPurchased(
                organization_id=org,
                purchase_id=purchase,
                transaction_id=new_id("txn"),
                credits=5000,
                amount=5000,
                currency="usd",
                provider="stripe",
                auto_topup=False,
                balance_after=5080,
                paid_at=datetime.now(UTC),
            ),
            "purchase_receipt",
            "Paid: 50.00 USD",
        ),
        (
            CreditsRefunded(
                organization_id=org,
                purchase_id=purchase,
                transaction_id=new_id("txn"),
                credits=1000,
                refunded_credits_total=1000,
                fully_refunded=False,
                balance_after=4080,
            ),
            "purchase_refunded",
            "1000 credits were",
        ),
        (
            CreditsDisputed(
                organization_id=org,
                purchase_id=purchase,
                dispute_id="dp_1",
                status="opened",
                credits=4000,
                balance_after=4080,
            ),
            "purchase_dispute_opened",
            "held until it is settled",
        ),
        (
            PurchaseFailed(
                organization_id=org,
                purchase_id=new_id("pur"),
                status="expired",
                reason="the checkout expired unpaid",
                credits=1000,
            ),
            "purchase_failed",
            "No credits were added",
        ),
        (
            AutoTopupFailed(
                organization_id=org,
                attempt_id="att_1",
                purchase_id=new_id("pur"),
                reason="card_declined",
                consecutive_failures=3,
                disabled=True,
            ),
            "autotopup_disabled",
            "Auto top-up is now turned off",
        ),
    ]


async def test_each_billing_event_tells_the_owners_in_app_and_by_email(
    service: AsyncTestClient[Any],
    streams: JetStreamContext,
    mailbox: tuple[Mailbox, int],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    box, _ = mailbox
    org = new_id("org")
    await owner_of(streams, org, "bill@example.com")
    await until(lambda: owners_known(sessions, org), what="the owner known")
    expected = events(org)

    for payload, _, _ in expected:
        await bus.publish(
            streams, Envelope.wrap(payload, source="skiff/billing", organization_id=org)
        )
    mails = await box.wait_for(len(expected))

    texts = [body_of(mail) for mail in mails]
    for _, kind, words in expected:
        notes, _ = await told(sessions, kind)
        assert len(notes) == 1, kind
        assert any(words in text for text in texts), (kind, words)
    assert {mail["To"] for mail in mails} == {"bill@example.com"}
