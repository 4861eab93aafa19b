"""Billing's tables (schema `billing`): one module per domain, all on one metadata."""

from skiff_billing.models.base import IDEMPOTENCY_KEYS, MESSAGING, Base
from skiff_billing.models.holds import Hold
from skiff_billing.models.ledger import Account, LedgerEntry
from skiff_billing.models.payments import ProviderCustomer, ProviderEvent, Purchase
from skiff_billing.models.topup import AutoTopup, TopupAttempt
from skiff_billing.models.usage import UsageDaily

__all__ = [
    "IDEMPOTENCY_KEYS",
    "MESSAGING",
    "Account",
    "AutoTopup",
    "Base",
    "Hold",
    "LedgerEntry",
    "ProviderCustomer",
    "ProviderEvent",
    "Purchase",
    "TopupAttempt",
    "UsageDaily",
]
