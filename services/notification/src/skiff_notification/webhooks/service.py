"""The rules of endpoints: create (secret shown once), change, re-enable, rotate, delete."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from skiff_contracts import new_id
from skiff_kit.errors import Conflict, NotFound
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_notification.webhooks import repository, signing
from skiff_notification.webhooks.models import WebhookEndpoint
from skiff_notification.webhooks.schemas import CreateEndpoint, UpdateEndpoint
from skiff_notification.webhooks.ssrf import AddressPolicy
from skiff_notification.webhooks.validation import checked_events, checked_url


@dataclass(frozen=True)
class Rules:
    """The settings endpoints are checked against."""

    policy: AddressPolicy
    allow_http: bool
    max_endpoints: int
    secret_overlap: timedelta


def not_found() -> NotFound:
    return NotFound("No such webhook endpoint.", code="webhook_not_found")


async def get(
    session: AsyncSession, organization_id: str, endpoint_id: str, *, lock: bool = False
) -> WebhookEndpoint:
    found = await repository.endpoint(session, organization_id, endpoint_id, lock=lock)
    if found is None:
        raise not_found()
    return found


async def create(
    session: AsyncSession,
    organization_id: str,
    body: CreateEndpoint,
    rules: Rules,
    *,
    endpoint_id: str | None = None,
) -> WebhookEndpoint:
    """A new enabled endpoint with a fresh secret (the caller shows it once)."""
    url = checked_url(body.url, policy=rules.policy, allow_http=rules.allow_http)
    events = checked_events(body.events)
    if await repository.count_endpoints(session, organization_id) >= rules.max_endpoints:
        raise Conflict(
            f"An organization has at most {rules.max_endpoints} webhook endpoints.",
            code="webhook_endpoint_limit",
            details={"limit": rules.max_endpoints},
        )
    now = datetime.now(UTC)
    endpoint = WebhookEndpoint(
        id=endpoint_id or new_id("wh"),
        organization_id=organization_id,
        url=url,
        description=body.description,
        event_types=events,
        rate_limit_per_second=body.rate_limit_per_second,
        enabled=True,
        secret=signing.new_secret(),
        created_at=now,
        updated_at=now,
    )
    session.add(endpoint)
    await session.flush()
    return endpoint


async def update(
    session: AsyncSession, endpoint: WebhookEndpoint, body: UpdateEndpoint, rules: Rules
) -> WebhookEndpoint:
    """Apply the fields sent; `enabled: true` re-enables (its parked messages wait for recover)."""
    if body.url is not None:
        endpoint.url = checked_url(body.url, policy=rules.policy, allow_http=rules.allow_http)
    if body.events is not None:
        endpoint.event_types = checked_events(body.events)
    if body.description is not None:
        endpoint.description = body.description
    if body.rate_limit_per_second is not None:
        endpoint.rate_limit_per_second = body.rate_limit_per_second or None
    now = datetime.now(UTC)
    if body.enabled is True and not endpoint.enabled:
        endpoint.enabled, endpoint.disabled_reason, endpoint.disabled_at = True, None, None
        endpoint.failing_since = None
        endpoint.failing_notice_at = endpoint.warning_notice_at = None
    elif body.enabled is False and endpoint.enabled:
        await disable(session, endpoint, reason="manual", now=now)
    endpoint.updated_at = now
    return endpoint


async def disable(
    session: AsyncSession, endpoint: WebhookEndpoint, *, reason: str, now: datetime
) -> None:
    """Stop sending; its pending messages are kept as `endpoint_disabled`."""
    endpoint.enabled, endpoint.disabled_reason, endpoint.disabled_at = False, reason, now
    endpoint.updated_at = now
    await session.flush()
    await repository.park_pending(session, endpoint.id)


def rotate(endpoint: WebhookEndpoint, rules: Rules) -> WebhookEndpoint:
    """A new secret; the current one keeps signing beside it for the overlap."""
    now = datetime.now(UTC)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_until = now + rules.secret_overlap
    endpoint.secret = signing.new_secret()
    endpoint.updated_at = now
    return endpoint


def require_enabled(endpoint: WebhookEndpoint) -> None:
    """409 `endpoint_disabled` for a disabled endpoint (re-enable it with PATCH first)."""
    if not endpoint.enabled:
        raise Conflict(
            "This endpoint is disabled; re-enable it (PATCH enabled: true) first.",
            code="endpoint_disabled",
            details={"disabled_reason": endpoint.disabled_reason},
        )
