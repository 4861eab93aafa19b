"""Rows as the routes show them."""

from __future__ import annotations

from typing import Any, cast

import msgspec

from skiff_notification.webhooks.models import WebhookAttempt, WebhookEndpoint, WebhookMessage
from skiff_notification.webhooks.schemas import (
    AttemptOut,
    CreatedEndpoint,
    DeliveryOut,
    EndpointOut,
)


def endpoint_out(row: WebhookEndpoint) -> EndpointOut:
    return EndpointOut(
        id=row.id,
        url=row.url,
        description=row.description,
        events=list(row.event_types),
        rate_limit_per_second=row.rate_limit_per_second,
        status="enabled" if row.enabled else "disabled",
        disabled_reason=row.disabled_reason,
        disabled_at=row.disabled_at,
        failing_since=row.failing_since,
        previous_secret_expires_at=row.previous_secret_until if row.previous_secret else None,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def created_out(row: WebhookEndpoint) -> CreatedEndpoint:
    """The endpoint as created: with its secret, which no other answer shows."""
    shown = msgspec.structs.asdict(endpoint_out(row))
    return CreatedEndpoint(**shown, secret=row.secret)


def delivery_out(row: WebhookMessage, attempts: list[WebhookAttempt]) -> DeliveryOut:
    return DeliveryOut(
        id=row.id,
        event_id=row.event_id,
        event_type=row.event_type,
        status=cast(Any, row.status),
        attempts=[
            AttemptOut(
                at=a.at,
                trigger=cast(Any, a.trigger),
                status_code=a.status_code,
                error=a.error,
                duration_ms=a.duration_ms,
                response_excerpt=a.response_excerpt,
            )
            for a in attempts
        ],
        next_attempt_at=row.next_attempt_at,
        created_at=row.created_at,
        succeeded_at=row.succeeded_at,
    )
