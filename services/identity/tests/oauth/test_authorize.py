"""`GET /api/v1/auth/oauth/{provider}/authorize`: the 302 to the provider and the pending state."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from conftest import APP_ORIGIN
from identity_helpers import Identity, StartIdentity, assert_error, set_cookies
from oauth_fake_provider import CLIENTS, FakeProviders, s256
from oauth_flow import PUBLIC_URL, STATE_COOKIE, OAuthFlow, callback_url


async def _pending(database: asyncpg.Connection, state: str) -> asyncpg.Record:
    row = await database.fetchrow(
        "select * from identity.oauth_states where state_hash = $1",
        hashlib.sha256(state.encode()).hexdigest(),
    )
    assert row is not None, "the state is stored (hashed)"
    return row


@pytest.mark.parametrize(
    ("provider", "authorize_path", "scope"),
    [
        ("github", "/github/login/oauth/authorize", "read:user user:email"),
        ("google", "/google/o/oauth2/v2/auth", "openid email profile"),
    ],
)
async def test_authorize_redirects_to_the_provider_with_state_and_pkce(
    flow: OAuthFlow,
    providers: FakeProviders,
    database: asyncpg.Connection,
    provider: str,
    authorize_path: str,
    scope: str,
) -> None:
    started = await flow.start(provider)

    location = started.response.headers["location"]
    assert location.startswith(providers.base_url + authorize_path + "?")
    query = started.query
    assert query["client_id"] == CLIENTS[provider][0]
    assert query["response_type"] == "code"
    assert query["redirect_uri"] == callback_url(provider)
    assert query["scope"] == scope
    assert query["code_challenge_method"] == "S256"
    assert len(query["state"]) >= 32
    assert "client_secret" not in location
    assert CLIENTS[provider][1] not in location
    assert started.response.headers["cache-control"] == "no-store"

    pending = await _pending(database, query["state"])
    assert query["code_challenge"] == s256(pending["code_verifier"])
    assert query["state"] not in str(dict(pending))  # only its hash is stored
    assert pending["provider"] == provider
    assert pending["redirect_to"] == PUBLIC_URL + "/"
    assert pending["link_user_id"] is None
    assert pending["used_at"] is None
    ttl = pending["expires_at"] - datetime.now(UTC)
    assert timedelta(seconds=590) < ttl <= timedelta(seconds=600)

    cookie = set_cookies(started.response)[STATE_COOKIE]
    assert cookie.value == query["state"]
    assert cookie["httponly"]
    assert cookie["samesite"].lower() == "lax"
    assert cookie["path"] == f"/api/v1/auth/oauth/{provider}/"


async def test_each_sign_in_gets_its_own_state_and_verifier(flow: OAuthFlow) -> None:
    first, second = await flow.start("github"), await flow.start("github")

    assert first.query["state"] != second.query["state"]
    assert first.query["code_challenge"] != second.query["code_challenge"]


async def test_a_signed_in_caller_is_remembered_as_the_user_to_link(
    flow: OAuthFlow, oauth_identity: Identity, database: asyncpg.Connection
) -> None:
    body = await oauth_identity.registered()
    session = await oauth_identity.session(body["user"]["email"])

    started = await flow.start("github", headers=oauth_identity.as_user(session["access_token"]))

    pending = await _pending(database, started.query["state"])
    assert pending["link_user_id"] == body["user"]["id"]


@pytest.mark.parametrize(
    ("redirect_to", "stored"),
    [
        ("/settings/accounts?tab=oauth", PUBLIC_URL + "/settings/accounts?tab=oauth"),
        (f"{APP_ORIGIN}/welcome", f"{APP_ORIGIN}/welcome"),
        ("http://127.0.0.1:3000/", "http://127.0.0.1:3000/"),
        (f"{PUBLIC_URL}/done", f"{PUBLIC_URL}/done"),
    ],
)
async def test_redirect_to_on_an_allowed_origin_is_kept(
    flow: OAuthFlow, database: asyncpg.Connection, redirect_to: str, stored: str
) -> None:
    started = await flow.start("google", redirect_to=redirect_to)

    assert (await _pending(database, started.query["state"]))["redirect_to"] == stored


@pytest.mark.parametrize(
    "redirect_to",
    [
        "https://evil.example/steal",
        "//evil.example/steal",
        "/\\evil.example",
        "https://app.skiff.example.evil.example/",
        "https://app.skiff.example@evil.example/",
        "http://app.skiff.example/",  # the allowed origin is https
        "http://localhost:8081/",
        "javascript:alert(1)",
        "settings",
        "/ok\r\nset-cookie: x=1",
    ],
)
async def test_redirect_to_elsewhere_is_refused(
    flow: OAuthFlow, database: asyncpg.Connection, redirect_to: str
) -> None:
    response = await flow.authorize("github", redirect_to=redirect_to)

    assert_error(response, 400, "redirect_not_allowed")
    assert await database.fetchval("select count(*) from identity.oauth_states") == 0


async def test_an_overlong_redirect_to_is_refused(flow: OAuthFlow) -> None:
    response = await flow.authorize("github", redirect_to="/" + "a" * 2100)

    assert_error(response, 400, "validation_error")


async def test_an_unknown_provider_is_404(flow: OAuthFlow) -> None:
    assert_error(await flow.authorize("gitlab"), 404, "oauth_provider_not_found")


async def test_a_provider_without_a_client_id_is_not_configured(
    start_identity: StartIdentity, providers: FakeProviders
) -> None:
    settings = {**providers.settings(), "oauth_google_client_id": ""}
    async with start_identity(**settings) as identity:
        flow = OAuthFlow(identity, providers)
        body = assert_error(await flow.authorize("google"), 404, "oauth_provider_not_configured")
        assert "Google" in body["error"]
        assert (await flow.authorize("github")).status_code == 302


async def test_authorize_only_answers_requests_from_the_gateway(oauth_identity: Identity) -> None:
    response = await oauth_identity.http.get("/api/v1/auth/oauth/github/authorize")

    assert_error(response, 401, "missing_internal_token")
