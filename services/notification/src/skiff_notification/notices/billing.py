"""Notices of billing events that issue 11 adds (credits low, a purchase's receipt).

Wired by event type name when `skiff_contracts` has the type, so they start working the moment
those contracts land; rendered from the payload's fields by name, saying less (never failing)
when a field is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from skiff_contracts import Envelope, EventPayload
from skiff_contracts.registry import EVENT_TYPES
from skiff_messaging.consumer import Handler
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_notification.notices.telling import Notice, tell_owners

CREDITS_LOW = "billing.credits.low"
CREDITS_PURCHASED = "billing.credits.purchased"


def credits_low(data: Mapping[str, Any]) -> Notice:
    available, threshold = data.get("available"), data.get("threshold")
    level = f" ({available} credits left" + (f", below {threshold})" if threshold else ")")
    return Notice(
        category="billing",
        kind="credits_low",
        title="Your organization is low on credits",
        body=f"Available credits are running low{level if available is not None else ''}.",
        email_subject="Skiff: your organization is low on credits",
        email_text=(
            f"Your organization's available credits are running low"
            f"{level if available is not None else ''}. Sessions stop when they run out:"
            " buy credits or turn on auto top-up to keep them running."
        ),
        data={k: data[k] for k in ("available", "threshold") if k in data},
    )


def receipt(data: Mapping[str, Any]) -> Notice:
    credits = data.get("credits")
    amount, currency = data.get("amount"), str(data.get("currency") or "").upper()
    paid = f"{amount / 100:.2f} {currency}".strip() if isinstance(amount, int) else "your payment"
    lines = [
        f"Credits added: {credits}" if credits is not None else None,
        f"Paid: {paid}",
        f"Purchase: {data['purchase_id']}" if "purchase_id" in data else None,
        f"Balance after: {data['balance_after']} credits" if "balance_after" in data else None,
    ]
    return Notice(
        category="billing",
        kind="purchase_receipt",
        title=f"{credits} credits added" if credits is not None else "Credits added",
        body=f"Thank you: {paid} received.",
        email_subject="Skiff: your receipt",
        email_text="Thank you for your purchase.\n\n" + "\n".join(x for x in lines if x),
        data={k: data[k] for k in ("purchase_id", "credits") if k in data},
    )


RENDERERS = {CREDITS_LOW: credits_low, CREDITS_PURCHASED: receipt}


def billing_notice_handlers(public_url: str) -> dict[str, tuple[type[EventPayload], Handler]]:
    """Handlers for those of RENDERERS' event types the contracts define (newest version)."""
    handlers: dict[str, tuple[type[EventPayload], Handler]] = {}
    for (name, _), cls in sorted(EVENT_TYPES.items()):
        render = RENDERERS.get(name)
        if render is None:
            continue

        async def handle(
            session: AsyncSession, envelope: Envelope, event: Any, render: Any = render
        ) -> None:
            if envelope.organization_id:
                await tell_owners(
                    session,
                    organization_id=envelope.organization_id,
                    source_id=envelope.id,
                    notice=render(msgspec.to_builtins(event)),
                    public_url=public_url,
                )

        handlers[name] = (cls, handle)
    return handlers
