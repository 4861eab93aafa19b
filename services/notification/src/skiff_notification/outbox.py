"""Notification's transactional outbox, relayed to the NOTIFICATION stream."""

from skiff_messaging.outbox import Outbox

SCHEMA = "notification"
OUTBOX = Outbox(source="skiff/notification", channel=f"skiff_outbox_{SCHEMA}")
