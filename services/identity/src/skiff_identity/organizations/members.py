"""Member rules: add, change role, remove or leave; the last owner stays. Never commits."""

from __future__ import annotations

from datetime import UTC, datetime

from skiff_kit.errors import Conflict, NotFound, ValidationFailed
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_identity.audit import service as audit
from skiff_identity.auth import repository as users
from skiff_identity.auth.validation import email_problems, normalize_email
from skiff_identity.models import Membership, User
from skiff_identity.organizations import repository, roles
from skiff_identity.organizations.acting import Acting, announce_membership
from skiff_identity.organizations.schemas import AddMember


def check_email(email: str) -> str:
    """The normalized email; 400 `validation_error` when it is not one."""
    normalized = normalize_email(email)
    if problems := email_problems(normalized):
        raise ValidationFailed(
            f"Validation failed: email {problems[0]}",
            details={"fields": [{"field": "email", "message": problems[0]}]},
        )
    return normalized


def member_not_found() -> NotFound:
    return NotFound("No such member in this organization.", code="member_not_found")


async def _target(session: AsyncSession, acting: Acting, user_id: str) -> Membership:
    found = await repository.membership(session, acting.organization.id, user_id)
    if found is None:
        raise member_not_found()
    return found


async def _keep_an_owner(session: AsyncSession, acting: Acting, target: Membership) -> None:
    if target.role == "owner" and await repository.owner_count(session, acting.organization.id) < 2:
        raise Conflict(
            "The last owner cannot leave or be demoted; make someone else owner first.",
            code="last_owner",
        )


async def add(session: AsyncSession, acting: Acting, body: AddMember) -> tuple[Membership, User]:
    """Add an existing user (by email or id) with a role no higher than the actor's."""
    roles.require(acting.role, "admin", doing="add members")
    roles.require_grant(acting.role, body.role)
    if (body.email is None) == (body.user_id is None):
        raise ValidationFailed(
            "Validation failed: give exactly one of email and user_id",
            details={"fields": [{"field": "email", "message": "give email or user_id"}]},
        )
    user = await (
        repository.user_by_email(session, check_email(body.email))
        if body.email is not None
        else users.user_by_id(session, body.user_id or "")
    )
    if user is None:
        raise NotFound("No user with this email or id.", code="user_not_found")
    organization_id = acting.organization.id
    if await repository.membership(session, organization_id, user.id) is not None:
        raise Conflict("This user is already a member.", code="already_member")
    now = datetime.now(UTC)
    membership = Membership(
        organization_id=organization_id, user_id=user.id, role=body.role, created_at=now
    )
    session.add(membership)
    await announce_membership(
        session, organization_id=organization_id, user_id=user.id, role=body.role, now=now
    )
    await audit.record(
        session,
        action="member.added",
        principal=acting.principal,
        target_type="user",
        target_id=user.id,
        details={"role": body.role},
    )
    return membership, user


async def change_role(
    session: AsyncSession, acting: Acting, *, user_id: str, role: str
) -> tuple[Membership, User]:
    """Give a member another role (admins and owners, within the rules of `roles`)."""
    roles.require(acting.role, "admin", doing="change roles")
    target = await _target(session, acting, user_id)
    roles.require_manage(acting.role, target.role)
    roles.require_grant(acting.role, role)
    user = await users.user_by_id(session, user_id)
    if user is None:
        raise member_not_found()
    if role == target.role:
        return target, user
    if role != "owner":
        await _keep_an_owner(session, acting, target)
    before, target.role = target.role, role
    now = datetime.now(UTC)
    await announce_membership(
        session, organization_id=target.organization_id, user_id=user_id, role=role, now=now
    )
    await audit.record(
        session,
        action="member.role_changed",
        principal=acting.principal,
        target_type="user",
        target_id=user_id,
        details={"from": before, "to": role},
    )
    return target, user


async def remove(session: AsyncSession, acting: Acting, *, user_id: str) -> None:
    """Remove a member (admins and owners) or leave (anyone); their sessions there end."""
    leaving = acting.principal.via == "session" and acting.principal.user_id == user_id
    if not leaving:
        roles.require(acting.role, "admin", doing="remove members")
    target = await _target(session, acting, user_id)
    if not leaving:
        roles.require_manage(acting.role, target.role)
    await _keep_an_owner(session, acting, target)
    organization_id = target.organization_id
    # A user never strands themselves; an admin's removal is never blocked by it.
    moved = await repository.move_default_organization(
        session, user_id=user_id, away_from=organization_id
    )
    if leaving and not moved:
        raise Conflict(
            "This is your only organization; you cannot leave it.", code="last_organization"
        )
    await session.delete(target)
    now = datetime.now(UTC)
    await repository.revoke_refresh_tokens(
        session, organization_id=organization_id, user_id=user_id, now=now
    )
    await announce_membership(
        session, organization_id=organization_id, user_id=user_id, role=None, now=now
    )
    await audit.record(
        session,
        action="member.left" if leaving else "member.removed",
        principal=acting.principal,
        target_type="user",
        target_id=user_id,
        details={"role": target.role},
    )
