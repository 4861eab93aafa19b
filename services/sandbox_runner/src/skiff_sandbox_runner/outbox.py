"""The runner's transactional outbox: events recorded here are relayed to the SANDBOX stream."""

from skiff_messaging.outbox import Outbox

SCHEMA = "sandbox"
OUTBOX = Outbox(source="skiff/sandbox-runner", channel=f"skiff_outbox_{SCHEMA}")
