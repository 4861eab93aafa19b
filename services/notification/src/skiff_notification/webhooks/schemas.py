"""HTTP bodies of the webhook routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

Url = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
EventName = Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
Events = Annotated[list[EventName], msgspec.Meta(min_length=1, max_length=200)]
Description = Annotated[str, msgspec.Meta(max_length=500)]
RateLimit = Annotated[int, msgspec.Meta(ge=1, le=10_000)]


class CreateEndpoint(msgspec.Struct, forbid_unknown_fields=True):
    """`events`: `["*"]` for every event type, or names from `GET /api/v1/event-types`."""

    url: Url
    events: Events
    description: Description = ""
    rate_limit_per_second: RateLimit | None = None


class UpdateEndpoint(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields sent change; `rate_limit_per_second: 0` removes the limit."""

    url: Url | None = None
    events: Events | None = None
    description: Description | None = None
    rate_limit_per_second: Annotated[int, msgspec.Meta(ge=0, le=10_000)] | None = None
    enabled: bool | None = None


class EndpointOut(msgspec.Struct, kw_only=True):
    id: str
    url: str
    description: str
    events: list[str]
    rate_limit_per_second: int | None
    status: Literal["enabled", "disabled"]
    disabled_reason: str | None
    disabled_at: datetime | None
    failing_since: datetime | None
    previous_secret_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime


class CreatedEndpoint(EndpointOut, kw_only=True):
    """The endpoint, and its signing secret: shown this once."""

    secret: str


class RotatedSecret(msgspec.Struct, kw_only=True):
    """The new secret (shown once); the old one also signs until `previous_secret_expires_at`."""

    id: str
    secret: str
    previous_secret_expires_at: datetime


class AttemptOut(msgspec.Struct, kw_only=True):
    at: datetime
    trigger: Literal["scheduled", "manual"]
    status_code: int | None
    error: str | None
    duration_ms: int
    response_excerpt: str


class DeliveryOut(msgspec.Struct, kw_only=True):
    """One message to this endpoint (its id is the `webhook-id`), with every attempt."""

    id: str
    event_id: str
    event_type: str
    status: Literal["pending", "succeeded", "failed", "endpoint_disabled"]
    attempts: list[AttemptOut]
    next_attempt_at: datetime | None
    created_at: datetime
    succeeded_at: datetime | None


class RecoverRequest(msgspec.Struct, forbid_unknown_fields=True):
    since: datetime
    until: datetime | None = None


class RecoveryOut(msgspec.Struct, kw_only=True):
    """A recovery runs in the background; `messages` counts those made due again."""

    id: str
    endpoint_id: str
    since: datetime
    until: datetime
    status: Literal["running", "done"]
    messages: int
    created_at: datetime


class EventTypeOut(msgspec.Struct, kw_only=True):
    """A webhook event type: its body's JSON Schema and an example body that fits it."""

    type: str
    version: int
    description: str
    schema: dict[str, Any]
    example: dict[str, Any]
