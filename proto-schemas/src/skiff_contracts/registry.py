"""Every event type Skiff publishes, by its `type` attribute and version."""

from __future__ import annotations

from skiff_contracts.envelope import EventPayload
from skiff_contracts.events import (
    billing,
    gateway,
    identity,
    notification,
    orchestrator,
    sandbox,
)

_ALL: tuple[type[EventPayload], ...] = (
    *identity.EVENTS,
    *billing.EVENTS,
    *notification.EVENTS,
    *gateway.EVENTS,
    *orchestrator.EVENTS,
    *sandbox.EVENTS,
)

EVENT_TYPES: dict[tuple[str, int], type[EventPayload]] = {
    (cls.event_type, cls.event_version): cls for cls in _ALL
}


def payload_type(event_type: str, version: int = 1) -> type[EventPayload]:
    """The payload Struct of a type and version; KeyError when unknown."""
    return EVENT_TYPES[(event_type, version)]
