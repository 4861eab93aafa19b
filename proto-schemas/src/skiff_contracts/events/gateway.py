"""Events published by the gateway (`gateway.>` on the GATEWAY stream)."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

import msgspec

from skiff_contracts.envelope import EventPayload


class KeyUsage(msgspec.Struct, frozen=True, kw_only=True):
    """Requests made with one API key on one day, by status class (`2xx`, `4xx`, ...)."""

    key_id: str
    organization_id: str
    day: date
    status_class: str
    requests: int


class UsageReported(EventPayload, frozen=True, kw_only=True):
    """A batch of per-key request counts from one gateway replica since its last report."""

    event_type: ClassVar[str] = "gateway.usage.reported"
    description: ClassVar[str] = "Per-API-key request counts, batched by a gateway replica."

    replica: str
    window_start: datetime
    window_end: datetime
    usage: list[KeyUsage]


EVENTS = (UsageReported,)
