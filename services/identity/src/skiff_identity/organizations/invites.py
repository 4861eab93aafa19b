"""Invite rules: invite by email, cancel, accept once as the invited user. Never commits."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from skiff_contracts import new_id
from skiff_contracts.events.identity import InviteCreated
from skiff_kit.errors import Conflict, Forbidden, NotFound, SkiffError, Unauthorized
from skiff_kit.internal_token import Principal
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_identity.audit import service as audit
from skiff_identity.auth import repository as users
from skiff_identity.auth.validation import normalize_email
from skiff_identity.models import Membership, Organization
from skiff_identity.organizations import repository, roles
from skiff_identity.organizations.acting import Acting, announce_membership, signed_in_user
from skiff_identity.organizations.members import check_email
from skiff_identity.organizations.models import Invite
from skiff_identity.organizations.schemas import CreateInvite
from skiff_identity.outbox import OUTBOX


class Gone(SkiffError):
    """The invite existed but can no longer be used."""

    status_code = 410
    code = "gone"


def hash_token(token: str) -> str:
    """Only this SHA-256 of an invite token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


async def create(
    session: AsyncSession, acting: Acting, body: CreateInvite, *, ttl: timedelta
) -> Invite:
    """Invite an email with a role no higher than the inviter's; the token rides the event only."""
    roles.require(acting.role, "admin", doing="invite members")
    roles.require_grant(acting.role, body.role)
    email = check_email(body.email)
    organization = acting.organization
    existing = await repository.user_by_email(session, email)
    if existing and await repository.membership(session, organization.id, existing.id):
        raise Conflict("This person is already a member.", code="already_member")
    now = datetime.now(UTC)
    if await repository.pending_invite_exists(session, organization.id, email, now=now):
        raise Conflict("This email already has a pending invite.", code="invite_pending")
    token = "inv_tok_" + secrets.token_urlsafe(32)
    principal = acting.principal
    invite = Invite(
        id=new_id("inv"),
        organization_id=organization.id,
        email=email,
        role=body.role,
        token_hash=hash_token(token),
        invited_by=principal.user_id or principal.api_key_id,
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(invite)
    await OUTBOX.record(
        session,
        InviteCreated(
            invite_id=invite.id,
            organization_id=organization.id,
            organization_name=organization.name,
            email=email,
            role=body.role,
            invited_by=invite.invited_by or "",
            token=token,
            expires_at=invite.expires_at,
        ),
        subject=invite.id,
        organization_id=organization.id,
    )
    await audit.record(
        session,
        action="invite.created",
        principal=principal,
        target_type="invite",
        target_id=invite.id,
        details={"email": email, "role": body.role},
    )
    return invite


async def cancel(session: AsyncSession, acting: Acting, *, invite_id: str) -> None:
    """Cancel a pending invite of the organization (admins and owners)."""
    roles.require(acting.role, "admin", doing="cancel invites")
    invite = await repository.invite_in(session, acting.organization.id, invite_id)
    if invite is None:
        raise NotFound("No such invite.", code="invite_not_found")
    status = invite.status(datetime.now(UTC))
    if status != "pending":
        raise Conflict(
            f"This invite is {status}.", code="invite_not_pending", details={"status": status}
        )
    invite.cancelled_at = datetime.now(UTC)
    await audit.record(
        session,
        action="invite.cancelled",
        principal=acting.principal,
        target_type="invite",
        target_id=invite.id,
        details={"email": invite.email},
    )


async def accept(
    session: AsyncSession, principal: Principal, *, token: str
) -> tuple[Organization, str]:
    """The signed-in user joins with the invite's role; the token is consumed exactly once."""
    user_id = signed_in_user(principal, doing="accept an invite")
    invite = await repository.invite_by_token_hash(session, hash_token(token))
    organization = (
        await repository.organization(session, invite.organization_id, lock=True)
        if invite
        else None
    )
    if invite is None or organization is None:
        raise NotFound("No such invite.", code="invite_not_found")
    now = datetime.now(UTC)
    status = invite.status(now)
    if status == "accepted":
        raise Conflict("This invite was already used.", code="invite_used")
    if status != "pending":
        raise Gone(f"This invite is {status}.", code=f"invite_{status}")
    user = await users.user_by_id(session, user_id)
    if user is None:
        raise Unauthorized("The user no longer exists.", code="user_not_found")
    if normalize_email(user.email) != invite.email:
        raise Forbidden(
            "This invite was sent to another email address.", code="invite_email_mismatch"
        )
    if await repository.membership(session, organization.id, user_id) is not None:
        raise Conflict("You are already a member of this organization.", code="already_member")
    invite.accepted_at, invite.accepted_by = now, user_id
    session.add(
        Membership(
            organization_id=organization.id, user_id=user_id, role=invite.role, created_at=now
        )
    )
    await announce_membership(
        session, organization_id=organization.id, user_id=user_id, role=invite.role, now=now
    )
    await audit.record(
        session,
        action="invite.accepted",
        principal=principal,
        organization_id=organization.id,
        target_type="invite",
        target_id=invite.id,
        details={"role": invite.role, "user_id": user_id},
    )
    return organization, invite.role
