"""The webhook settings, read once into the objects the routes and the dispatcher use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from litestar.di import NamedDependency
from skiff_kit.settings import SettingsError

from skiff_notification.settings import NotificationSettings
from skiff_notification.webhooks.dispatcher import DispatchConfig
from skiff_notification.webhooks.service import Rules
from skiff_notification.webhooks.ssrf import AddressPolicy


@dataclass(frozen=True)
class WebhookConfig:
    rules: Rules
    dispatch: DispatchConfig
    policy: AddressPolicy


def webhook_config(settings: NotificationSettings) -> WebhookConfig:
    """From the `SKIFF_WEBHOOK_*` and `SKIFF_WEBHOOKS_*` settings; a bad CIDR stops the service,
    naming the variable."""
    try:
        policy = AddressPolicy.from_setting(settings.webhooks_allowed_cidrs)
    except ValueError as exc:
        raise SettingsError({"SKIFF_WEBHOOKS_ALLOWED_CIDRS": str(exc)}) from None
    return WebhookConfig(
        policy=policy,
        rules=Rules(
            policy=policy,
            allow_http=settings.webhooks_allow_http,
            max_endpoints=settings.webhook_max_endpoints_per_organization,
            secret_overlap=timedelta(hours=settings.webhook_secret_overlap_hours),
        ),
        dispatch=DispatchConfig(
            endpoint_concurrency=settings.webhook_endpoint_concurrency,
            max_in_flight=settings.webhook_max_in_flight,
            lease=timedelta(seconds=settings.webhook_lease_seconds),
            timeout_seconds=settings.webhook_timeout_seconds,
            max_bytes=settings.webhook_max_payload_bytes,
            disable_after=timedelta(days=settings.webhook_disable_after_days),
            retention=timedelta(days=settings.webhook_retention_days),
        ),
    )


CurrentWebhookConfig = NamedDependency[WebhookConfig]
