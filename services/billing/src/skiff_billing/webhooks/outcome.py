"""What applying one provider event did: applied, parked for a payment, or ignored."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str  # applied | parked | ignored
    waiting_for: str | None = None  # parked: the payment (PaymentIntent, order) it needs
    paid: str | None = None  # applied: a payment that is now known paid (unparks events)
    reason: str = ""


def applied(paid: str | None = None) -> Outcome:
    return Outcome("applied", paid=paid)


def parked(payment_id: str) -> Outcome:
    return Outcome("parked", waiting_for=payment_id)


def ignored(reason: str) -> Outcome:
    return Outcome("ignored", reason=reason)
