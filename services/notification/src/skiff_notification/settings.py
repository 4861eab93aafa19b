"""Notification's settings, from SKIFF_* environment variables."""

from __future__ import annotations

from skiff_kit.settings import Port, ServiceSettings


class NotificationSettings(ServiceSettings, kw_only=True):
    """Notification's own settings, on top of the ones every service reads."""

    service_name: str = "notification"
    """The service's name in logs, traces and probes."""
    port: Port = 8085
    """The port the gateway reaches notification on."""
    database_schema: str | None = "notification"
    """The PostgreSQL schema notification owns."""
    # Links in emails point here (the gateway, or the web app in front of it).
    public_url: str = "http://localhost:8080"
    """Base of the links in emails: `/verify-email?token=`, `/reset-password?token=`,
    `/invites/accept?token=`, `/unsubscribe?token=` (pages the gateway serves)."""
    # Email delivery; no host: emails are queued in the outbox but not sent.
    smtp_host: str = ""
    """The SMTP server; empty: emails wait in `notification.email_outbox` and are not sent."""
    smtp_port: int = 25
    """The SMTP server's port."""
    smtp_from: str = "Skiff <no-reply@localhost>"
    """The `From` of every email."""
    smtp_starttls: bool = False
    """`true`: upgrade the SMTP connection with STARTTLS before anything else."""
    smtp_username: str = ""
    """SMTP login; empty: no login."""
    smtp_password: str = ""
    """SMTP password (with `SKIFF_SMTP_USERNAME`)."""
    smtp_timeout_seconds: float = 10.0
    """Seconds one SMTP conversation may take."""
    email_poll_seconds: float = 5.0
    """How often, in seconds, the sender looks for due emails (a new one wakes it at once)."""
    email_max_attempts: int = 10
    """Tries before an email is marked `failed` (a 5xx answer fails it at once)."""
    email_retry_base_seconds: float = 30.0
    """First retry delay, in seconds; it doubles per attempt."""
    email_retry_max_seconds: float = 3600.0
    """Longest retry delay, in seconds."""
    owner_lookup_timeout_seconds: float = 1.0
    """How long to wait for identity to name an organization's owners when the directory knows
    none (their events predate what the bus keeps), in seconds; no answer: nobody is told
    (logged)."""
    # Webhooks (docs/webhooks.md). Addresses outside these CIDRs must be public to be called.
    webhooks_allowed_cidrs: str = ""
    """Comma-separated CIDRs (or a JSON list) webhooks may reach although they are not public
    (on-premise receivers); every other non-public address is refused as `blocked_address`."""
    webhooks_allow_http: bool = False
    """Accept `http://` endpoint URLs (otherwise `https` only)."""
    webhook_timeout_seconds: float = 15.0
    """One delivery attempt in all, in seconds (a timeout is retried no sooner than 60 s)."""
    webhook_connect_timeout_seconds: float = 5.0
    """Connecting to a receiver, in seconds."""
    webhook_max_payload_bytes: int = 256 * 1024
    """Larger message bodies are refused (kept as `failed`, attempt error `too_large`)."""
    webhook_endpoint_concurrency: int = 4
    """Sends at once to one endpoint, all replicas together (a slow endpoint cannot take every
    sender); give every replica the same value."""
    webhook_max_in_flight: int = 256
    """Sends at once in all, per replica."""
    webhook_lease_seconds: float = 60.0
    """A claimed message is due again after this if its replica died (keep it above the
    timeout), in seconds."""
    webhook_retention_days: int = 90
    """How long the delivery log keeps attempts and finished messages, in days."""
    webhook_max_endpoints_per_organization: int = 100
    """Endpoints per organization; one more is a 409 `webhook_endpoint_limit`."""
    webhook_disable_after_days: float = 5.0
    """An endpoint failing every attempt this long is disabled (owners are warned a day before),
    in days."""
    webhook_secret_overlap_hours: float = 24.0
    """How long a rotated-out secret keeps signing beside the new one, in hours."""
