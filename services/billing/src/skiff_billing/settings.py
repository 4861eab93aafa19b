"""Billing's settings, from SKIFF_* environment variables."""

from __future__ import annotations

from skiff_kit.settings import ServiceSettings


class BillingSettings(ServiceSettings, kw_only=True):
    service_name: str = "billing"
    port: int = 8082
    database_schema: str | None = "billing"
    signup_bonus_credits: int = 100
