"""Which user a provider account signs in as: already linked, linked now, or a new user."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import msgspec
from skiff_contracts import new_id
from skiff_kit.errors import BadRequest, Conflict, Unauthorized
from skiff_kit.internal_token import Principal
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_identity.audit import service as audit
from skiff_identity.auth import repository as users
from skiff_identity.auth import service as auth
from skiff_identity.auth.schemas import RegisterRequest
from skiff_identity.auth.service import Credentials, IssuedSession
from skiff_identity.models import User
from skiff_identity.oauth import repository
from skiff_identity.oauth.models import OAuthAccount
from skiff_identity.oauth.providers import Provider
from skiff_identity.oauth.schemas import ProviderProfile
from skiff_identity.security import locks

# An empty hash never verifies (and takes as long as a wrong password): no password login.
NO_PASSWORD = ""


async def sign_in(
    session: AsyncSession,
    profile: ProviderProfile,
    *,
    provider: Provider,
    link_user_id: str | None,
    credentials: Credentials,
    caller: Principal,
) -> tuple[User, IssuedSession]:
    """Sign in the user of `profile`, linking or creating them by the rules of API.md."""
    now = datetime.now(UTC)
    account = await repository.account_by_provider_id(
        session, provider=profile.provider, provider_user_id=profile.provider_user_id
    )
    if account is not None:
        if link_user_id is not None and account.user_id != link_user_id:
            raise _linked_elsewhere(provider)
        user = await _existing(session, account.user_id)
    elif link_user_id is not None:
        user = await _existing(session, link_user_id)
        account = await _link(session, user, profile, provider=provider, caller=caller)
    else:
        user = await _user_of_verified_email(session, profile, provider, credentials, now)
        account = await _link(session, user, profile, provider=provider, caller=caller)
    locks.ensure_not_locked(user)
    account.email = profile.email
    account.last_login_at = now
    issued = await auth.open_session(session, user=user, credentials=credentials)
    await audit.record(
        session,
        action="auth.login",
        principal=_acting(caller, user),
        target_type="user",
        target_id=user.id,
        details={"method": "oauth", "provider": provider.name},
    )
    return user, issued


async def _user_of_verified_email(
    session: AsyncSession,
    profile: ProviderProfile,
    provider: Provider,
    credentials: Credentials,
    now: datetime,
) -> User:
    """The user owning the provider's verified email (proven now), or a new user."""
    if profile.email is None:
        raise _unverified(provider, known=False)
    user = await users.user_by_email(session, profile.email)
    if not profile.email_verified:
        raise _unverified(provider, known=user is not None)
    if user is None:
        return await _register(session, profile, credentials, now)
    if user.email_verified_at is None:
        # Whoever chose this account's password never proved the address; the provider just
        # did. Keep their password and sessions and an unverified sign-up could take it over.
        user.email_verified_at = now
        user.password_hash = NO_PASSWORD
        await locks.end_sessions(session, user.id, reason="oauth_email_proven", now=now)
    return user


async def _existing(session: AsyncSession, user_id: str) -> User:
    user = await users.user_by_id(session, user_id)
    if user is None:
        raise Unauthorized("The user no longer exists.", code="user_not_found")
    return user


async def _register(
    session: AsyncSession, profile: ProviderProfile, credentials: Credentials, now: datetime
) -> User:
    """Sign-up's own path (same rows, same events), then no password and a verified email."""
    throwaway = secrets.token_urlsafe(24) + "-7"  # meets the policy; its hash is dropped below
    user, _ = await auth.register(
        session,
        RegisterRequest(email=profile.email or "", password=throwaway, name=profile.name),
        passwords=credentials.passwords,
    )
    user.password_hash = NO_PASSWORD
    user.email_verified_at = now
    return user


async def _link(
    session: AsyncSession,
    user: User,
    profile: ProviderProfile,
    *,
    provider: Provider,
    caller: Principal,
) -> OAuthAccount:
    if await repository.account_of_user(session, provider=provider.name, user_id=user.id):
        raise Conflict(
            f"Your account is already linked to another {provider.label} account.",
            code="oauth_provider_already_linked",
        )
    account = OAuthAccount(
        id=new_id("oac"),
        provider=profile.provider,
        provider_user_id=profile.provider_user_id,
        user_id=user.id,
        email=profile.email,
        linked_at=datetime.now(UTC),
    )
    session.add(account)
    try:
        await session.flush()
    except IntegrityError as exc:  # a parallel callback linked it first
        raise _linked_elsewhere(provider) from exc
    await audit.record(
        session,
        action="auth.oauth_linked",
        principal=_acting(caller, user),
        target_type="user",
        target_id=user.id,
        details={"provider": provider.name, "provider_user_id": profile.provider_user_id},
    )
    return account


def _acting(caller: Principal, user: User) -> Principal:
    """The caller as the user they just proved to be (for the audit log)."""
    return msgspec.structs.replace(
        caller, organization_id=user.default_organization_id, user_id=user.id, via="session"
    )


def _linked_elsewhere(provider: Provider) -> Conflict:
    return Conflict(
        f"This {provider.label} account is already linked to another Skiff account.",
        code="oauth_account_linked_elsewhere",
    )


def _unverified(provider: Provider, *, known: bool) -> BadRequest:
    if known:
        message = (
            f"{provider.label} has not verified this email address, so it cannot be linked"
            f" automatically. Sign in with your password, then link {provider.label} from"
            " your account."
        )
    else:
        message = (
            f"{provider.label} did not share a verified email address. Verify your email with"
            f" {provider.label}, or sign up with a password."
        )
    return BadRequest(message, code="oauth_email_not_verified")
