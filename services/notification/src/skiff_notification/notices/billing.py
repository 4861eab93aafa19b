"""Notices of billing's events: low credits, receipts, refunds, disputes, failed payments.

Each `billing.*` event an organization's owners should hear of gets a renderer from its typed
payload (`skiff_contracts.events.billing`); `billing_notice_handlers` turns each into a
handler that tells every owner in-app and by email, each where their preferences allow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from skiff_contracts import Envelope, EventPayload
from skiff_contracts.events.billing import (
    AutoTopupFailed,
    CreditsDisputed,
    CreditsLow,
    CreditsPurchased,
    CreditsRefunded,
    PurchaseFailed,
)
from skiff_messaging.consumer import Handler
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_notification.notices.telling import Notice, Teller


def _money(amount: int, currency: str) -> str:
    return f"{amount / 100:.2f} {currency.upper()}"


def credits_low(event: CreditsLow) -> Notice:
    level = f"{event.available} credits left, below {event.threshold}"
    return Notice(
        category="billing",
        kind="credits_low",
        title="Your organization is low on credits",
        body=f"Available credits are running low ({level}).",
        email_subject="Skiff: your organization is low on credits",
        email_text=(
            f"Your organization's available credits are running low ({level}). Sessions stop"
            " when they run out: buy credits or turn on auto top-up to keep them running."
        ),
        data={"available": event.available, "threshold": event.threshold},
    )


def receipt(event: CreditsPurchased) -> Notice:
    paid = _money(event.amount, event.currency)
    how = "automatic top-up" if event.auto_topup else event.provider.capitalize()
    return Notice(
        category="billing",
        kind="purchase_receipt",
        title=f"{event.credits} credits added",
        body=f"Thank you: {paid} received ({how}).",
        email_subject="Skiff: your receipt",
        email_text=(
            "Thank you for your purchase.\n\n"
            f"Credits added: {event.credits}\nPaid: {paid} ({how})\n"
            f"Purchase: {event.purchase_id}\nBalance after: {event.balance_after} credits"
        ),
        data={"purchase_id": event.purchase_id, "credits": event.credits},
    )


def refunded(event: CreditsRefunded) -> Notice:
    whole = "fully" if event.fully_refunded else "partly"
    return Notice(
        category="billing",
        kind="purchase_refunded",
        title=f"A purchase was {whole} refunded",
        body=f"{event.credits} credits were taken back; the balance is {event.balance_after}.",
        email_subject="Skiff: a purchase was refunded",
        email_text=(
            f"Purchase {event.purchase_id} was {whole} refunded: {event.credits} credits were"
            f" taken back. Your balance is now {event.balance_after} credits."
        ),
        data={"purchase_id": event.purchase_id, "credits": event.credits},
    )


def disputed(event: CreditsDisputed) -> Notice:
    said = {
        "opened": f"was disputed: its {event.credits} credits are held until it is settled",
        "won": f"dispute was won: its {event.credits} credits are available again",
        "lost": f"dispute was lost: its {event.credits} credits were taken back",
    }.get(event.status, f"dispute is {event.status}")
    return Notice(
        category="billing",
        kind=f"purchase_dispute_{event.status}",
        title=f"Payment dispute: {event.status}",
        body=f"Purchase {event.purchase_id} {said}.",
        email_subject=f"Skiff: payment dispute {event.status}",
        email_text=f"Purchase {event.purchase_id} {said}. Balance: {event.balance_after} credits.",
        data={"purchase_id": event.purchase_id, "status": event.status},
    )


def purchase_failed(event: PurchaseFailed) -> Notice:
    return Notice(
        category="billing",
        kind="purchase_failed",
        title=f"A purchase of {event.credits} credits {event.status}",
        body=f"No credits were added: {event.reason}.",
        email_subject="Skiff: a payment did not go through",
        email_text=(
            f"The purchase {event.purchase_id} of {event.credits} credits {event.status}:"
            f" {event.reason}. No credits were added and nothing was charged."
        ),
        data={"purchase_id": event.purchase_id, "status": event.status},
    )


def autotopup_failed(event: AutoTopupFailed) -> Notice:
    then = (
        "Auto top-up is now turned off: update the card and turn it on again."
        if event.disabled
        else "It will be tried again the next time credits run low."
    )
    return Notice(
        category="billing",
        kind="autotopup_disabled" if event.disabled else "autotopup_failed",
        title="Auto top-up turned off" if event.disabled else "An automatic top-up failed",
        body=f"The saved card could not be charged ({event.reason}). {then}",
        email_subject="Skiff: an automatic top-up failed",
        email_text=(
            f"The saved card could not be charged: {event.reason}"
            f" ({event.consecutive_failures} in a row). {then}"
        ),
        data={"disabled": event.disabled, "consecutive_failures": event.consecutive_failures},
    )


def _handler(render: Callable[[Any], Notice], teller: Teller) -> Handler:
    async def handle(session: AsyncSession, envelope: Envelope, event: Any) -> None:
        if envelope.organization_id:
            await teller.tell(
                session,
                organization_id=envelope.organization_id,
                source_id=envelope.id,
                notice=render(event),
            )

    return handle


RENDERERS: dict[type[EventPayload], Callable[[Any], Notice]] = {
    CreditsLow: credits_low,
    CreditsPurchased: receipt,
    CreditsRefunded: refunded,
    CreditsDisputed: disputed,
    PurchaseFailed: purchase_failed,
    AutoTopupFailed: autotopup_failed,
}


def billing_notice_handlers(teller: Teller) -> dict[str, tuple[type[EventPayload], Handler]]:
    """A handler per billing event its owners are told of."""
    return {cls.event_type: (cls, _handler(render, teller)) for cls, render in RENDERERS.items()}
