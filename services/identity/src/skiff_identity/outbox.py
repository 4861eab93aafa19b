"""Identity's transactional outbox: events recorded here are relayed to the IDENTITY stream."""

from skiff_messaging.outbox import Outbox

SCHEMA = "identity"
OUTBOX = Outbox(source="skiff/identity", channel=f"skiff_outbox_{SCHEMA}")
