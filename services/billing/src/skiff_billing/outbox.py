"""Billing's transactional outbox: events recorded here are relayed to the BILLING stream."""

from skiff_messaging.outbox import Outbox

SCHEMA = "billing"
OUTBOX = Outbox(source="skiff/billing", channel=f"skiff_outbox_{SCHEMA}")
