"""Identity's settings, from SKIFF_* environment variables (docs/settings.md lists them)."""

from __future__ import annotations

from skiff_kit.settings import Port, ServiceSettings


class IdentitySettings(ServiceSettings, kw_only=True):
    """Identity's own settings, on top of the ones every service reads."""

    service_name: str = "identity"
    """The service's name in logs, traces and probes."""
    port: Port = 8081
    """The port the gateway reaches identity on."""
    database_schema: str | None = "identity"
    """The PostgreSQL schema identity owns."""
    access_token_private_key: str = ""
    """The Ed25519 private key (PEM) that signs users' access tokens."""
    access_token_key_id: str = "a1"
    """The key id (`kid`) of `SKIFF_ACCESS_TOKEN_PRIVATE_KEY`."""
    access_token_ttl_seconds: int = 900
    """Lifetime of a user's access token, in seconds."""
    refresh_token_ttl_days: int = 30
    """Lifetime of a refresh token (and of the `skiff_refresh` cookie), in days."""
    invite_ttl_days: int = 7
    """Lifetime of an organization invitation, in days."""
    session_cookie_secure: bool = False
    """Set `Secure` on the `skiff_session` and `skiff_refresh` cookies: `true` once users
    reach Skiff over HTTPS."""
    # argon2id costs; lower them only for tests and demos (never in production).
    password_time_cost: int = 3
    """argon2id iterations per password hash."""
    password_memory_kib: int = 65536
    """argon2id memory per password hash, in KiB."""
    # OAuth sign-in (see oauth/providers.py); no client id: switched off.
    public_url: str = "http://localhost:8080"
    """Where users reach the gateway: base of the OAuth callback registered with each provider
    (`<url>/api/v1/auth/oauth/{github,google}/callback`) and an allowed `redirect_to` origin."""
    oauth_redirect_origins: str = ""
    """Comma-separated origins (`https://app.example.com`) a sign-in's `redirect_to` may
    return to, besides `SKIFF_PUBLIC_URL`'s."""
    oauth_default_redirect: str = "/"
    """Where a sign-in without `redirect_to` returns: a path of `SKIFF_PUBLIC_URL`, or a URL on
    an allowed origin."""
    oauth_state_ttl_seconds: int = 600
    """How long, in seconds, a started sign-in (state and PKCE verifier) may take to come
    back."""
    oauth_http_timeout_seconds: float = 10.0
    """Seconds each call to a provider (token, profile) may take; past it the callback
    answers 502."""
    oauth_github_client_id: str = ""
    """The GitHub OAuth app's client id; empty: GitHub sign-in answers 404
    `oauth_provider_not_configured`."""
    oauth_github_client_secret: str = ""
    """The GitHub OAuth app's client secret."""
    oauth_github_authorize_url: str = "https://github.com/login/oauth/authorize"
    """GitHub's authorization endpoint (tests point it at a local stand-in)."""
    oauth_github_token_url: str = "https://github.com/login/oauth/access_token"
    """GitHub's token endpoint."""
    oauth_github_api_url: str = "https://api.github.com"
    """GitHub's API base (the user and their emails)."""
    oauth_google_client_id: str = ""
    """The Google OAuth client id; empty: Google sign-in answers 404
    `oauth_provider_not_configured`."""
    oauth_google_client_secret: str = ""
    """The Google OAuth client secret."""
    oauth_google_authorize_url: str = "https://accounts.google.com/o/oauth2/v2/auth"
    """Google's authorization endpoint (tests point it at a local stand-in)."""
    oauth_google_token_url: str = "https://oauth2.googleapis.com/token"
    """Google's token endpoint."""
    oauth_google_userinfo_url: str = "https://openidconnect.googleapis.com/v1/userinfo"
    """Google's OpenID Connect userinfo endpoint."""
    # Account security (see security/policy.py).
    email_verification_ttl_hours: int = 24
    """Lifetime of an email-verification link, in hours."""
    password_reset_ttl_minutes: int = 60
    """Lifetime of a password-reset link, in minutes."""
    throttle_account_max_failures: int = 5
    """Failed logins per account before a block (a success clears them)."""
    throttle_ip_max_failures: int = 30
    """Failed logins (and forgot-password requests) per client address before a block."""
    throttle_token_max_failures: int = 10
    """Wrong verification or reset tokens per client address before a block."""
    throttle_mail_max_requests: int = 3
    """Reset or verification emails per address or user before a block."""
    throttle_block_seconds: int = 30
    """The first block, in seconds (429 `too_many_attempts` with `Retry-After`); it doubles
    per further failure up to `SKIFF_THROTTLE_MAX_BLOCK_SECONDS`."""
    throttle_max_block_seconds: int = 3600
    """The longest block, in seconds."""
    throttle_window_seconds: int = 900
    """Quiet time, in seconds, after the last attempt or block that starts a count afresh."""
    lock_after_failures: int = 20
    """Lock an account after this many counted failed logins (0: never); a password reset
    lifts such a lock."""
