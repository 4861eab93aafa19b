"""Rate limits shared by every gateway replica (see docs/gateway.md)."""

from __future__ import annotations

import msgspec
from skiff_kit.settings import SettingsError

from skiff_gateway.ratelimit.gate import RateLimits, Verdict
from skiff_gateway.ratelimit.limiter import Bucket, Limiter
from skiff_gateway.ratelimit.policy import Limits, Policies, Policy, RouteRule
from skiff_gateway.ratelimit.store import SharedCounters
from skiff_gateway.settings import GatewaySettings

__all__ = [
    "Bucket",
    "Limiter",
    "Limits",
    "Policies",
    "Policy",
    "RateLimits",
    "RouteRule",
    "SharedCounters",
    "Verdict",
    "rate_limits_from",
]


def limits_from(settings: GatewaySettings) -> Limits:
    """The `SKIFF_RATELIMIT_*` numbers; a bad JSON value names its variable."""
    try:
        organizations = msgspec.json.decode(
            settings.ratelimit_organizations or "{}", type=dict[str, float]
        )
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        raise SettingsError({"SKIFF_RATELIMIT_ORGANIZATIONS": str(error)}) from None
    try:
        routes = msgspec.json.decode(settings.ratelimit_routes or "[]", type=tuple[RouteRule, ...])
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        raise SettingsError({"SKIFF_RATELIMIT_ROUTES": str(error)}) from None
    return Limits(
        key_per_minute=settings.ratelimit_key_per_minute,
        key_burst=settings.ratelimit_key_burst,
        user_per_hour=settings.ratelimit_user_per_hour,
        anonymous_per_hour=settings.ratelimit_anonymous_per_hour,
        webhooks_per_minute=settings.ratelimit_webhooks_per_minute,
        organizations=organizations,
        routes=routes,
    )


def rate_limits_from(settings: GatewaySettings) -> RateLimits | None:
    """The gateway's rate limits, or None when `SKIFF_RATELIMIT_ENABLED` is false."""
    if not settings.ratelimit_enabled:
        return None
    limits = limits_from(settings)
    try:
        policies = Policies(limits)
    except ValueError as error:
        raise SettingsError({"SKIFF_RATELIMIT_ROUTES": str(error)}) from None
    store = None
    if settings.ratelimit_shared:
        store = SharedCounters(
            settings.nats_url,
            bucket=settings.ratelimit_bucket,
            ttl_seconds=policies.longest_window + 60,
            timeout_seconds=settings.ratelimit_store_timeout_seconds,
        )
    return RateLimits(policies, Limiter(store, max_lease=settings.ratelimit_max_lease))
