"""Locking: a locked user cannot log in or refresh; locking ends sessions, with an event."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import asyncpg
from identity_helpers import PASSWORD, Identity, StartIdentity, assert_error, new_email
from skiff_identity.security.locks import lock_user
from skiff_identity.settings import IdentitySettings
from sqlalchemy.ext.asyncio import AsyncSession

sys.path.insert(0, str(Path(__file__).parent))

from security_support import events, in_session, login, post, reset_token
from skiff_contracts.events.identity import UserSessionsRevoked


async def test_a_locked_user_cannot_log_in_or_refresh(
    identity: Identity,
    identity_settings: IdentitySettings,
    nats_url: str,
    database: asyncpg.Connection,
) -> None:
    email = new_email()
    registered = await identity.registered(email)
    user = registered["user"]
    session = await identity.session(email)

    async def lock(db: AsyncSession) -> Any:
        return await lock_user(db, user["id"], "operator: suspicious activity")

    assert await in_session(identity_settings, lock) is True
    assert await in_session(identity_settings, lock) is False  # already locked

    assert_error(await login(identity, email, PASSWORD), 401, "account_locked")
    assert_error(await identity.refresh(session["refresh_token"]), 401, "account_locked")
    assert_error(await login(identity, email, "wrong-password-1"), 401, "invalid_credentials")
    live = await database.fetchval(
        "select count(*) from identity.refresh_tokens where revoked_at is null"
    )
    assert live == 0
    [ended] = await events(nats_url, UserSessionsRevoked.event_type, 1)
    revoked = ended.payload(UserSessionsRevoked)
    assert (revoked.user_id, revoked.reason) == (user["id"], "locked")
    entry = await database.fetchrow("select * from identity.audit_log where action = 'user.locked'")
    assert entry is not None
    organization_id = registered["organization"]["id"]
    assert (entry["target_id"], entry["organization_id"]) == (user["id"], organization_id)


async def test_an_account_attacked_hard_is_locked_until_its_owner_resets(
    start_identity: StartIdentity, nats_url: str, database: asyncpg.Connection
) -> None:
    async with start_identity(throttle_account_max_failures=10, lock_after_failures=3) as idp:
        email = new_email()
        await idp.registered(email)
        for _ in range(3):
            assert_error(await login(idp, email, "wrong-password-1"), 401, "invalid_credentials")
        locked = await login(idp, email, PASSWORD)
        reason = await database.fetchval(
            "select lock_reason from identity.users where email = $1", email
        )
        await post(idp, "/api/v1/auth/forgot-password", {"email": email})
        token = await reset_token(nats_url)
        reset = await post(
            idp, "/api/v1/auth/reset-password", {"token": token, "password": "fresh-start-99"}
        )
        after = await login(idp, email, "fresh-start-99")

    assert_error(locked, 401, "account_locked")
    assert reason == "too_many_failed_logins"
    assert reset.status_code == 200, reset.text
    assert after.status_code == 200, after.text
