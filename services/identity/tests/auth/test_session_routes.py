"""Sessions through the auth routes: log in, refresh (rotation, reuse), log out, and `/me`."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import jwt
import pytest
from identity_helpers import PASSWORD, Identity, StartIdentity, assert_error, new_email
from skiff_kit.internal_token import InternalTokenSigner, Principal, generate_keypair


@pytest.fixture
async def ada(identity: Identity) -> dict[str, Any]:
    """A registered user: `{user, organization}`."""
    return await identity.registered(new_email("ada"), name="Ada")


async def test_login_opens_a_session_and_sets_the_cookie(
    identity: Identity, ada: dict[str, Any]
) -> None:
    response = await identity.login(ada["user"]["email"].upper())

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user"] == ada["user"]
    session = body["session"]
    assert (session["token_type"], session["expires_in"]) == ("Bearer", 900)
    assert session["refresh_token"].startswith("rt_")
    cookie = response.cookies.jar
    assert [c.name for c in cookie] == ["skiff_session"]
    assert next(iter(cookie)).value == session["access_token"]
    set_cookie = response.headers["set-cookie"].lower()
    for attribute in ("httponly", "path=/", "samesite=lax", "max-age=900"):
        assert attribute in set_cookie


async def test_the_access_token_is_an_eddsa_jwt_with_a_key_id(
    identity: Identity, ada: dict[str, Any], access_keypair: tuple[str, str]
) -> None:
    token = (await identity.session(ada["user"]["email"]))["access_token"]

    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "kid": "a1", "typ": "JWT"}
    claims = jwt.decode(
        token, access_keypair[1], algorithms=["EdDSA"], audience="skiff", issuer="skiff-identity"
    )
    assert claims["sub"] == ada["user"]["id"]
    assert claims["org"] == ada["organization"]["id"]
    assert claims["role"] == "owner"
    assert claims["exp"] - claims["iat"] == 900
    assert abs(claims["iat"] - time.time()) < 5
    other_public = generate_keypair()[1]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, other_public, algorithms=["EdDSA"], audience="skiff")


async def test_only_a_hash_of_the_refresh_token_is_stored(
    identity: Identity, ada: dict[str, Any], database: asyncpg.Connection
) -> None:
    refresh_token = (await identity.session(ada["user"]["email"]))["refresh_token"]

    stored = await database.fetchrow("select * from identity.refresh_tokens")

    assert stored is not None
    assert stored["token_hash"] == hashlib.sha256(refresh_token.encode()).hexdigest()
    assert refresh_token not in {str(value) for value in stored.values()}
    assert stored["expires_at"] > datetime.now(UTC) + timedelta(days=29)


async def test_a_wrong_password_and_an_unknown_email_look_the_same(
    identity: Identity, ada: dict[str, Any]
) -> None:
    wrong_password = await identity.login(ada["user"]["email"], "not-the-password-1")
    unknown_email = await identity.login(new_email("nobody"))
    not_an_email = await identity.login("nobody")

    bodies = [
        assert_error(response, 401, "invalid_credentials")
        for response in (wrong_password, unknown_email, not_an_email)
    ]
    assert {body["error"] for body in bodies} == {"Wrong email or password."}
    assert all(body["details"] == {} for body in bodies)
    assert "set-cookie" not in wrong_password.headers


async def test_refresh_rotates_the_pair(
    identity: Identity, ada: dict[str, Any], database: asyncpg.Connection
) -> None:
    first = await identity.session(ada["user"]["email"])

    rotated = await identity.refresh(first["refresh_token"])

    assert rotated.status_code == 200, rotated.text
    second = rotated.json()["session"]
    assert second["refresh_token"] != first["refresh_token"]
    assert identity.claims(second["access_token"])["sub"] == ada["user"]["id"]
    assert rotated.cookies["skiff_session"] == second["access_token"]
    assert (await identity.refresh(second["refresh_token"])).status_code == 200
    live = await database.fetchval(
        "select count(*) from identity.refresh_tokens where revoked_at is null"
    )
    assert live == 1


async def test_a_reused_refresh_token_ends_its_whole_family(
    identity: Identity, ada: dict[str, Any]
) -> None:
    stolen = await identity.session(ada["user"]["email"])
    other_device = await identity.session(ada["user"]["email"])
    newer = (await identity.refresh(stolen["refresh_token"])).json()["session"]

    reused = await identity.refresh(stolen["refresh_token"])

    body = assert_error(reused, 401, "refresh_token_reused")
    assert "family" in body["error"]
    # The sibling issued by the legitimate rotation is dead too: the thief cannot keep it.
    assert_error(await identity.refresh(newer["refresh_token"]), 401, "refresh_token_reused")
    # Another sign-in (another family) is not affected.
    assert (await identity.refresh(other_device["refresh_token"])).status_code == 200


async def test_an_unknown_refresh_token_is_refused(identity: Identity) -> None:
    response = await identity.refresh("rt_never-issued")

    assert_error(response, 401, "invalid_refresh_token")


async def test_an_expired_refresh_token_is_refused(start_identity: StartIdentity) -> None:
    async with start_identity(refresh_token_ttl_days=0) as identity:
        email = (await identity.registered())["user"]["email"]
        session = await identity.session(email)

        response = await identity.refresh(session["refresh_token"])

    assert_error(response, 401, "refresh_token_expired")


async def test_logout_ends_this_device_only(identity: Identity, ada: dict[str, Any]) -> None:
    laptop = await identity.session(ada["user"]["email"])
    phone = await identity.session(ada["user"]["email"])

    response = await identity.logout(laptop["access_token"], refresh_token=laptop["refresh_token"])

    assert response.status_code == 200, response.text
    assert response.json() == {"logged_out": True}
    cleared = response.headers["set-cookie"].lower()
    assert cleared.startswith("skiff_session=")
    assert "max-age=0" in cleared
    assert (await identity.refresh(laptop["refresh_token"])).status_code == 401
    assert (await identity.refresh(phone["refresh_token"])).status_code == 200


async def test_logout_of_all_devices_ends_every_session(
    identity: Identity, ada: dict[str, Any]
) -> None:
    laptop = await identity.session(ada["user"]["email"])
    phone = await identity.session(ada["user"]["email"])

    response = await identity.logout(laptop["access_token"], all_devices=True)

    assert response.status_code == 200, response.text
    for session in (laptop, phone):
        assert (await identity.refresh(session["refresh_token"])).status_code == 401


async def test_logout_cannot_end_another_users_session(
    identity: Identity, ada: dict[str, Any]
) -> None:
    victim = await identity.session(ada["user"]["email"])
    mallory = await identity.registered(new_email("mallory"))
    attacker = await identity.session(mallory["user"]["email"])

    await identity.logout(attacker["access_token"], refresh_token=victim["refresh_token"])

    assert (await identity.refresh(victim["refresh_token"])).status_code == 200


async def test_logout_needs_a_signed_in_user(identity: Identity) -> None:
    response = await identity.http.post(
        "/api/v1/auth/logout", json={"all_devices": True}, headers=identity.signer.headers()
    )

    assert_error(response, 401, "authentication_required")


async def test_me_tells_who_is_signed_in(identity: Identity, ada: dict[str, Any]) -> None:
    token = (await identity.session(ada["user"]["email"]))["access_token"]

    response = await identity.me(token)

    assert response.status_code == 200, response.text
    assert response.json() == {
        "user": ada["user"],
        "organization": ada["organization"],
        "role": "owner",
        "scopes": ["*"],
        "via": "session",
    }


async def test_me_refuses_an_organization_the_user_is_not_in(
    identity: Identity, ada: dict[str, Any]
) -> None:
    other = await identity.registered(new_email("grace"))
    intruder = Principal(
        organization_id=other["organization"]["id"], user_id=ada["user"]["id"], via="session"
    )

    response = await identity.http.get("/api/v1/auth/me", headers=identity.signer.headers(intruder))

    assert_error(response, 401, "not_a_member")


async def test_me_needs_a_signed_in_caller(identity: Identity) -> None:
    response = await identity.http.get("/api/v1/auth/me", headers=identity.signer.headers())

    assert_error(response, 401, "authentication_required")


async def test_me_needs_the_gateways_token(identity: Identity, ada: dict[str, Any]) -> None:
    principal = Principal(
        organization_id=ada["organization"]["id"], user_id=ada["user"]["id"], via="session"
    )
    forged = InternalTokenSigner(generate_keypair()[0], "test").sign(principal)

    missing = await identity.http.get("/api/v1/auth/me")
    wrong_key = await identity.http.get(
        "/api/v1/auth/me", headers={"x-skiff-internal-token": forged}
    )
    garbage = await identity.http.get(
        "/api/v1/auth/me", headers={"x-skiff-internal-token": "not-a-token"}
    )

    assert_error(missing, 401, "missing_internal_token")
    assert_error(wrong_key, 401, "invalid_internal_token")
    assert_error(garbage, 401, "invalid_internal_token")


async def test_a_user_signs_in_with_the_password_they_chose(identity: Identity) -> None:
    email = new_email("chooser")
    await identity.registered(email, password="another-passw0rd!")

    assert (await identity.login(email, PASSWORD)).status_code == 401
    assert (await identity.login(email, "another-passw0rd!")).status_code == 200
