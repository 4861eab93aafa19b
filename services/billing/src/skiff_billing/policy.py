"""The rules billing's domain code follows, taken once from the settings and passed down."""

from __future__ import annotations

from dataclasses import dataclass

from skiff_billing.settings import BillingSettings, PackageSetting


@dataclass(frozen=True, slots=True)
class Policy:
    """Marks, limits and the credit catalog; no I/O, so domain code takes it as an argument."""

    low_credit_threshold: int = 50
    currency: str = "usd"
    packages: tuple[PackageSetting, ...] = ()
    min_purchase_credits: int = 1_000
    max_purchase_credits: int = 1_000_000
    hold_default_expires_seconds: int = 3_600
    hold_max_expires_seconds: int = 7 * 24 * 3_600
    autotopup_cooldown_seconds: int = 600
    autotopup_max_failures: int = 3
    autotopup_default_max_per_month: int = 5

    @classmethod
    def from_settings(cls, settings: BillingSettings) -> Policy:
        return cls(
            low_credit_threshold=settings.low_credit_threshold,
            currency=settings.currency.lower(),
            packages=tuple(settings.credit_packages),
            min_purchase_credits=settings.min_purchase_credits,
            max_purchase_credits=settings.max_purchase_credits,
            hold_default_expires_seconds=settings.hold_default_expires_seconds,
            hold_max_expires_seconds=settings.hold_max_expires_seconds,
            autotopup_cooldown_seconds=settings.autotopup_cooldown_seconds,
            autotopup_max_failures=settings.autotopup_max_failures,
            autotopup_default_max_per_month=settings.autotopup_default_max_per_month,
        )

    def package(self, package_id: str) -> PackageSetting | None:
        """The package on sale with this id, if any."""
        return next((p for p in self.packages if p.id == package_id), None)
