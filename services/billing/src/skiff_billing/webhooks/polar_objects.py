"""The parts of Polar's webhook events billing reads (`{type, timestamp, data}`)."""

from __future__ import annotations

import msgspec

Metadata = dict[str, str | int | float | bool]


class PolarEvent(msgspec.Struct):
    type: str
    data: msgspec.Raw
    timestamp: str | None = None


class Order(msgspec.Struct):
    id: str
    status: str
    paid: bool = False
    total_amount: int = 0
    refunded_amount: int = 0
    currency: str = "usd"
    checkout_id: str | None = None
    customer_id: str | None = None
    metadata: Metadata = {}


class Checkout(msgspec.Struct):
    id: str
    status: str
    metadata: Metadata = {}


def purchase_id_of(metadata: Metadata) -> str | None:
    value = metadata.get("purchase_id")
    return value if isinstance(value, str) else None
