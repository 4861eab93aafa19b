"""Routes of email verification and password recovery (throttled per address and account)."""

from __future__ import annotations

from datetime import UTC, datetime

from litestar import Controller, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from skiff_kit.db import DbSession
from skiff_kit.errors import Unauthorized
from skiff_kit.internal_token import CurrentPrincipal, GatewayCaller, Principal
from skiff_kit.openapi_errors import errors
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_identity.auth.routes import user_out
from skiff_identity.auth.service import Credentials
from skiff_identity.auth.validation import normalize_email
from skiff_identity.security import recovery, throttle, verification
from skiff_identity.security.policy import SecurityPolicy, ThrottleRule
from skiff_identity.security.schemas import (
    FORGOT_ANSWER,
    RESENT_ANSWER,
    RESET_ANSWER,
    ForgotPasswordRequest,
    MessageOut,
    ResetPasswordRequest,
    VerifyEmailRequest,
    VerifyEmailResponse,
)


async def _guess_counted(
    session: AsyncSession, rule: ThrottleRule, caller: Principal
) -> list[throttle.Claim]:
    """Count a token attempt against the caller's address, committed although it may fail."""
    checks = [(rule, caller.client_ip)] if caller.client_ip else []
    claims = await throttle.claim(session, checks, now=datetime.now(UTC))
    await session.commit()
    return claims


class AccountSecurityController(Controller):
    """Verify an email, resend the link, forgot and reset password."""

    path = "/api/v1/auth"
    tags = ["auth"]

    @post("/verify-email", status_code=200, responses=errors(401, 409, 429))
    async def verify_email(
        self,
        data: JSONBody[VerifyEmailRequest],
        caller: GatewayCaller,
        db_session: DbSession,
        security_policy: NamedDependency[SecurityPolicy],
    ) -> VerifyEmailResponse:
        """Confirm an email address with the token from the verification email."""
        claims = await _guess_counted(db_session, security_policy.token_ip, caller)
        await verification.check_token(db_session, data.token)
        for claim in claims:  # a real token is not a guess
            await throttle.refund(db_session, claim)
        user = await verification.verify(db_session, data.token, caller=caller)
        return VerifyEmailResponse(user=user_out(user))

    # Not `/verify-email/resend`: a static route nested under another static one makes
    # Litestar 2.25 answer 404 for the OAuth routes' path parameters beside it.
    @post("/resend-verification", status_code=202, responses=errors(409, 429))
    async def resend_verification(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        security_policy: NamedDependency[SecurityPolicy],
    ) -> MessageOut:
        """Send the signed-in user a new verification email (a few per quarter hour)."""
        if principal.user_id is None:
            raise Unauthorized("Only a signed-in user has an email.", code="user_required")
        user = await verification.unverified_user(db_session, principal.user_id)
        await throttle.claim(
            db_session, [(security_policy.mail_account, user.id)], now=datetime.now(UTC)
        )
        await verification.request_verification(
            db_session, user, ttl=security_policy.verification_ttl
        )
        return RESENT_ANSWER

    @post("/forgot-password", status_code=200, responses=errors(429))
    async def forgot_password(
        self,
        data: JSONBody[ForgotPasswordRequest],
        caller: GatewayCaller,
        db_session: DbSession,
        security_policy: NamedDependency[SecurityPolicy],
    ) -> MessageOut:
        """Mail a reset link if the account exists; the answer is the same either way."""
        email = normalize_email(data.email)
        checks = [(security_policy.mail_account, email)]
        if caller.client_ip:
            checks.append((security_policy.mail_ip, caller.client_ip))
        await throttle.claim(db_session, checks, now=datetime.now(UTC))
        await recovery.forgot(db_session, email, ttl=security_policy.reset_ttl, caller=caller)
        return FORGOT_ANSWER

    @post("/reset-password", status_code=200, responses=errors(429))
    async def reset_password(
        self,
        data: JSONBody[ResetPasswordRequest],
        caller: GatewayCaller,
        db_session: DbSession,
        credentials: NamedDependency[Credentials],
        security_policy: NamedDependency[SecurityPolicy],
    ) -> MessageOut:
        """Set a new password with the token from the reset email; ends every session."""
        claims = await _guess_counted(db_session, security_policy.token_ip, caller)
        await recovery.check_token(db_session, data.token)
        for claim in claims:
            await throttle.refund(db_session, claim)
        await db_session.commit()  # a refused password below is not a guessed token
        user = await recovery.reset(
            db_session,
            data.token,
            data.password,
            passwords=credentials.passwords,
            caller=caller,
        )
        await throttle.forgive(db_session, security_policy.login_account, user.email)
        return RESET_ANSWER
