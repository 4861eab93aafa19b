"""The orchestrator's transactional outbox: events recorded here go to the ORCHESTRATOR stream."""

from skiff_messaging.outbox import Outbox

SCHEMA = "orchestrator"
OUTBOX = Outbox(source="skiff/orchestrator", channel=f"skiff_outbox_{SCHEMA}")
