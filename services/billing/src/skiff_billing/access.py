"""Who may read and who may change billing: members buy; settings and the portal need admin."""

from __future__ import annotations

from skiff_kit.access import Access

BILLING = Access("billing", doing="buy credits or change billing")
may_read = BILLING.may_read
may_write = BILLING.may_write
