"""HTTP bodies of the packages route."""

from __future__ import annotations

import msgspec


class Price(msgspec.Struct):
    amount: int  # minor units (cents)
    currency: str


class ProviderPrices(msgspec.Struct):
    """What each configured provider charges for the package (the same price everywhere)."""

    stripe: Price | None
    polar: Price | None


class PackageOut(msgspec.Struct):
    id: str
    name: str
    credits: int
    price: Price
    provider_prices: ProviderPrices


class PackageList(msgspec.Struct):
    data: list[PackageOut]
    next_cursor: str | None
