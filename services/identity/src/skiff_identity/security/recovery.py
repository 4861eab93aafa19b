"""Forgot and reset password: a mailed single-use token sets a new password and ends sessions."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from skiff_contracts.events.identity import PasswordResetRequested
from skiff_kit.errors import BadRequest, ValidationFailed
from skiff_kit.internal_token import Principal
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_identity.audit import service as audit
from skiff_identity.auth import repository as auth_repository
from skiff_identity.auth.passwords import Passwords, password_problems
from skiff_identity.models import User
from skiff_identity.outbox import OUTBOX
from skiff_identity.security import account_tokens, locks


async def forgot(session: AsyncSession, email: str, *, ttl: timedelta, caller: Principal) -> None:
    """Mail a reset link when the account exists; do nothing visible otherwise."""
    user = await auth_repository.user_by_email(session, email)
    if user is None:
        return
    now = datetime.now(UTC)
    raw, expires_at = await account_tokens.issue(
        session, user, purpose=account_tokens.RESET_PASSWORD, ttl=ttl, now=now
    )
    await OUTBOX.record(
        session,
        PasswordResetRequested(
            user_id=user.id, email=user.email, name=user.name, token=raw, expires_at=expires_at
        ),
        subject=user.id,
        organization_id=user.default_organization_id,
    )
    await audit.record(
        session,
        action="auth.password_reset_requested",
        principal=caller,
        organization_id=user.default_organization_id,
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
    )


async def check_token(session: AsyncSession, raw: str) -> None:
    """400 unless `raw` is a usable reset token (without using it)."""
    await account_tokens.find(
        session, raw, purpose=account_tokens.RESET_PASSWORD, now=datetime.now(UTC)
    )


async def reset(
    session: AsyncSession,
    raw: str,
    password: str,
    *,
    passwords: Passwords,
    caller: Principal,
) -> User:
    """Use the token, set the new password, end every session, lift an automatic lock."""
    now = datetime.now(UTC)
    token = await account_tokens.consume(
        session, raw, purpose=account_tokens.RESET_PASSWORD, now=now
    )
    user = await session.get(User, token.user_id, with_for_update=True)
    if user is None or user.email != token.email:
        raise BadRequest("This link is not valid.", code="invalid_token")
    problems = password_problems(password, email=user.email)
    if problems:
        raise ValidationFailed(
            "Validation failed: " + ", ".join(f"password {problem}" for problem in problems),
            details={"fields": [{"field": "password", "message": text} for text in problems]},
        )
    user.password_hash = await asyncio.to_thread(passwords.hash, password)
    if user.email_verified_at is None:  # the reset link reached this mailbox
        user.email_verified_at = now
    await locks.end_sessions(session, user.id, reason="password_reset", now=now)
    if user.lock_reason == locks.AUTOMATIC_LOCK:
        await locks.unlock_user(session, user, principal=caller)
    await audit.record(
        session,
        action="auth.password_reset",
        principal=caller,
        organization_id=user.default_organization_id,
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
    )
    return user
