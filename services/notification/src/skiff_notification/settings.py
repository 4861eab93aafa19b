"""Notification's settings, from SKIFF_* environment variables."""

from __future__ import annotations

from skiff_kit.settings import ServiceSettings


class NotificationSettings(ServiceSettings, kw_only=True):
    service_name: str = "notification"
    port: int = 8085
    database_schema: str | None = "notification"
    # Links in emails point here (the gateway, or the web app in front of it).
    public_url: str = "http://localhost:8080"
    # Email delivery; no host: emails are queued in the outbox but not sent.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "Skiff <no-reply@localhost>"
    smtp_starttls: bool = False
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_timeout_seconds: float = 10.0
    email_poll_seconds: float = 5.0
    email_max_attempts: int = 10
    email_retry_base_seconds: float = 30.0
    email_retry_max_seconds: float = 3600.0
    # Webhooks (docs/webhooks.md). Addresses outside these CIDRs must be public to be called.
    webhooks_allowed_cidrs: str = ""
    webhooks_allow_http: bool = False
    webhook_timeout_seconds: float = 15.0
    webhook_connect_timeout_seconds: float = 5.0
    webhook_max_payload_bytes: int = 256 * 1024
    webhook_endpoint_concurrency: int = 4
    webhook_max_in_flight: int = 256
    webhook_lease_seconds: float = 60.0
    webhook_retention_days: int = 90
    webhook_max_endpoints_per_organization: int = 100
    webhook_disable_after_days: float = 5.0
    webhook_secret_overlap_hours: float = 24.0
