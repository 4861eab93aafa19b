"""Notification's settings, from SKIFF_* environment variables."""

from __future__ import annotations

from skiff_kit.settings import ServiceSettings


class NotificationSettings(ServiceSettings, kw_only=True):
    service_name: str = "notification"
    port: int = 8085
    database_schema: str | None = "notification"
