"""Email verification: a hashed single-use token on sign-up, used once, resent on request."""

from __future__ import annotations

import hashlib
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).parent))

from identity_helpers import Identity, assert_error, new_email
from security_support import payloads, post, verification_token
from skiff_contracts.events.identity import EmailVerificationRequested

VERIFY = "/api/v1/auth/verify-email"
RESEND = "/api/v1/auth/resend-verification"


async def test_sign_up_asks_for_a_verification_email_and_stores_only_a_hash(
    identity: Identity, nats_url: str, database: asyncpg.Connection
) -> None:
    email = new_email()
    user = (await identity.registered(email, name="Ada"))["user"]

    [event] = await payloads(nats_url, EmailVerificationRequested, 1)

    assert (event.user_id, event.email, event.name) == (user["id"], email, "Ada")
    stored = await database.fetchrow("select * from identity.account_tokens")
    assert stored is not None
    assert stored["token_hash"] == hashlib.sha256(event.token.encode()).hexdigest()
    assert event.token not in {str(value) for value in stored.values()}
    assert stored["purpose"] == "verify_email"
    expected = datetime.now(UTC) + timedelta(hours=24)
    assert abs((stored["expires_at"] - expected).total_seconds()) < 60
    assert stored["expires_at"] == event.expires_at


async def test_the_token_verifies_the_email_once(
    identity: Identity, nats_url: str, database: asyncpg.Connection
) -> None:
    email = new_email()
    await identity.registered(email)
    token = await verification_token(nats_url)

    response = await post(identity, VERIFY, {"token": token})

    assert response.status_code == 200, response.text
    assert response.json()["user"]["email_verified"] is True
    session = await identity.session(email)
    assert (await identity.me(session["access_token"])).json()["user"]["email_verified"] is True
    audit = await database.fetchrow(
        "select * from identity.audit_log where action = 'auth.email_verified'"
    )
    assert audit is not None
    assert audit["ip"] == "203.0.113.7"
    assert_error(await post(identity, VERIFY, {"token": token}), 400, "token_used")


async def test_unknown_and_expired_tokens_are_refused(
    identity: Identity, nats_url: str, database: asyncpg.Connection
) -> None:
    email = new_email()
    await identity.registered(email)
    token = await verification_token(nats_url)
    await database.execute(
        "update identity.account_tokens set expires_at = now() - interval '1 second'"
    )

    assert_error(await post(identity, VERIFY, {"token": token}), 400, "token_expired")
    assert_error(await post(identity, VERIFY, {"token": "ev_made_up"}), 400, "invalid_token")
    verified = await database.fetchval(
        "select email_verified_at from identity.users where email = $1", email
    )
    assert verified is None


async def test_a_signed_in_user_can_ask_again_a_few_times(
    identity: Identity, nats_url: str
) -> None:
    email = new_email()
    await identity.registered(email)
    headers = identity.as_user((await identity.session(email))["access_token"])

    answers = [(await identity.http.post(RESEND, headers=headers)) for _ in range(4)]

    assert [answer.status_code for answer in answers[:3]] == [202, 202, 202]
    body = assert_error(answers[3], 429, "too_many_attempts")
    assert int(answers[3].headers["retry-after"]) == body["details"]["retry_after"] > 0
    tokens = {event.token for event in await payloads(nats_url, EmailVerificationRequested, 4)}
    assert len(tokens) == 4  # sign-up plus three resends, each with its own token
    newest = await verification_token(nats_url, 4)
    assert (await post(identity, VERIFY, {"token": newest})).status_code == 200
    assert_error(await identity.http.post(RESEND, headers=headers), 409, "email_already_verified")


async def test_resending_needs_a_signed_in_user(identity: Identity) -> None:
    response = await post(identity, RESEND, None)

    assert_error(response, 401, "authentication_required")
