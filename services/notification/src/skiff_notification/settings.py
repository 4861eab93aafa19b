"""Notification's settings, from SKIFF_* environment variables."""

from __future__ import annotations

from skiff_kit.settings import ServiceSettings


class NotificationSettings(ServiceSettings, kw_only=True):
    """Notification's own settings, on top of the ones every service reads."""

    service_name: str = "notification"
    """The service's name in logs, traces and probes."""
    port: int = 8085
    """The port the gateway reaches notification on."""
    database_schema: str | None = "notification"
    """The PostgreSQL schema notification owns."""
    # Links in emails point here (the gateway, or the web app in front of it).
    public_url: str = "http://localhost:8080"
    """Base of the links in emails: `/verify-email?token=`, `/reset-password?token=`,
    `/invites/accept?token=`."""
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
