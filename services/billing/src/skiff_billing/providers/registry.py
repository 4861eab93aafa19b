"""The providers this billing is configured for (an API key each), built once at start."""

from __future__ import annotations

from dataclasses import dataclass

from skiff_kit.errors import ServiceUnavailable

from skiff_billing.providers.polar_provider import PolarProvider
from skiff_billing.providers.stripe_provider import StripeProvider
from skiff_billing.settings import BillingSettings


@dataclass(frozen=True)
class Providers:
    stripe: StripeProvider | None
    polar: PolarProvider | None
    stripe_webhook_secret: str
    polar_webhook_secret: str
    webhook_tolerance_seconds: int

    @classmethod
    def from_settings(cls, settings: BillingSettings) -> Providers:
        timeout = settings.provider_timeout_seconds
        stripe = None
        if settings.stripe_api_key:
            stripe = StripeProvider(
                api_key=settings.stripe_api_key, api_base=settings.stripe_api_base, timeout=timeout
            )
        polar = None
        if settings.polar_api_key:
            polar = PolarProvider(
                api_key=settings.polar_api_key,
                api_base=settings.polar_api_base,
                product_id=settings.polar_product_id,
                timeout=timeout,
            )
        return cls(
            stripe=stripe,
            polar=polar,
            stripe_webhook_secret=settings.stripe_webhook_secret,
            polar_webhook_secret=settings.polar_webhook_secret,
            webhook_tolerance_seconds=settings.webhook_tolerance_seconds,
        )

    def require_stripe(self) -> StripeProvider:
        if self.stripe is None:
            raise not_configured("stripe")
        return self.stripe

    def require_polar(self) -> PolarProvider:
        if self.polar is None:
            raise not_configured("polar")
        return self.polar


def not_configured(provider: str) -> ServiceUnavailable:
    """503: the operator has not configured this provider (docs/billing.md says how)."""
    return ServiceUnavailable(
        f"Payments through {provider.capitalize()} are not configured on this Skiff.",
        code="provider_not_configured",
        details={"provider": provider},
    )
