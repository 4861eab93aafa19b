"""The providers this server offers and the OAuth policy, built once from settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal
from urllib.parse import urlsplit

from skiff_kit.errors import BadRequest, NotFound
from skiff_kit.settings import SettingsError

from skiff_identity.oauth.redirects import origin_of, resolve_redirect
from skiff_identity.settings import IdentitySettings

ProviderName = Literal["github", "google"]
CALLBACK_PATH = "/api/v1/auth/oauth/{provider}/callback"


@dataclass(frozen=True)
class Provider:
    """One provider's client registration and endpoints (defaults: the real ones)."""

    name: ProviderName
    label: str
    client_id: str
    client_secret: str
    authorize_url: str
    token_url: str
    profile_url: str  # GitHub: the REST API base; Google: the OpenID userinfo endpoint
    scope: str


@dataclass(frozen=True)
class OAuthConfig:
    """Providers, the public URL the callbacks live under, and where users may be sent back."""

    providers: dict[str, Provider]
    public_url: str
    allowed_origins: frozenset[str]
    default_redirect: str
    state_ttl: timedelta
    http_timeout_seconds: float

    def provider(self, name: str) -> Provider:
        """The configured provider `name`; 404 for an unknown or unconfigured one."""
        provider = self.providers.get(name)
        if provider is None:
            raise NotFound(
                f"There is no OAuth provider {name!r}; use github or google.",
                code="oauth_provider_not_found",
            )
        if not provider.client_id:
            raise NotFound(
                f"Sign-in with {provider.label} is not configured on this server.",
                code="oauth_provider_not_configured",
            )
        return provider

    def redirect_uri(self, provider: Provider) -> str:
        """The callback registered with the provider."""
        return self.public_url + CALLBACK_PATH.format(provider=provider.name)

    def after_sign_in(self, redirect_to: str | None) -> str:
        """The absolute URL to return to: `redirect_to` if allowed (else 400), or the default."""
        return resolve_redirect(
            redirect_to or self.default_redirect,
            public_url=self.public_url,
            allowed_origins=self.allowed_origins,
        )


def oauth_config_from(settings: IdentitySettings) -> OAuthConfig:
    """Read once at start; a malformed URL or origin stops the service with its variable."""
    public_url = settings.public_url.rstrip("/")
    public_origin = origin_of(public_url)
    if public_origin is None:
        raise SettingsError({"SKIFF_PUBLIC_URL": "must be an http(s) URL"})
    origins = {public_origin}
    for entry in filter(
        None, (item.strip() for item in settings.oauth_redirect_origins.split(","))
    ):
        origin = origin_of(entry)
        parts = urlsplit(entry)
        if origin is None or parts.path.strip("/") or parts.query or parts.fragment:
            raise SettingsError({"SKIFF_OAUTH_REDIRECT_ORIGINS": f"{entry!r} is not an origin"})
        origins.add(origin)
    github = Provider(
        name="github",
        label="GitHub",
        client_id=settings.oauth_github_client_id,
        client_secret=settings.oauth_github_client_secret,
        authorize_url=settings.oauth_github_authorize_url,
        token_url=settings.oauth_github_token_url,
        profile_url=settings.oauth_github_api_url.rstrip("/"),
        scope="read:user user:email",
    )
    google = Provider(
        name="google",
        label="Google",
        client_id=settings.oauth_google_client_id,
        client_secret=settings.oauth_google_client_secret,
        authorize_url=settings.oauth_google_authorize_url,
        token_url=settings.oauth_google_token_url,
        profile_url=settings.oauth_google_userinfo_url,
        scope="openid email profile",
    )
    config = OAuthConfig(
        providers={"github": github, "google": google},
        public_url=public_url,
        allowed_origins=frozenset(origins),
        default_redirect=settings.oauth_default_redirect,
        state_ttl=timedelta(seconds=settings.oauth_state_ttl_seconds),
        http_timeout_seconds=settings.oauth_http_timeout_seconds,
    )
    try:
        config.after_sign_in(None)
    except BadRequest:
        raise SettingsError(
            {"SKIFF_OAUTH_DEFAULT_REDIRECT": "must be a path or a URL on an allowed origin"}
        ) from None
    return config
