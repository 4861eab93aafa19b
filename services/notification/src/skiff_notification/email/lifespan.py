"""Runs the email sender while the app does (when an SMTP host is configured)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import structlog
from skiff_kit.app import Lifespan

from skiff_notification.email.sender import EmailSender, RetryPolicy
from skiff_notification.email.smtp import SmtpConfig
from skiff_notification.settings import NotificationSettings

log = structlog.get_logger("skiff_notification.email")


def smtp_config_from(settings: NotificationSettings) -> SmtpConfig:
    """The SMTP settings (`SKIFF_SMTP_*`) as the sender takes them."""
    return SmtpConfig(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        starttls=settings.smtp_starttls,
        username=settings.smtp_username,
        password=settings.smtp_password,
        timeout_seconds=settings.smtp_timeout_seconds,
    )


def email_lifespan(settings: NotificationSettings) -> Lifespan:
    """A Litestar lifespan running the sender loop on the app's session factory."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        factory = app.state.get("db_session_factory")
        if not settings.smtp_host or factory is None:
            log.warning("SKIFF_SMTP_HOST is not set: emails are queued, not sent")
            yield
            return
        sender = EmailSender(
            factory,
            smtp_config_from(settings),
            retry=RetryPolicy(
                max_attempts=settings.email_max_attempts,
                base_seconds=settings.email_retry_base_seconds,
                max_seconds=settings.email_retry_max_seconds,
            ),
            listen_dsn=_libpq(settings.database_url or ""),
            poll_seconds=settings.email_poll_seconds,
        )
        task = asyncio.create_task(sender.run(), name="email-sender")
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    return lifespan


def _libpq(database_url: str) -> str | None:
    """`postgresql+asyncpg://...` → `postgresql://...` for asyncpg's LISTEN connection."""
    if not database_url:
        return None
    scheme, rest = database_url.split("://", 1)
    return f"{scheme.split('+', 1)[0]}://{rest}"
