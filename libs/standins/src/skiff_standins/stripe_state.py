"""The Stripe stand-in's state and what happens when a customer pays (in memory)."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import stripe

from skiff_standins.delivery import Delivery


def new_id(prefix: str) -> str:
    return f"{prefix}_test_{secrets.token_hex(12)}"


@dataclass
class StripeState:
    """Customers, Checkout Sessions, PaymentIntents, charges, disputes, and the events sent."""

    public_url: str  # where a browser reaches the stand-in (checkout and portal pages)
    webhook_secret: str
    delivery: Delivery
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    charges: dict[str, dict[str, Any]] = field(default_factory=dict)
    methods: dict[str, dict[str, Any]] = field(default_factory=dict)
    disputes: dict[str, dict[str, Any]] = field(default_factory=dict)
    portals: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    declining: set[str] = field(default_factory=set)  # customers whose cards decline
    idempotent: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)

    # --- events -------------------------------------------------------------------------

    def emit(self, type_: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Record an event of `type_` about a copy of `obj` and deliver it, signed."""
        event_id = new_id("evt")
        event: dict[str, Any] = {
            "id": event_id,
            "object": "event",
            "api_version": "2025-01-27.acacia",
            "created": int(time.time()),
            "type": type_,
            "livemode": False,
            "pending_webhooks": 1,
            "data": {"object": json.loads(json.dumps(obj))},
        }
        self.events[event_id] = event
        self.resend(event_id)
        return event

    def resend(self, event_id: str) -> None:
        """Deliver an event (again), as Stripe does on a retry or a manual resend."""
        body = json.dumps(self.events[event_id], separators=(",", ":")).encode()

        def sign() -> tuple[dict[str, str], bytes]:
            header = stripe.WebhookSignature.generate_signature_header(
                body.decode(), self.webhook_secret
            )
            return {"stripe-signature": header}, body

        self.delivery.send(event_id, sign)

    # --- payments -----------------------------------------------------------------------

    def card_for(self, customer: str | None, save: bool) -> str:
        method_id = new_id("pm")
        method: dict[str, Any] = {
            "id": method_id,
            "object": "payment_method",
            "type": "card",
            "customer": customer if save else None,
            "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2034},
            "created": int(time.time()),
        }
        self.methods[method_id] = method
        return method_id

    def intent(
        self,
        *,
        amount: int,
        currency: str,
        customer: str | None,
        metadata: dict[str, Any],
        method: str | None,
        status: str,
    ) -> dict[str, Any]:
        intent_id = new_id("pi")
        intent: dict[str, Any] = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "currency": currency,
            "customer": customer,
            "metadata": metadata,
            "payment_method": method,
            "status": status,
            "created": int(time.time()),
            "latest_charge": None,
            "last_payment_error": None,
        }
        self.intents[intent_id] = intent
        return intent

    def charge(self, intent: dict[str, Any]) -> dict[str, Any]:
        charge_id = new_id("ch")
        charge: dict[str, Any] = {
            "id": charge_id,
            "object": "charge",
            "amount": intent["amount"],
            "amount_refunded": 0,
            "refunded": False,
            "currency": intent["currency"],
            "customer": intent["customer"],
            "payment_intent": intent["id"],
            "payment_method": intent["payment_method"],
            "paid": True,
            "status": "succeeded",
            "metadata": {},
            "created": int(time.time()),
        }
        self.charges[charge_id] = charge
        intent["latest_charge"] = charge_id
        return charge

    def charge_of(self, intent_id: str) -> dict[str, Any] | None:
        intent = self.intents.get(intent_id)
        return self.charges.get(intent["latest_charge"]) if intent else None

    def succeed(self, intent: dict[str, Any]) -> None:
        intent["status"] = "succeeded"
        self.charge(intent)
        self.emit("payment_intent.succeeded", intent)

    # --- the checkout page's buttons ------------------------------------------------------

    def pay(self, session: dict[str, Any], *, later: bool = False) -> None:
        """The customer paid (or chose a method that settles later)."""
        data = session["_payment_intent_data"]
        save = data.get("setup_future_usage") == "off_session"
        method = self.card_for(session["customer"], save)
        intent = self.intent(
            amount=session["amount_total"],
            currency=session["currency"],
            customer=session["customer"],
            metadata=data.get("metadata", {}),
            method=method,
            status="processing" if later else "succeeded",
        )
        session.update(status="complete", payment_intent=intent["id"])
        session["payment_status"] = "unpaid" if later else "paid"
        if not later:
            self.charge(intent)
        self.emit("checkout.session.completed", public(session))
        if not later:
            self.emit("payment_intent.succeeded", intent)

    def settle(self, session: dict[str, Any], *, succeeded: bool) -> None:
        """An asynchronous payment (pay later) settled or failed."""
        intent = self.intents[session["payment_intent"]]
        if succeeded:
            session["payment_status"] = "paid"
            intent["status"] = "succeeded"
            self.charge(intent)
            self.emit("checkout.session.async_payment_succeeded", public(session))
            self.emit("payment_intent.succeeded", intent)
        else:
            intent["status"] = "requires_payment_method"
            self.emit("checkout.session.async_payment_failed", public(session))

    def expire(self, session: dict[str, Any]) -> None:
        session["status"] = "expired"
        session["url"] = None
        self.emit("checkout.session.expired", public(session))

    def refund(self, intent_id: str, amount: int | None) -> dict[str, Any]:
        charge = self.charge_of(intent_id)
        if charge is None:
            raise LookupError(intent_id)
        left = charge["amount"] - charge["amount_refunded"]
        amount = left if amount is None else min(amount, left)
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
        refund = {
            "id": new_id("re"),
            "object": "refund",
            "amount": amount,
            "charge": charge["id"],
            "payment_intent": intent_id,
            "status": "succeeded",
            "created": int(time.time()),
        }
        self.emit("charge.refunded", charge)
        return refund

    def dispute(self, intent_id: str, amount: int | None) -> dict[str, Any]:
        charge = self.charge_of(intent_id)
        if charge is None:
            raise LookupError(intent_id)
        dispute_id = new_id("dp")
        dispute: dict[str, Any] = {
            "id": dispute_id,
            "object": "dispute",
            "amount": charge["amount"] if amount is None else amount,
            "charge": charge["id"],
            "payment_intent": intent_id,
            "currency": charge["currency"],
            "reason": "fraudulent",
            "status": "needs_response",
            "created": int(time.time()),
        }
        self.disputes[dispute_id] = dispute
        self.emit("charge.dispute.created", dispute)
        return dispute

    def close_dispute(self, dispute_id: str, status: str) -> dict[str, Any]:
        dispute = self.disputes[dispute_id]
        dispute["status"] = status
        self.emit("charge.dispute.closed", dispute)
        return dispute


def public(session: dict[str, Any]) -> dict[str, Any]:
    """A Checkout Session as Stripe shows it (without the stand-in's own keys)."""
    return {key: value for key, value in session.items() if not key.startswith("_")}
