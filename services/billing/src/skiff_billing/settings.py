"""Billing's settings, from SKIFF_* environment variables (docs/operations.md lists them)."""

from __future__ import annotations

from typing import Literal

import msgspec
from skiff_kit.settings import ServiceSettings

Provider = Literal["stripe", "polar"]


class PackageSetting(msgspec.Struct, frozen=True, kw_only=True):
    """A credit package on sale: `price` in cents of `SKIFF_CURRENCY`."""

    id: str
    credits: int
    price: int
    name: str | None = None


DEFAULT_PACKAGES = (
    PackageSetting(id="pkg_1000", credits=1_000, price=1_000, name="1,000 credits"),
    PackageSetting(id="pkg_5000", credits=5_000, price=5_000, name="5,000 credits"),
    PackageSetting(id="pkg_20000", credits=20_000, price=20_000, name="20,000 credits"),
)


class BillingSettings(ServiceSettings, kw_only=True):
    service_name: str = "billing"
    port: int = 8082
    database_schema: str | None = "billing"
    signup_bonus_credits: int = 100
    public_url: str = "http://localhost:8080"
    currency: str = "usd"
    credit_packages: list[PackageSetting] = msgspec.field(
        default_factory=lambda: list(DEFAULT_PACKAGES)
    )
    min_purchase_credits: int = 1_000
    max_purchase_credits: int = 1_000_000
    default_provider: Provider = "stripe"
    checkout_expires_minutes: int = 60
    # Stripe: a secret key (sk_live_/sk_test_/rk_...), the endpoint's signing secret (whsec_).
    stripe_api_key: str = ""
    stripe_webhook_secret: str = ""
    stripe_api_base: str = "https://api.stripe.com"
    # Polar: an organization access token, the endpoint's secret (either format), a product
    # whose price the checkout replaces with the package's.
    polar_api_key: str = ""
    polar_webhook_secret: str = ""
    polar_api_base: str = "https://api.polar.sh"
    polar_product_id: str = ""
    provider_timeout_seconds: float = 10.0
    webhook_tolerance_seconds: int = 300
    low_credit_threshold: int = 50
    hold_default_expires_seconds: int = 3_600
    hold_max_expires_seconds: int = 7 * 24 * 3_600
    hold_sweep_seconds: float = 5.0
    autotopup_cooldown_seconds: int = 600
    autotopup_max_failures: int = 3
    autotopup_default_max_per_month: int = 5
