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
    invite_ttl_days: int = 7
    session_cookie_secure: bool = False
    # argon2id costs; lower them only for tests and demos (never in production).
    password_time_cost: int = 3
    password_memory_kib: int = 65536
    # OAuth sign-in (see oauth/providers.py and docs/operations.md); no client id: switched off.
    public_url: str = "http://localhost:8080"
    oauth_redirect_origins: str = ""  # comma-separated origins `redirect_to` may point at
    oauth_default_redirect: str = "/"
    oauth_state_ttl_seconds: int = 600
    oauth_http_timeout_seconds: float = 10.0
    oauth_github_client_id: str = ""
    oauth_github_client_secret: str = ""
    oauth_github_authorize_url: str = "https://github.com/login/oauth/authorize"
    oauth_github_token_url: str = "https://github.com/login/oauth/access_token"
    oauth_github_api_url: str = "https://api.github.com"
    oauth_google_client_id: str = ""
    oauth_google_client_secret: str = ""
    oauth_google_authorize_url: str = "https://accounts.google.com/o/oauth2/v2/auth"
    oauth_google_token_url: str = "https://oauth2.googleapis.com/token"
    oauth_google_userinfo_url: str = "https://openidconnect.googleapis.com/v1/userinfo"
    # Account security (see security/policy.py and docs/operations.md).
    email_verification_ttl_hours: int = 24
    password_reset_ttl_minutes: int = 60
    throttle_account_max_failures: int = 5
    throttle_ip_max_failures: int = 30
    throttle_token_max_failures: int = 10
    throttle_mail_max_requests: int = 3
    throttle_block_seconds: int = 30
    throttle_max_block_seconds: int = 3600
    throttle_window_seconds: int = 900
    lock_after_failures: int = 20
