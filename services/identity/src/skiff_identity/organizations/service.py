"""Organization rules: create (creator owns it), rename, soft delete; never commits."""

from __future__ import annotations

from datetime import UTC, datetime

from skiff_contracts import new_id
from skiff_contracts.events.identity import OrganizationCreated
from skiff_kit.errors import Conflict, ValidationFailed
from skiff_kit.internal_token import Principal
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_identity.audit import service as audit
from skiff_identity.auth.service import slug_for
from skiff_identity.models import Membership, Organization
from skiff_identity.organizations import repository, roles
from skiff_identity.organizations.acting import Acting, announce_membership
from skiff_identity.outbox import OUTBOX


def clean_name(name: str) -> str:
    """The trimmed name; 400 when it is blank."""
    cleaned = name.strip()
    if not cleaned:
        raise ValidationFailed(
            "Validation failed: name must not be blank",
            details={"fields": [{"field": "name", "message": "must not be blank"}]},
        )
    return cleaned


async def create(
    session: AsyncSession,
    *,
    principal: Principal,
    user_id: str,
    name: str,
    organization_id: str | None = None,
) -> Organization:
    """A new (non-personal) organization owned by its creator; announced on the bus."""
    now = datetime.now(UTC)
    organization = Organization(
        id=organization_id or new_id("org"),
        name=clean_name(name),
        slug=slug_for(name),
        personal=False,
        created_at=now,
    )
    session.add(organization)
    await session.flush()
    session.add(
        Membership(organization_id=organization.id, user_id=user_id, role="owner", created_at=now)
    )
    await OUTBOX.record(
        session,
        OrganizationCreated(
            organization_id=organization.id,
            name=organization.name,
            slug=organization.slug,
            owner_user_id=user_id,
            personal=False,
            created_at=now,
        ),
        subject=organization.id,
        organization_id=organization.id,
    )
    await announce_membership(
        session, organization_id=organization.id, user_id=user_id, role="owner", now=now
    )
    await audit.record(
        session,
        action="organization.created",
        principal=principal,
        organization_id=organization.id,
        target_type="organization",
        target_id=organization.id,
        details={"name": organization.name},
    )
    return organization


async def rename(session: AsyncSession, acting: Acting, *, name: str | None) -> Organization:
    """Change the name (admins and owners)."""
    roles.require(acting.role, "admin", doing="change the organization")
    organization = acting.organization
    if name is not None and clean_name(name) != organization.name:
        before, organization.name = organization.name, clean_name(name)
        await audit.record(
            session,
            action="organization.updated",
            principal=acting.principal,
            target_type="organization",
            target_id=organization.id,
            details={"name": {"from": before, "to": organization.name}},
        )
    return organization


async def delete(session: AsyncSession, acting: Acting) -> None:
    """Soft-delete (owners; never a personal one): every member loses access at once."""
    roles.require(acting.role, "owner", doing="delete the organization")
    organization = acting.organization
    if organization.personal:
        raise Conflict("A personal organization cannot be deleted.", code="personal_organization")
    now = datetime.now(UTC)
    organization.deleted_at = now
    members = await repository.all_members(session, organization.id)
    # Memberships go, so every path that checks one (login, refresh, /me) refuses at once.
    await repository.delete_memberships(session, organization.id)
    await repository.revoke_refresh_tokens(
        session, organization_id=organization.id, user_id=None, now=now
    )
    for member in members:
        await repository.move_default_organization(
            session, user_id=member.user_id, away_from=organization.id
        )
        await announce_membership(
            session, organization_id=organization.id, user_id=member.user_id, role=None, now=now
        )
    await audit.record(
        session,
        action="organization.deleted",
        principal=acting.principal,
        target_type="organization",
        target_id=organization.id,
        details={"members": {m.user_id: m.role for m in members}},
    )
