"""Brute-force back-off per account and per address: counted before the check, race-free."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from identity_helpers import PASSWORD, StartIdentity, assert_error, new_email

sys.path.insert(0, str(Path(__file__).parent))

from security_support import login, post


async def test_twenty_parallel_wrong_passwords_get_only_the_allowed_tries(
    start_identity: StartIdentity, database: asyncpg.Connection
) -> None:
    async with start_identity(throttle_account_max_failures=5) as identity:
        email = new_email()
        await identity.registered(email)

        answers = await asyncio.gather(
            *(login(identity, email, f"wrong-password-{n}") for n in range(20))
        )
        right_one = await login(identity, email, PASSWORD)

    codes = Counter(answer.json()["code"] for answer in answers)
    assert codes == {"invalid_credentials": 5, "too_many_attempts": 15}
    body = assert_error(right_one, 429, "too_many_attempts")  # even the right password waits
    assert body["details"]["scope"] == "login_account"
    assert 0 < int(right_one.headers["retry-after"]) <= 30
    failed = await database.fetchval(
        "select count(*) from identity.audit_log where action = 'auth.login_failed'"
    )
    assert failed == 5
    row = await database.fetchrow(
        "select * from identity.login_throttle where kind = 'login_account'"
    )
    assert row is not None
    assert row["failures"] == 5
    assert row["blocked_until"] > datetime.now(UTC)


async def test_a_success_clears_the_account_count(start_identity: StartIdentity) -> None:
    async with start_identity(throttle_account_max_failures=3) as identity:
        email = new_email()
        await identity.registered(email)
        first = [await login(identity, email, "wrong-password-1") for _ in range(2)]
        signed_in = await login(identity, email, PASSWORD)
        again = [await login(identity, email, "wrong-password-1") for _ in range(2)]

    assert [answer.status_code for answer in first] == [401, 401]
    assert signed_in.status_code == 200
    assert [answer.status_code for answer in again] == [401, 401]  # not blocked yet


async def test_one_address_trying_many_accounts_is_blocked_alone(
    start_identity: StartIdentity,
) -> None:
    async with start_identity(throttle_ip_max_failures=3) as identity:
        tries = [await login(identity, new_email(), "wrong-password-1") for _ in range(4)]
        elsewhere = await login(identity, new_email(), "wrong-password-1", ip="198.51.100.2")

    assert [answer.status_code for answer in tries[:3]] == [401, 401, 401]
    assert assert_error(tries[3], 429, "too_many_attempts")["details"]["scope"] == "login_ip"
    assert_error(elsewhere, 401, "invalid_credentials")


async def test_each_block_after_the_first_doubles(
    start_identity: StartIdentity, database: asyncpg.Connection
) -> None:
    async with start_identity(throttle_account_max_failures=2, throttle_block_seconds=10) as idp:
        email = new_email()
        await idp.registered(email)
        await login(idp, email, "wrong-password-1")
        await login(idp, email, "wrong-password-1")
        first = await _blocked_for(database)
        await database.execute(  # as if the first block had run out
            "update identity.login_throttle set blocked_until = now() - interval '1 second'"
            " where kind = 'login_account'"
        )
        third = await login(idp, email, "wrong-password-1")
        second = await _blocked_for(database)

    assert_error(third, 401, "invalid_credentials")
    assert 8 < first <= 10
    assert 18 < second <= 20


async def _blocked_for(database: asyncpg.Connection) -> float:
    until = await database.fetchval(
        "select blocked_until from identity.login_throttle where kind = 'login_account'"
    )
    return float((until - datetime.now(UTC)).total_seconds())


async def test_guessing_verification_tokens_is_throttled_per_address(
    start_identity: StartIdentity,
) -> None:
    async with start_identity(throttle_token_max_failures=3) as identity:
        guesses = [
            await post(identity, "/api/v1/auth/verify-email", {"token": f"ev_{n}"})
            for n in range(4)
        ]
        resets = await post(
            identity, "/api/v1/auth/reset-password", {"token": "pr_x", "password": "a-b-c-d-e-1"}
        )

    assert [answer.json()["code"] for answer in guesses[:3]] == ["invalid_token"] * 3
    assert_error(guesses[3], 429, "too_many_attempts")
    assert_error(resets, 429, "too_many_attempts")  # the same address, the same count


async def test_forgot_password_mails_an_address_a_few_times_only(
    start_identity: StartIdentity,
) -> None:
    async with start_identity(throttle_mail_max_requests=2) as identity:
        email = new_email()
        asks = [
            await post(identity, "/api/v1/auth/forgot-password", {"email": email}) for _ in range(3)
        ]

    assert [answer.status_code for answer in asks] == [200, 200, 429]
