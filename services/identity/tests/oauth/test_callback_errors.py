"""Callbacks that must not sign anyone in: bad state, PKCE mismatch, provider refusals, outages."""

from __future__ import annotations

import asyncpg
import pytest
from identity_helpers import StartIdentity, assert_error, set_cookies
from oauth_fake_provider import FakeProviders, s256
from oauth_flow import OAuthFlow, callback_url
from test_sign_in import provider_user


async def _consented(
    flow: OAuthFlow, provider: str = "github"
) -> tuple[dict[str, str], str | None]:
    """A sign-in up to the provider's answer: (callback query, state cookie)."""
    flow.providers.sign_in(provider, provider_user())  # type: ignore[arg-type]
    started = await flow.start(provider)
    return await flow.consent(started), started.state_cookie


async def test_a_used_state_is_refused(flow: OAuthFlow) -> None:
    params, cookie = await _consented(flow)
    assert (await flow.callback("github", params, state_cookie=cookie)).status_code == 302

    replay = await flow.callback("github", params, state_cookie=cookie)

    body = assert_error(replay, 400, "invalid_oauth_state")
    assert body["details"]["reason"] == "used"


async def test_an_unknown_state_is_refused(flow: OAuthFlow) -> None:
    params, _ = await _consented(flow)
    forged = {**params, "state": "forged-state-value"}

    response = await flow.callback("github", forged, state_cookie="forged-state-value")

    assert assert_error(response, 400, "invalid_oauth_state")["details"]["reason"] == "unknown"


async def test_an_expired_state_is_refused(flow: OAuthFlow, database: asyncpg.Connection) -> None:
    params, cookie = await _consented(flow)
    await database.execute(
        "update identity.oauth_states set expires_at = now() - interval '1 second'"
    )

    response = await flow.callback("github", params, state_cookie=cookie)

    assert assert_error(response, 400, "invalid_oauth_state")["details"]["reason"] == "expired"


async def test_a_state_of_another_provider_is_unknown_here(flow: OAuthFlow) -> None:
    params, cookie = await _consented(flow, "github")

    response = await flow.callback("google", params, state_cookie=cookie)

    assert assert_error(response, 400, "invalid_oauth_state")["details"]["reason"] == "unknown"


@pytest.mark.parametrize("cookie", [None, "someone-elses-state"])
async def test_a_callback_in_another_browser_is_refused(
    flow: OAuthFlow, database: asyncpg.Connection, cookie: str | None
) -> None:
    params, _ = await _consented(flow)

    response = await flow.callback("github", params, state_cookie=cookie)

    body = assert_error(response, 400, "invalid_oauth_state")
    assert body["details"]["reason"] == "other_browser"
    assert await database.fetchval("select count(*) from identity.users") == 0


async def test_a_callback_without_state_is_refused(flow: OAuthFlow) -> None:
    response = await flow.callback("github", {"code": "abc"}, state_cookie="x")

    assert assert_error(response, 400, "invalid_oauth_state")["details"]["reason"] == "missing"


@pytest.mark.parametrize("provider", ["github", "google"])
async def test_a_code_bound_to_another_pkce_challenge_is_rejected(
    flow: OAuthFlow, providers: FakeProviders, database: asyncpg.Connection, provider: str
) -> None:
    providers.sign_in(provider, provider_user())  # type: ignore[arg-type]
    started = await flow.start(provider)
    stolen = providers.mint_code(
        provider,  # type: ignore[arg-type]
        code_challenge=s256("the-attackers-own-verifier-" + "x" * 30),
        redirect_uri=callback_url(provider),
    )

    response = await flow.callback(
        provider,
        {"code": stolen, "state": started.query["state"]},
        state_cookie=started.state_cookie,
    )

    assert_error(response, 400, "oauth_code_rejected")
    verifier = await database.fetchval("select code_verifier from identity.oauth_states")
    assert providers.token_requests[-1]["code_verifier"] == verifier  # PKCE was really sent
    assert await database.fetchval("select count(*) from identity.users") == 0


async def test_the_state_stays_used_when_the_exchange_fails(
    flow: OAuthFlow, providers: FakeProviders, database: asyncpg.Connection
) -> None:
    params, cookie = await _consented(flow)
    providers.token_endpoint_down = True
    assert_error(
        await flow.callback("github", params, state_cookie=cookie),
        502,
        "oauth_provider_unavailable",
    )
    providers.token_endpoint_down = False

    response = await flow.callback("github", params, state_cookie=cookie)

    assert assert_error(response, 400, "invalid_oauth_state")["details"]["reason"] == "used"


@pytest.mark.parametrize("provider", ["github", "google"])
async def test_access_denied_at_the_provider_is_a_clear_400(
    flow: OAuthFlow, providers: FakeProviders, database: asyncpg.Connection, provider: str
) -> None:
    providers.deny = True

    params, cookie = await _consented(flow, provider)
    response = await flow.callback(provider, params, state_cookie=cookie)

    body = assert_error(response, 400, "oauth_access_denied")
    assert body["details"]["provider_error"] == "access_denied"
    assert providers.token_requests == []
    used = await database.fetchval("select used_at from identity.oauth_states")
    assert used is not None


async def test_a_wrong_client_secret_is_a_502(
    start_identity: StartIdentity, providers: FakeProviders
) -> None:
    settings = {**providers.settings(), "oauth_github_client_secret": "not-the-secret"}
    async with start_identity(**settings) as identity:
        flow = OAuthFlow(identity, providers)
        params, cookie = await _consented(flow)

        response = await flow.callback("github", params, state_cookie=cookie)

    body = assert_error(response, 502, "oauth_provider_error")
    assert body["details"]["reason"] == "incorrect_client_credentials"
    assert "not-the-secret" not in response.text


async def test_an_unreachable_provider_is_a_502(
    start_identity: StartIdentity, providers: FakeProviders
) -> None:
    settings = {**providers.settings(), "oauth_google_token_url": "http://127.0.0.1:9/token"}
    async with start_identity(**settings) as identity:
        flow = OAuthFlow(identity, providers)
        params, cookie = await _consented(flow, "google")

        response = await flow.callback("google", params, state_cookie=cookie)

    assert_error(response, 502, "oauth_provider_unavailable")
    assert "skiff_session" not in set_cookies(response)
