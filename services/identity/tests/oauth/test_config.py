"""The OAuth settings: read once at start, refused with the variable's name when malformed."""

from __future__ import annotations

import pytest
from skiff_identity.oauth.providers import oauth_config_from
from skiff_identity.oauth.redirects import origin_of
from skiff_identity.settings import IdentitySettings
from skiff_kit.settings import SettingsError, load_settings


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://App.Example.com/path?q=1", "https://app.example.com"),
        ("https://app.example.com:443/", "https://app.example.com"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("ftp://app.example.com", None),
        ("https://user@app.example.com", None),
        ("https://app.example.com:99999", None),
        ("https://app.example.com\\@evil", None),
        ("/relative", None),
    ],
)
def test_origin_of(url: str, origin: str | None) -> None:
    assert origin_of(url) == origin


def test_defaults_are_the_real_providers_and_switched_off() -> None:
    config = oauth_config_from(IdentitySettings())

    github, google = config.providers["github"], config.providers["google"]
    assert github.authorize_url == "https://github.com/login/oauth/authorize"
    assert github.token_url == "https://github.com/login/oauth/access_token"
    assert google.authorize_url == "https://accounts.google.com/o/oauth2/v2/auth"
    assert google.token_url == "https://oauth2.googleapis.com/token"
    assert (github.client_id, google.client_id) == ("", "")
    assert config.redirect_uri(github) == "http://localhost:8080/api/v1/auth/oauth/github/callback"
    assert config.allowed_origins == frozenset({"http://localhost:8080"})
    assert config.after_sign_in(None) == "http://localhost:8080/"


def test_settings_come_from_the_environment() -> None:
    settings = load_settings(
        IdentitySettings,
        environ={
            "SKIFF_PUBLIC_URL": "https://skiff.example.com/",
            "SKIFF_OAUTH_REDIRECT_ORIGINS": "https://app.example.com, http://localhost:3000",
            "SKIFF_OAUTH_DEFAULT_REDIRECT": "https://app.example.com/home",
            "SKIFF_OAUTH_STATE_TTL_SECONDS": "120",
            "SKIFF_OAUTH_GITHUB_CLIENT_ID": "abc",
        },
    )
    config = oauth_config_from(settings)

    assert config.public_url == "https://skiff.example.com"
    assert config.allowed_origins == frozenset(
        {"https://skiff.example.com", "https://app.example.com", "http://localhost:3000"}
    )
    assert config.after_sign_in(None) == "https://app.example.com/home"
    assert config.state_ttl.total_seconds() == 120
    assert config.provider("github").client_id == "abc"


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"public_url": "skiff.example.com"}, "SKIFF_PUBLIC_URL"),
        (
            {"oauth_redirect_origins": "https://app.example.com/path"},
            "SKIFF_OAUTH_REDIRECT_ORIGINS",
        ),
        ({"oauth_redirect_origins": "app.example.com"}, "SKIFF_OAUTH_REDIRECT_ORIGINS"),
        ({"oauth_default_redirect": "https://elsewhere.example/"}, "SKIFF_OAUTH_DEFAULT_REDIRECT"),
    ],
)
def test_malformed_settings_stop_the_service(overrides: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError) as raised:
        oauth_config_from(IdentitySettings(**overrides))  # type: ignore[arg-type]

    assert variable in raised.value.problems
