"""Talking to a provider through authlib: the authorize URL, the PKCE code exchange, the profile."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar

import httpx
import msgspec
from skiff_kit.errors import BadGateway, BadRequest
from skiff_kit.names import printable

from skiff_identity.auth.validation import normalize_email
from skiff_identity.oauth.providers import Provider
from skiff_identity.oauth.schemas import GitHubEmail, GitHubUser, GoogleUserInfo, ProviderProfile

with warnings.catch_warnings():
    # authlib warns when it runs on httpx rather than its httpx2 fork; httpx is this workspace's.
    # Its warning module installs an "always" filter when imported: import it before ours.
    import authlib.deprecate  # type: ignore[import-untyped]

    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.integrations.base_client import OAuthError  # type: ignore[import-untyped]
    from authlib.integrations.httpx_client import AsyncOAuth2Client  # type: ignore[import-untyped]

# What the token endpoint says about a code that is wrong, expired, used, or whose PKCE
# verifier does not match: the caller's problem (400), not the provider's (502).
_REJECTED_CODE = frozenset({"invalid_grant", "bad_verification_code"})
T = TypeVar("T")
_GITHUB_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}


@asynccontextmanager
async def _client(
    provider: Provider, *, redirect_uri: str, timeout_seconds: float
) -> AsyncIterator[AsyncOAuth2Client]:
    async with AsyncOAuth2Client(
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        scope=provider.scope,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_post",
        timeout=timeout_seconds,
        headers={"User-Agent": "skiff-identity"},
    ) as client:
        yield client


async def authorization_url(
    provider: Provider, *, redirect_uri: str, state: str, code_verifier: str
) -> str:
    """The provider's authorize URL with client_id, scope, state and the S256 code challenge."""
    async with _client(provider, redirect_uri=redirect_uri, timeout_seconds=1.0) as client:
        url, _ = client.create_authorization_url(
            provider.authorize_url, state=state, code_verifier=code_verifier
        )
    return str(url)


async def fetch_profile(
    provider: Provider, *, code: str, code_verifier: str, redirect_uri: str, timeout_seconds: float
) -> ProviderProfile:
    """Trade `code` (with the PKCE verifier) for a token, then read who signed in."""
    async with _client(
        provider, redirect_uri=redirect_uri, timeout_seconds=timeout_seconds
    ) as client:
        try:
            token = await client.fetch_token(
                provider.token_url, code=code, code_verifier=code_verifier
            )
            if not token.get("access_token"):
                raise _provider_error(provider, "the token endpoint returned no access token")
            if provider.name == "github":
                return await _github_profile(client, provider)
            return await _google_profile(client, provider)
        except OAuthError as error:
            if error.error in _REJECTED_CODE:
                raise BadRequest(
                    f"{provider.label} refused the authorization code (expired, already used or"
                    " not issued for this sign-in). Please sign in again.",
                    code="oauth_code_rejected",
                    details={"provider_error": error.error},
                ) from None
            raise _provider_error(provider, str(error.error)) from None
        except (httpx.HTTPError, ValueError) as error:
            raise BadGateway(
                f"{provider.label} could not be reached or answered with an error.",
                code="oauth_provider_unavailable",
                details={"reason": type(error).__name__},
            ) from None


async def _get(client: AsyncOAuth2Client, provider: Provider, url: str) -> httpx.Response:
    headers = _GITHUB_HEADERS if provider.name == "github" else {}
    response: httpx.Response = await client.get(url, headers=headers)
    return response


def _decode(provider: Provider, response: httpx.Response, kind: type[T]) -> T:
    if response.status_code != 200:
        path = response.request.url.path
        raise _provider_error(provider, f"{path} answered {response.status_code}")
    try:
        return msgspec.json.decode(response.content, type=kind)
    except msgspec.DecodeError as error:
        raise _provider_error(provider, f"unexpected profile: {error}") from None


async def _github_profile(client: AsyncOAuth2Client, provider: Provider) -> ProviderProfile:
    user_response = await _get(client, provider, f"{provider.profile_url}/user")
    user = _decode(provider, user_response, GitHubUser)
    emails_response = await _get(client, provider, f"{provider.profile_url}/user/emails")
    # Without the email permission GitHub answers 403/404: no verified email, not an outage.
    emails: list[GitHubEmail] = []
    if emails_response.status_code not in (403, 404):
        emails = _decode(provider, emails_response, list[GitHubEmail])
    primary = next((entry for entry in emails if entry.primary), None)
    email = primary.email if primary else user.email
    return ProviderProfile(
        provider=provider.name,
        provider_user_id=str(user.id),
        email=normalize_email(email) if email else None,
        email_verified=primary is not None and primary.verified,
        name=_display_name(user.name, user.login, "GitHub user"),
    )


def _display_name(name: str | None, *fallbacks: str) -> str:
    """The profile's name on one line (skiff_kit.names.printable), else the first fallback that
    is not blank; at most 200 characters, as a registered name."""
    for candidate in (printable(name or ""), *fallbacks):
        if candidate.strip():
            return candidate.strip()[:200]
    return fallbacks[-1]


async def _google_profile(client: AsyncOAuth2Client, provider: Provider) -> ProviderProfile:
    info = _decode(provider, await _get(client, provider, provider.profile_url), GoogleUserInfo)
    email = normalize_email(info.email) if info.email else None
    return ProviderProfile(
        provider=provider.name,
        provider_user_id=info.sub,
        email=email,
        email_verified=email is not None and info.email_verified,
        name=_display_name(info.name, (email or "").split("@")[0], "Google user"),
    )


def _provider_error(provider: Provider, reason: str) -> BadGateway:
    return BadGateway(
        f"{provider.label} answered in a way sign-in cannot use; please try again later.",
        code="oauth_provider_error",
        details={"reason": reason},
    )
