"""The parts of Stripe's webhook events billing reads, decoded from the verified raw body."""

from __future__ import annotations

import msgspec


class StripeData(msgspec.Struct):
    object: msgspec.Raw


class StripeEvent(msgspec.Struct):
    id: str
    type: str
    data: StripeData
    created: int = 0


class CheckoutSession(msgspec.Struct):
    id: str
    payment_status: str | None = None
    status: str | None = None
    metadata: dict[str, str] = {}
    client_reference_id: str | None = None
    payment_intent: str | None = None
    customer: str | None = None


class PaymentError(msgspec.Struct):
    message: str | None = None
    code: str | None = None


class PaymentIntent(msgspec.Struct):
    id: str
    status: str | None = None
    metadata: dict[str, str] = {}
    amount: int = 0
    customer: str | None = None
    payment_method: str | None = None
    last_payment_error: PaymentError | None = None


class Charge(msgspec.Struct):
    id: str
    amount: int
    amount_refunded: int
    payment_intent: str | None = None
    metadata: dict[str, str] = {}


class Dispute(msgspec.Struct):
    id: str
    amount: int
    status: str
    charge: str | None = None
    payment_intent: str | None = None


def decode(raw: msgspec.Raw | bytes, kind: type[msgspec.Struct]) -> msgspec.Struct:
    """One object of an event, as `kind` (unknown fields are ignored)."""
    return msgspec.json.decode(raw, type=kind)
