"""What surrounds a password check: the throttle before it, the audit and lock after it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import msgspec
from skiff_kit.errors import SkiffError
from skiff_kit.internal_token import Principal
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_identity.audit import service as audit
from skiff_identity.auth import repository as auth_repository
from skiff_identity.auth.validation import normalize_email
from skiff_identity.models import User
from skiff_identity.security import locks, throttle
from skiff_identity.security.policy import SecurityPolicy


@dataclass(frozen=True)
class LoginAttempt:
    """A login attempt already counted against its account and the caller's address."""

    email: str
    claims: list[throttle.Claim]


async def begin(
    session: AsyncSession, policy: SecurityPolicy, *, email: str, caller: Principal
) -> LoginAttempt:
    """Count the attempt (429 `too_many_attempts` while the account or address is blocked)."""
    normalized = normalize_email(email)
    checks = [(policy.login_account, normalized)]
    if caller.client_ip:
        checks.append((policy.login_ip, caller.client_ip))
    claims = await throttle.claim(session, checks, now=datetime.now(UTC))
    return LoginAttempt(email=normalized, claims=claims)


async def failed(
    session: AsyncSession,
    policy: SecurityPolicy,
    attempt: LoginAttempt,
    error: SkiffError,
    *,
    caller: Principal,
) -> None:
    """Record `auth.login_failed`; lock an account attacked past `lock_after_failures`."""
    user = await auth_repository.user_by_email(session, attempt.email)
    await audit.record(
        session,
        action="auth.login_failed",
        principal=caller,
        organization_id=user.default_organization_id if user else None,
        actor_id=user.id if user else None,
        target_type="user" if user else None,
        target_id=user.id if user else None,
        details={"reason": error.code, "email": attempt.email},
    )
    account_failures = next(
        (c.failures for c in attempt.claims if c.rule.kind == policy.login_account.kind), 0
    )
    limit = policy.lock_after_failures
    if user is not None and limit > 0 and account_failures >= limit:
        await locks.lock_user(session, user.id, locks.AUTOMATIC_LOCK, principal=caller)


async def succeeded(
    session: AsyncSession, attempt: LoginAttempt, user: User, *, caller: Principal
) -> None:
    """Forget the account's failures, give the address its attempt back, record `auth.login`."""
    for claim in attempt.claims:
        if claim.rule.kind == "login_account":
            await throttle.forgive(session, claim.rule, claim.key)
        else:
            await throttle.refund(session, claim)
    actor = msgspec.structs.replace(
        caller,
        organization_id=user.default_organization_id,
        user_id=user.id,
        via="session",
    )
    await audit.record(
        session,
        action="auth.login",
        principal=actor,
        target_type="user",
        target_id=user.id,
        details={"method": "password"},
    )
