"""Who may see and change webhook endpoints: members read and write, viewers only read."""

from __future__ import annotations

from skiff_kit.access import Access

WEBHOOKS = Access("webhooks", doing="change webhook endpoints")
may_read = WEBHOOKS.may_read
may_write = WEBHOOKS.may_write
