"""Identity's settings, from SKIFF_* environment variables."""

from __future__ import annotations

from skiff_kit.settings import ServiceSettings


class IdentitySettings(ServiceSettings, kw_only=True):
    service_name: str = "identity"
    port: int = 8081
    database_schema: str | None = "identity"
    access_token_private_key: str = ""
    access_token_key_id: str = "a1"
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_days: int = 30
    session_cookie_secure: bool = False
    # argon2id costs; lower them only for tests and demos (never in production).
    password_time_cost: int = 3
    password_memory_kib: int = 65536
