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
    """Billing's own settings, on top of the ones every service reads."""

    service_name: str = "billing"
    """The service's name in logs, traces and probes."""
    port: int = 8082
    """The port the gateway reaches billing on."""
    database_schema: str | None = "billing"
    """The PostgreSQL schema billing owns."""
    signup_bonus_credits: int = 100
    """Credits a new organization starts with."""
    public_url: str = "http://localhost:8080"
    """Where users reach Skiff: a checkout's default success and cancel page
    (`<url>/?purchase_id=<id>`) and the customer portal's default return address."""
    currency: str = "usd"
    """The currency of every price (ISO 4217, lower case, e.g. `usd`)."""
    credit_packages: list[PackageSetting] = msgspec.field(
        default_factory=lambda: list(DEFAULT_PACKAGES)
    )
    """The packages on sale, as JSON `[{"id", "credits", "price", "name"?}]`; `price` in cents
    of `SKIFF_CURRENCY`."""
    min_purchase_credits: int = 1_000
    """The fewest credits a checkout by `credits` may buy."""
    max_purchase_credits: int = 1_000_000
    """The most credits a checkout by `credits` may buy."""
    default_provider: Provider = "stripe"
    """`stripe` or `polar`: the provider of a checkout that names none (the other one when only
    it is configured)."""
    checkout_expires_minutes: int = 60
    """Lifetime of a hosted checkout, in minutes."""
    # Stripe: a secret key (sk_live_/sk_test_/rk_...), the endpoint's signing secret (whsec_).
    stripe_api_key: str = ""
    """Stripe's secret key (`sk_live_`, `sk_test_` or a restricted `rk_` key); empty: Stripe is
    not configured (`skiff up` then starts the local stand-in)."""
    stripe_webhook_secret: str = ""
    """The signing secret (`whsec_...`) of Stripe's webhook endpoint for `/webhooks/stripe`."""
    stripe_api_base: str = "https://api.stripe.com"
    """Stripe's API base (`skiff up` points it at the stand-in when no key is set)."""
    # Polar: an organization access token, the endpoint's secret (either format), a product
    # whose price the checkout replaces with the package's.
    polar_api_key: str = ""
    """A Polar organization access token (`polar_oat_...`); empty: Polar is not configured."""
    polar_webhook_secret: str = ""
    """The secret of Polar's webhook endpoint for `/webhooks/polar`: `whsec_<base64>` or
    Polar's legacy plain string."""
    polar_api_base: str = "https://api.polar.sh"
    """Polar's API base (`skiff up` points it at the stand-in when no key is set)."""
    polar_product_id: str = ""
    """The Polar product a checkout sells, at the package's price."""
    provider_timeout_seconds: float = 10.0
    """Seconds each call to Stripe or Polar may take; past it 502 `provider_error`."""
    webhook_tolerance_seconds: int = 300
    """Oldest webhook signature accepted, in seconds."""
    low_credit_threshold: int = 50
    """`billing.credits.low` goes out when available credits fall below this."""
    hold_default_expires_seconds: int = 3_600
    """A hold's lifetime, in seconds, when the reserve names none."""
    hold_max_expires_seconds: int = 7 * 24 * 3_600
    """The longest lifetime a reserve may ask for a hold, in seconds."""
    hold_sweep_seconds: float = 5.0
    """How often, in seconds, holds past their time are released."""
    autotopup_cooldown_seconds: int = 600
    """Least time, in seconds, between two auto top-ups of one organization."""
    autotopup_max_failures: int = 3
    """Failed auto top-ups in a row that disable auto top-up."""
    autotopup_default_max_per_month: int = 5
    """The monthly cap of auto top-ups a new auto top-up setting starts with."""
