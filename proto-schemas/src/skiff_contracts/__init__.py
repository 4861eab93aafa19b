"""skiff_contracts: the event envelope and the versioned payload of every event type."""

from skiff_contracts.envelope import Envelope, EventPayload, decode_envelope, new_event_id
from skiff_contracts.ids import new_id
from skiff_contracts.registry import EVENT_TYPES, payload_type

__all__ = [
    "EVENT_TYPES",
    "Envelope",
    "EventPayload",
    "decode_envelope",
    "new_event_id",
    "new_id",
    "payload_type",
]
