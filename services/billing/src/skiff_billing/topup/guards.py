"""The cheap guards of auto top-up, checked after every debit without reading anything.

The debit's database function answers the organization's settings along with the account
(ledger row lock held), so on the usual path (no settings, disabled, or above the threshold)
a debit costs no query for auto top-up. Only when these guards pass does `topup.service`
read more (the attempts of the month) and start an attempt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from skiff_billing.policy import Policy
from skiff_billing.settings import PackageSetting

ACTIVE = "active"
DISABLED = "disabled_after_failures"


@dataclass(frozen=True, slots=True)
class TopupSettings:
    """What the guards need of an organization's `auto_topups` row."""

    enabled: bool
    status: str
    has_card: bool
    threshold_credits: int
    package_id: str
    last_attempt_at: datetime | None


def package_to_buy(
    settings: TopupSettings | None, available: int, policy: Policy, now: datetime
) -> PackageSetting | None:
    """The package to buy now, if enabled and active, with a saved card, below the
    threshold, the package still on sale, and the cooldown since the last attempt over."""
    if (
        settings is None
        or not settings.enabled
        or settings.status != ACTIVE
        or not settings.has_card
        or available >= settings.threshold_credits
    ):
        return None
    package = policy.package(settings.package_id)
    if package is None:
        return None
    cooldown = timedelta(seconds=policy.autotopup_cooldown_seconds)
    if settings.last_attempt_at is not None and now - settings.last_attempt_at < cooldown:
        return None
    return package
