"""Forgot and reset password: no enumeration, a single-use token, and every session ended."""

from __future__ import annotations

import sys
from pathlib import Path

import asyncpg
from identity_helpers import PASSWORD, Identity, assert_error, new_email

sys.path.insert(0, str(Path(__file__).parent))

from security_support import events, login, payloads, post, reset_token
from skiff_contracts.events.identity import PasswordResetRequested, UserSessionsRevoked

FORGOT = "/api/v1/auth/forgot-password"
RESET = "/api/v1/auth/reset-password"
NEW_PASSWORD = "a-brand-new-secret-7"


async def test_forgot_answers_the_same_whether_or_not_the_account_exists(
    identity: Identity, nats_url: str
) -> None:
    email = new_email()
    user = (await identity.registered(email))["user"]

    known = await post(identity, FORGOT, {"email": email.upper()})
    unknown = await post(identity, FORGOT, {"email": new_email("nobody")})

    assert (known.status_code, unknown.status_code) == (200, 200)
    assert known.json() == unknown.json()
    [asked] = await payloads(nats_url, PasswordResetRequested, 1)
    assert (asked.user_id, asked.email) == (user["id"], email)
    assert asked.token.startswith("pr_")


async def test_reset_sets_the_password_and_ends_every_session(
    identity: Identity, nats_url: str, database: asyncpg.Connection
) -> None:
    email = new_email()
    user = (await identity.registered(email))["user"]
    sessions = [await identity.session(email) for _ in range(2)]
    await post(identity, FORGOT, {"email": email})
    token = await reset_token(nats_url)

    response = await post(identity, RESET, {"token": token, "password": NEW_PASSWORD})

    assert response.status_code == 200, response.text
    assert_error(await login(identity, email, PASSWORD), 401, "invalid_credentials")
    assert (await login(identity, email, NEW_PASSWORD)).status_code == 200
    for session in sessions:
        assert (await identity.refresh(session["refresh_token"])).status_code == 401
    [ended] = await events(nats_url, UserSessionsRevoked.event_type, 1)
    revoked = ended.payload(UserSessionsRevoked)
    assert (revoked.user_id, revoked.reason) == (user["id"], "password_reset")
    assert_error(
        await post(identity, RESET, {"token": token, "password": "yet-another-one-8"}),
        400,
        "token_used",
    )
    actions = await database.fetch(
        "select action, ip from identity.audit_log where target_id = $1 order by id", user["id"]
    )
    assert ("auth.password_reset", "203.0.113.7") in [tuple(row) for row in actions]


async def test_a_weak_password_is_refused_and_the_link_still_works(
    identity: Identity, nats_url: str
) -> None:
    email = new_email()
    await identity.registered(email)
    await post(identity, FORGOT, {"email": email})
    token = await reset_token(nats_url)

    weak = await post(identity, RESET, {"token": token, "password": "short"})

    body = assert_error(weak, 400, "validation_error")
    assert {field["field"] for field in body["details"]["fields"]} == {"password"}
    assert_error(await login(identity, email, "short"), 401, "invalid_credentials")
    good = await post(identity, RESET, {"token": token, "password": NEW_PASSWORD})
    assert good.status_code == 200, good.text


async def test_unknown_and_expired_reset_tokens_are_refused(
    identity: Identity, nats_url: str, database: asyncpg.Connection
) -> None:
    email = new_email()
    await identity.registered(email)
    await post(identity, FORGOT, {"email": email})
    token = await reset_token(nats_url)
    await database.execute(
        "update identity.account_tokens set expires_at = now() - interval '1 second'"
        " where purpose = 'reset_password'"
    )

    expired = await post(identity, RESET, {"token": token, "password": NEW_PASSWORD})
    unknown = await post(identity, RESET, {"token": "pr_guess", "password": NEW_PASSWORD})
    verification = await post(  # a token of another purpose does not reset a password
        identity, RESET, {"token": "ev_" + token[3:], "password": NEW_PASSWORD}
    )

    assert_error(expired, 400, "token_expired")
    assert_error(unknown, 400, "invalid_token")
    assert_error(verification, 400, "invalid_token")
    assert (await login(identity, email, PASSWORD)).status_code == 200
