"""The Polar stand-in's state (in memory) and the objects it answers, shaped as the Polar API
(version 2026-10) returns them, so `polar-sdk` deserializes them."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import standardwebhooks

from skiff_standins.delivery import Delivery

ORGANIZATION = "00000000-0000-4000-8000-00000000a11c"


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def signer(secret: str) -> standardwebhooks.Webhook:
    """The secret in Polar's current format (`whsec_<base64>`) or its legacy one (a plain
    string whose UTF-8 bytes are the key)."""
    if secret.startswith("whsec_"):
        return standardwebhooks.Webhook(secret)
    return standardwebhooks.Webhook(secret.encode())


@dataclass
class PolarState:
    public_url: str
    webhook_secret: str
    delivery: Delivery
    checkouts: dict[str, dict[str, Any]] = field(default_factory=dict)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)  # by external id
    events: dict[str, bytes] = field(default_factory=dict)

    def emit(self, type_: str, data: dict[str, Any]) -> str:
        """Deliver `{type, timestamp, api_version, data}`, Standard Webhooks signed."""
        message_id = f"msg_{uuid.uuid4().hex}"
        body = json.dumps(
            {"type": type_, "timestamp": now_iso(), "api_version": "2026-10", "data": data},
            separators=(",", ":"),
        ).encode()
        self.events[message_id] = body
        self.resend(message_id)
        return message_id

    def resend(self, message_id: str) -> None:
        body = self.events[message_id]

        def sign() -> tuple[dict[str, str], bytes]:
            sent = datetime.now(UTC)
            signature = signer(self.webhook_secret).sign(message_id, sent, body)
            headers = {
                "webhook-id": message_id,
                "webhook-timestamp": str(int(sent.timestamp())),
                "webhook-signature": signature,
            }
            return headers, body

        self.delivery.send(message_id, sign)

    def customer(self, external_id: str) -> dict[str, Any]:
        if external_id not in self.customers:
            self.customers[external_id] = {
                "id": str(uuid.uuid4()),
                "created_at": now_iso(),
                "modified_at": None,
                "metadata": {},
                "external_id": external_id,
                "email": f"{external_id}@customers.invalid",
                "email_verified": False,
                "type": "individual",
                "name": None,
                "billing_name": None,
                "billing_address": None,
                "tax_id": None,
                "locale": None,
                "organization_id": ORGANIZATION,
                "default_payment_method_id": None,
                "deleted_at": None,
                "first_user_event_at": None,
                "avatar_url": None,
            }
        return self.customers[external_id]

    def checkout(self, params: dict[str, Any]) -> dict[str, Any]:
        product = (params.get("products") or ["product"])[0]
        prices = (params.get("prices") or {}).get(product) or [{}]
        amount = int(prices[0].get("price_amount", params.get("amount") or 0))
        checkout_id = str(uuid.uuid4())
        checkout = {
            "id": checkout_id,
            "created_at": now_iso(),
            "modified_at": None,
            "custom_field_data": {},
            "payment_processor": "stripe",
            "status": "open",
            "client_secret": f"polar_c_{uuid.uuid4().hex}",
            "url": f"{self.public_url}/polar/pay/{checkout_id}",
            "expires_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
            "success_url": params.get("success_url") or f"{self.public_url}/polar/pay/done",
            "return_url": params.get("return_url"),
            "embed_origin": None,
            "amount": amount,
            "units": None,
            "min_units": None,
            "max_units": None,
            "discount_amount": 0,
            "net_amount": amount,
            "tax_amount": 0,
            "tax_behavior": None,
            "total_amount": amount,
            "currency": prices[0].get("price_currency", "usd"),
            "allow_trial": None,
            "active_trial_interval": None,
            "active_trial_interval_count": None,
            "trial_end": None,
            "organization_id": ORGANIZATION,
            "product_id": product,
            "product_price_id": None,
            "discount_id": None,
            "allow_discount_codes": False,
            "require_billing_address": False,
            "is_discount_applicable": False,
            "is_free_product_price": False,
            "is_payment_required": True,
            "is_payment_setup_required": False,
            "is_payment_form_required": True,
            "customer_id": None,
            "is_business_customer": False,
            "customer_name": None,
            "customer_email": None,
            "customer_ip_address": None,
            "customer_billing_name": None,
            "customer_billing_address": None,
            "customer_tax_id": None,
            "payment_method_type": None,
            "payment_processor_metadata": {},
            "billing_address_fields": {
                key: "disabled"
                for key in ("country", "state", "city", "postal_code", "line1", "line2")
            },
            "trial_interval": None,
            "trial_interval_count": None,
            "metadata": params.get("metadata") or {},
            "external_customer_id": params.get("external_customer_id"),
            "products": [],
            "product": None,
            "product_price": None,
            "prices": None,
            "discount": None,
            "subscription_id": None,
            "attached_custom_fields": None,
            "customer_metadata": {},
        }
        self.checkouts[checkout_id] = checkout
        return checkout

    def pay(self, checkout: dict[str, Any]) -> dict[str, Any]:
        """The customer paid: `checkout.updated` (succeeded), `order.created`, `order.paid`."""
        customer = self.customer(checkout.get("external_customer_id") or checkout["id"])
        checkout.update(status="succeeded", customer_id=customer["id"])
        order = self._order(checkout, customer)
        self.emit("checkout.updated", checkout)
        self.emit("order.created", {**order, "status": "pending", "paid": False})
        self.emit("order.paid", order)
        return order

    def fail(self, checkout: dict[str, Any]) -> None:
        checkout["status"] = "failed"
        self.emit("checkout.updated", checkout)

    def refund(self, order_id: str, amount: int | None) -> dict[str, Any]:
        order = self.orders[order_id]
        left = order["total_amount"] - order["refunded_amount"]
        amount = left if amount is None else min(amount, left)
        order["refunded_amount"] += amount
        order["refundable_amount"] = order["total_amount"] - order["refunded_amount"]
        order["status"] = (
            "refunded"
            if order["refunded_amount"] >= order["total_amount"]
            else "partially_refunded"
        )
        refund = {
            "id": str(uuid.uuid4()),
            "created_at": now_iso(),
            "modified_at": None,
            "metadata": {},
            "status": "succeeded",
            "reason": "customer_request",
            "amount": amount,
            "tax_amount": 0,
            "currency": order["currency"],
            "organization_id": ORGANIZATION,
            "order_id": order_id,
            "subscription_id": None,
            "customer_id": order["customer_id"],
            "revoke_benefits": False,
            "dispute": None,
        }
        self.emit("refund.created", refund)
        self.emit("order.refunded", order)
        return refund

    def _order(self, checkout: dict[str, Any], customer: dict[str, Any]) -> dict[str, Any]:
        amount = checkout["total_amount"]
        order = {
            "id": str(uuid.uuid4()),
            "created_at": now_iso(),
            "modified_at": None,
            "status": "paid",
            "paid": True,
            "subtotal_amount": amount,
            "discount_amount": 0,
            "net_amount": amount,
            "tax_amount": 0,
            "total_amount": amount,
            "applied_balance_amount": 0,
            "due_amount": 0,
            "refunded_amount": 0,
            "refunded_tax_amount": 0,
            "currency": checkout["currency"],
            "billing_reason": "purchase",
            "billing_name": None,
            "billing_address": None,
            "invoice_number": None,
            "is_invoice_generated": False,
            "receipt_number": None,
            "units": None,
            "customer_id": customer["id"],
            "product_id": checkout["product_id"],
            "discount_id": None,
            "subscription_id": None,
            "checkout_id": checkout["id"],
            "metadata": checkout["metadata"],
            "platform_fee_amount": 0,
            "platform_fee_currency": None,
            "customer": {k: v for k, v in customer.items() if k != "first_user_event_at"}
            | {"first_user_event_at": None},
            "product": None,
            "discount": None,
            "subscription": None,
            "items": [],
            "description": "Credits",
            "refundable_amount": amount,
            "refundable_tax_amount": 0,
        }
        self.orders[order["id"]] = order
        return order
