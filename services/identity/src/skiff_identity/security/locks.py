"""Locking a user, and ending every session of a user (reset, lock) with an event."""

from __future__ import annotations

from datetime import UTC, datetime

from skiff_contracts.events.identity import UserSessionsRevoked
from skiff_kit.errors import NotFound, Unauthorized
from skiff_kit.internal_token import Principal
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_identity.audit import service as audit
from skiff_identity.auth import repository as auth_repository
from skiff_identity.models import User
from skiff_identity.outbox import OUTBOX

AUTOMATIC_LOCK = "too_many_failed_logins"


def ensure_not_locked(user: User) -> None:
    """401 `account_locked` for a locked user (checked after the password, never before)."""
    if user.locked_at is not None:
        raise Unauthorized(
            "This account is locked. Reset your password or contact an administrator.",
            code="account_locked",
        )


async def end_sessions(session: AsyncSession, user_id: str, *, reason: str, now: datetime) -> None:
    """Revoke every refresh token of the user and tell the gateway to refuse older tokens."""
    await auth_repository.revoke_all_of_user(session, user_id, now=now)
    await OUTBOX.record(
        session,
        UserSessionsRevoked(user_id=user_id, revoked_before=now, reason=reason),
        subject=user_id,
    )


async def lock_user(
    session: AsyncSession, user_id: str, reason: str, *, principal: Principal | None = None
) -> bool:
    """Lock the user and end their sessions; False when they were already locked."""
    user = await session.get(User, user_id, with_for_update=True)
    if user is None:
        raise NotFound("No such user.", code="user_not_found")
    if user.locked_at is not None:
        return False
    now = datetime.now(UTC)
    user.locked_at, user.lock_reason = now, reason
    await end_sessions(session, user.id, reason="locked", now=now)
    await audit.record(
        session,
        action="user.locked",
        principal=principal,
        organization_id=user.default_organization_id,
        target_type="user",
        target_id=user.id,
        details={"reason": reason},
    )
    return True


async def unlock_user(
    session: AsyncSession, user: User, *, principal: Principal | None = None
) -> None:
    """Lift a lock (an operator's decision, or a password reset lifting an automatic lock)."""
    if user.locked_at is None:
        return
    reason = user.lock_reason
    user.locked_at, user.lock_reason = None, None
    await audit.record(
        session,
        action="user.unlocked",
        principal=principal,
        organization_id=user.default_organization_id,
        target_type="user",
        target_id=user.id,
        details={"previous_reason": reason},
    )
