"""Email verification: a token mailed (by notification) on sign-up or on request, used once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from skiff_contracts.events.identity import EmailVerificationRequested
from skiff_kit.errors import BadRequest, Conflict, Unauthorized
from skiff_kit.internal_token import Principal
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_identity.audit import service as audit
from skiff_identity.models import User
from skiff_identity.outbox import OUTBOX
from skiff_identity.security import account_tokens


async def request_verification(session: AsyncSession, user: User, *, ttl: timedelta) -> None:
    """Issue a verification token and hand the email to notification (by event)."""
    now = datetime.now(UTC)
    raw, expires_at = await account_tokens.issue(
        session, user, purpose=account_tokens.VERIFY_EMAIL, ttl=ttl, now=now
    )
    await OUTBOX.record(
        session,
        EmailVerificationRequested(
            user_id=user.id, email=user.email, name=user.name, token=raw, expires_at=expires_at
        ),
        subject=user.id,
        organization_id=user.default_organization_id,
    )


async def unverified_user(session: AsyncSession, user_id: str) -> User:
    """The signed-in user who still has to verify; 409 once their email is verified."""
    user = await session.get(User, user_id)
    if user is None:
        raise Unauthorized("The user no longer exists.", code="user_not_found")
    if user.email_verified_at is not None:
        raise Conflict("Your email is already verified.", code="email_already_verified")
    return user


async def check_token(session: AsyncSession, raw: str) -> None:
    """400 unless `raw` is a usable verification token (without using it)."""
    await account_tokens.find(
        session, raw, purpose=account_tokens.VERIFY_EMAIL, now=datetime.now(UTC)
    )


async def verify(session: AsyncSession, raw: str, *, caller: Principal) -> User:
    """Use a verification token: the user's email is verified from now on."""
    now = datetime.now(UTC)
    token = await account_tokens.consume(session, raw, purpose=account_tokens.VERIFY_EMAIL, now=now)
    user = await session.get(User, token.user_id, with_for_update=True)
    if user is None or user.email != token.email:  # the address changed since the mail left
        raise BadRequest("This link is not valid.", code="invalid_token")
    if user.email_verified_at is None:
        user.email_verified_at = now
    await audit.record(
        session,
        action="auth.email_verified",
        principal=caller,
        organization_id=user.default_organization_id,
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
        details={"email": user.email},
    )
    return user
