"""The rules of signing up and signing in; takes a session, never commits."""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from skiff_contracts import new_id
from skiff_contracts.events.identity import OrganizationCreated, UserRegistered
from skiff_kit.errors import Conflict, Unauthorized
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_identity.auth import repository
from skiff_identity.auth.passwords import Passwords
from skiff_identity.auth.schemas import LoginRequest, RegisterRequest
from skiff_identity.auth.tokens import AccessTokens, hash_refresh_token, new_refresh_token
from skiff_identity.auth.validation import check_registration, normalize_email
from skiff_identity.models import Membership, Organization, RefreshToken, User
from skiff_identity.organizations.acting import announce_membership
from skiff_identity.outbox import OUTBOX
from skiff_identity.security import locks


@dataclass(frozen=True)
class IssuedSession:
    access_token: str
    refresh_token: str
    expires_in: int


@dataclass(frozen=True)
class Credentials:
    """What signing in needs: password hashing, token signing and refresh lifetime."""

    passwords: Passwords
    access_tokens: AccessTokens
    refresh_ttl: timedelta


def slug_for(name: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "org"
    return f"{base}-{secrets.token_hex(3)}"


async def register(
    session: AsyncSession, body: RegisterRequest, *, passwords: Passwords
) -> tuple[User, Organization]:
    """Create the user, their personal organization (as owner) and announce both."""
    email = check_registration(body)
    if await repository.user_by_email(session, email) is not None:
        raise Conflict("An account with this email already exists.", code="email_taken")
    now = datetime.now(UTC)
    password_hash = await asyncio.to_thread(passwords.hash, body.password)
    name = body.name.strip()
    organization = Organization(
        id=new_id("org"),
        name=(body.organization_name or f"{name[:185]}'s workspace").strip(),
        slug=slug_for(body.organization_name or name),
        personal=True,
        created_at=now,
    )
    user = User(
        id=new_id("usr"),
        email=email,
        name=name,
        password_hash=password_hash,
        default_organization_id=organization.id,
        created_at=now,
    )
    session.add_all([organization, user])
    try:
        await session.flush()
    except IntegrityError as exc:  # a parallel sign-up with the same email won the race
        raise Conflict("An account with this email already exists.", code="email_taken") from exc
    session.add(
        Membership(organization_id=organization.id, user_id=user.id, role="owner", created_at=now)
    )
    await OUTBOX.record(
        session,
        UserRegistered(
            user_id=user.id,
            email=email,
            name=name,
            organization_id=organization.id,
            registered_at=now,
        ),
        subject=user.id,
        organization_id=organization.id,
    )
    await OUTBOX.record(
        session,
        OrganizationCreated(
            organization_id=organization.id,
            name=organization.name,
            slug=organization.slug,
            owner_user_id=user.id,
            personal=True,
            created_at=now,
        ),
        subject=organization.id,
        organization_id=organization.id,
    )
    # Like every other membership change, so consumers of memberships need no special case.
    await announce_membership(
        session, organization_id=organization.id, user_id=user.id, role="owner", now=now
    )
    return user, organization


async def login(
    session: AsyncSession, body: LoginRequest, *, credentials: Credentials
) -> tuple[User, IssuedSession]:
    """Check the password and open a session in the user's default organization."""
    user = await repository.user_by_email(session, normalize_email(body.email))
    valid = await asyncio.to_thread(
        credentials.passwords.verify, user.password_hash if user else None, body.password
    )
    if user is None or not valid:
        raise Unauthorized("Wrong email or password.", code="invalid_credentials")
    locks.ensure_not_locked(user)
    issued = await _open_session(
        session,
        user=user,
        organization_id=user.default_organization_id,
        family_id=new_id("rtf"),
        credentials=credentials,
    )
    return user, issued


async def open_session(
    session: AsyncSession, *, user: User, credentials: Credentials
) -> IssuedSession:
    """A new session (refresh family) in the user's default organization, as login opens."""
    return await _open_session(
        session,
        user=user,
        organization_id=user.default_organization_id,
        family_id=new_id("rtf"),
        credentials=credentials,
    )


async def refresh(
    session: AsyncSession, token: str, *, credentials: Credentials
) -> tuple[User, IssuedSession] | None:
    """Rotate a refresh token; None when it was already used (its family is then revoked)."""
    now = datetime.now(UTC)
    row = await repository.refresh_token_for_update(session, hash_refresh_token(token))
    if row is None:
        raise Unauthorized("The refresh token is not valid.", code="invalid_refresh_token")
    owner = await repository.user_by_id(session, row.user_id)
    if owner is not None:
        locks.ensure_not_locked(owner)
    if row.revoked_at is not None:
        await repository.revoke_family(session, row.family_id, now=now)
        return None
    if row.expires_at <= now:
        raise Unauthorized("The refresh token has expired.", code="refresh_token_expired")
    user = await repository.user_by_id(session, row.user_id)
    if user is None:
        raise Unauthorized("The refresh token is not valid.", code="invalid_refresh_token")
    row.revoked_at = now
    issued = await _open_session(
        session,
        user=user,
        organization_id=row.organization_id,
        family_id=row.family_id,
        credentials=credentials,
    )
    return user, issued


async def logout(
    session: AsyncSession, *, user_id: str, refresh_token: str | None, all_devices: bool
) -> None:
    """End one session (its refresh family), or every session of the user: then gateways
    also refuse their access tokens at once (`identity.session.revoked`)."""
    now = datetime.now(UTC)
    if all_devices:
        await locks.end_sessions(session, user_id, reason="logout_all_devices", now=now)
        return
    if refresh_token:
        row = await repository.refresh_token_for_update(session, hash_refresh_token(refresh_token))
        if row is not None and row.user_id == user_id:
            await repository.revoke_family(session, row.family_id, now=now)


async def _open_session(
    session: AsyncSession,
    *,
    user: User,
    organization_id: str,
    family_id: str,
    credentials: Credentials,
) -> IssuedSession:
    role = await repository.role_of(session, user_id=user.id, organization_id=organization_id)
    if role is None:
        raise Unauthorized("You are no longer a member of this organization.", code="not_a_member")
    raw = new_refresh_token()
    session.add(
        RefreshToken(
            id=new_id("rtk"),
            user_id=user.id,
            organization_id=organization_id,
            family_id=family_id,
            token_hash=hash_refresh_token(raw),
            expires_at=datetime.now(UTC) + credentials.refresh_ttl,
        )
    )
    access = credentials.access_tokens.issue(
        user_id=user.id, organization_id=organization_id, role=role
    )
    return IssuedSession(access, raw, credentials.access_tokens.ttl_seconds)
