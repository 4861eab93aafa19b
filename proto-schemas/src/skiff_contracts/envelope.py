"""The CloudEvents 1.0 envelope every Skiff event travels in."""

from __future__ import annotations

import builtins
from datetime import UTC, datetime
from typing import Any, ClassVar

import msgspec

from skiff_contracts.ids import new_id


def new_event_id() -> str:
    """A sortable event id (`evt_...`)."""
    return new_id("evt")


class EventPayload(msgspec.Struct, kw_only=True, frozen=True):
    """Base of every event payload; subclasses name their type and version."""

    event_type: ClassVar[str]
    event_version: ClassVar[int] = 1
    description: ClassVar[str] = ""


class Envelope(msgspec.Struct, kw_only=True, frozen=True):
    """CloudEvents attributes plus Skiff's organization and W3C trace context."""

    id: str
    source: str
    type: str
    specversion: str = "1.0"
    time: datetime
    subject: str | None = None
    organization_id: str | None = None
    traceparent: str | None = None
    dataversion: int = 1
    datacontenttype: str = "application/json"
    data: msgspec.Raw

    @classmethod
    def wrap(
        cls,
        payload: EventPayload,
        *,
        source: str,
        subject: str | None = None,
        organization_id: str | None = None,
        traceparent: str | None = None,
        event_id: str | None = None,
    ) -> Envelope:
        """Put a payload in a new envelope with a fresh id and the current time."""
        return cls(
            id=event_id or new_event_id(),
            source=source,
            type=payload.event_type,
            time=datetime.now(UTC),
            subject=subject,
            organization_id=organization_id,
            traceparent=traceparent,
            dataversion=payload.event_version,
            data=msgspec.Raw(msgspec.json.encode(payload)),
        )

    def payload(self, payload_cls: builtins.type[Any]) -> Any:
        """Decode `data` into the given payload Struct (strictly)."""
        return msgspec.json.decode(self.data, type=payload_cls)

    def encode(self) -> bytes:
        """The wire form: compact JSON."""
        return msgspec.json.encode(self)


_envelope_decoder = msgspec.json.Decoder(Envelope)


def decode_envelope(raw: bytes) -> Envelope:
    """Decode the wire form; raises msgspec.ValidationError / DecodeError on bad input."""
    return _envelope_decoder.decode(raw)
