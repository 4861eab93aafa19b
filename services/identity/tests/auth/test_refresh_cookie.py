"""A browser's session: refresh from the `skiff_refresh` cookie, rotation into it, logout clears.

The OAuth callback leaves the refresh token in an HttpOnly cookie that page scripts cannot
read, so refresh and logout must take it from there (a body, when sent, still wins).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from identity_helpers import Identity, assert_error, events, new_email, set_cookies
from skiff_contracts.events.identity import UserSessionsRevoked

REFRESH = "/api/v1/auth/refresh"


@pytest.fixture
async def ada(identity: Identity) -> dict[str, Any]:
    """A registered user: `{user, organization}`."""
    return await identity.registered(new_email("ada"), name="Ada")


async def refresh_with_cookie(
    identity: Identity, cookie_token: str, body: dict[str, Any] | None = None
) -> Any:
    """POST /auth/refresh as a browser sends it: the cookie, and maybe a body."""
    headers = {**identity.signer.headers(), "cookie": f"skiff_refresh={cookie_token}"}
    if body is None:
        return await identity.http.post(REFRESH, headers=headers)
    return await identity.http.post(REFRESH, json=body, headers=headers)


async def test_the_cookie_alone_refreshes_and_receives_the_rotated_token(
    identity: Identity, ada: dict[str, Any]
) -> None:
    first = await identity.session(ada["user"]["email"])

    response = await refresh_with_cookie(identity, first["refresh_token"])

    assert response.status_code == 200, response.text
    rotated = response.json()["session"]
    assert rotated["refresh_token"] != first["refresh_token"]
    cookies = set_cookies(response)
    assert cookies["skiff_session"].value == rotated["access_token"]
    refresh = cookies["skiff_refresh"]
    assert refresh.value == rotated["refresh_token"]
    assert (refresh["path"], refresh["samesite"].lower()) == ("/api/v1/auth", "strict")
    assert refresh["httponly"]
    assert int(refresh["max-age"]) == 30 * 24 * 3600
    # The cookie's old token is spent: presenting it again is a reuse, and the dead cookies go.
    reused = await refresh_with_cookie(identity, first["refresh_token"])
    assert_error(reused, 401, "refresh_token_reused")
    cleared = set_cookies(reused)
    assert {name: cookie.value for name, cookie in cleared.items()} == {
        "skiff_session": "",
        "skiff_refresh": "",
    }
    assert cleared["skiff_refresh"]["path"] == "/api/v1/auth"
    assert {int(cookie["max-age"]) for cookie in cleared.values()} == {0}


async def test_the_body_wins_over_the_cookie(identity: Identity, ada: dict[str, Any]) -> None:
    in_cookie = await identity.session(ada["user"]["email"])
    in_body = await identity.session(ada["user"]["email"])

    response = await refresh_with_cookie(
        identity, in_cookie["refresh_token"], {"refresh_token": in_body["refresh_token"]}
    )

    assert response.status_code == 200, response.text
    # The body's token was the one spent; the cookie's is still unused and works.
    assert_error(await identity.refresh(in_body["refresh_token"]), 401, "refresh_token_reused")
    assert (await identity.refresh(in_cookie["refresh_token"])).status_code == 200


async def test_a_body_alone_sets_no_refresh_cookie(identity: Identity, ada: dict[str, Any]) -> None:
    first = await identity.session(ada["user"]["email"])

    response = await identity.refresh(first["refresh_token"])

    assert response.status_code == 200, response.text
    assert set(set_cookies(response)) == {"skiff_session"}


@pytest.mark.parametrize("body", [None, {}, {"refresh_token": None}])
async def test_refresh_without_any_token_is_a_validation_error(
    identity: Identity, body: dict[str, Any] | None
) -> None:
    if body is None:
        response = await identity.http.post(REFRESH, headers=identity.signer.headers())
    else:
        response = await identity.post_anonymously(REFRESH, body)

    error = assert_error(response, 400, "validation_error")
    assert error["details"] == {"fields": [{"field": "refresh_token", "message": "is required"}]}


async def test_an_unknown_cookie_token_is_refused_and_cleared(identity: Identity) -> None:
    response = await refresh_with_cookie(identity, "rt_never-issued")

    assert_error(response, 401, "invalid_refresh_token")
    assert set(set_cookies(response)) == {"skiff_session", "skiff_refresh"}


async def test_a_refused_body_token_leaves_the_cookies_alone(identity: Identity) -> None:
    response = await identity.refresh("rt_never-issued")

    assert_error(response, 401, "invalid_refresh_token")
    assert set_cookies(response) == {}


async def test_logout_ends_the_cookies_session_and_clears_both_cookies(
    identity: Identity, ada: dict[str, Any]
) -> None:
    browser = await identity.session(ada["user"]["email"])
    other = await identity.session(ada["user"]["email"])
    headers = {
        **identity.as_user(browser["access_token"]),
        "cookie": f"skiff_refresh={browser['refresh_token']}",
    }

    response = await identity.http.post("/api/v1/auth/logout", headers=headers)  # no body

    assert response.status_code == 200, response.text
    cleared = set_cookies(response)
    assert (cleared["skiff_session"].value, cleared["skiff_session"]["path"]) == ("", "/")
    assert (cleared["skiff_refresh"].value, cleared["skiff_refresh"]["path"]) == (
        "",
        "/api/v1/auth",
    )
    assert {int(cookie["max-age"]) for cookie in cleared.values()} == {0}
    assert_error(await identity.refresh(browser["refresh_token"]), 401, "refresh_token_reused")
    assert (await identity.refresh(other["refresh_token"])).status_code == 200


async def test_logout_of_all_devices_tells_the_gateways(
    identity: Identity, ada: dict[str, Any], nats_url: str
) -> None:
    token = (await identity.session(ada["user"]["email"]))["access_token"]
    before = datetime.now(UTC)

    response = await identity.logout(token, all_devices=True)

    assert response.status_code == 200, response.text
    [event] = await events(nats_url, "identity.session.revoked", 1)
    revoked = event.payload(UserSessionsRevoked)
    assert (revoked.user_id, revoked.reason) == (ada["user"]["id"], "logout_all_devices")
    assert before <= revoked.revoked_before <= datetime.now(UTC)
    assert event.subject == ada["user"]["id"]


async def test_logout_of_one_device_does_not_revoke_the_users_tokens(
    identity: Identity, ada: dict[str, Any], nats_url: str
) -> None:
    session = await identity.session(ada["user"]["email"])

    await identity.logout(session["access_token"], refresh_token=session["refresh_token"])

    # An event after it proves the outbox has moved past the logout.
    await identity.logout(session["access_token"], all_devices=True)
    [event] = await events(nats_url, "identity.session.revoked", 1)
    assert event.payload(UserSessionsRevoked).reason == "logout_all_devices"
