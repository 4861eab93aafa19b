"""Every query of organizations, memberships and invites."""

from __future__ import annotations

from datetime import datetime

from skiff_kit.pagination import newest_first
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_identity.models import Membership, Organization, RefreshToken, User
from skiff_identity.organizations.models import Invite


async def organization(
    session: AsyncSession, organization_id: str, *, lock: bool = False
) -> Organization | None:
    """A live (not deleted) organization; `lock` serializes every membership change in it."""
    query = select(Organization).where(
        Organization.id == organization_id, Organization.deleted_at.is_(None)
    )
    return await session.scalar(query.with_for_update() if lock else query)


async def membership(
    session: AsyncSession, organization_id: str, user_id: str
) -> Membership | None:
    return await session.get(Membership, (organization_id, user_id), populate_existing=True)


async def organizations_of(
    session: AsyncSession, user_id: str, *, before_id: str | None, limit: int
) -> list[tuple[Organization, str]]:
    """The live organizations of a user with their role in each, newest first."""
    query = (
        select(Organization, Membership.role)
        .join(Membership, Membership.organization_id == Organization.id)
        .where(Membership.user_id == user_id, Organization.deleted_at.is_(None))
    )
    rows = await session.execute(newest_first(query, Organization.id, before_id, limit))
    return [(row[0], row[1]) for row in rows]


async def members_page(
    session: AsyncSession, organization_id: str, *, before_id: str | None, limit: int
) -> list[tuple[Membership, User]]:
    """Members with their user, by user id descending."""
    query = (
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.organization_id == organization_id)
    )
    rows = await session.execute(newest_first(query, Membership.user_id, before_id, limit))
    return [(row[0], row[1]) for row in rows]


async def all_members(session: AsyncSession, organization_id: str) -> list[Membership]:
    query = select(Membership).where(Membership.organization_id == organization_id)
    return list(await session.scalars(query))


async def owner_count(session: AsyncSession, organization_id: str) -> int:
    query = select(func.count()).where(
        Membership.organization_id == organization_id, Membership.role == "owner"
    )
    return int(await session.scalar(query) or 0)


async def delete_memberships(session: AsyncSession, organization_id: str) -> None:
    await session.execute(delete(Membership).where(Membership.organization_id == organization_id))


async def revoke_refresh_tokens(
    session: AsyncSession, *, organization_id: str, user_id: str | None, now: datetime
) -> None:
    """End the sessions bound to an organization (of one user, or of everyone)."""
    query = update(RefreshToken).where(
        RefreshToken.organization_id == organization_id, RefreshToken.revoked_at.is_(None)
    )
    if user_id is not None:
        query = query.where(RefreshToken.user_id == user_id)
    await session.execute(query.values(revoked_at=now))


async def move_default_organization(session: AsyncSession, *, user_id: str, away_from: str) -> bool:
    """Point a user's default organization elsewhere (personal first); False if none is left."""
    other = await session.scalar(
        select(Membership.organization_id)
        .join(Organization, Organization.id == Membership.organization_id)
        .where(
            Membership.user_id == user_id,
            Membership.organization_id != away_from,
            Organization.deleted_at.is_(None),
        )
        .order_by(Organization.personal.desc(), Membership.created_at)
        .limit(1)
    )
    if other is None:
        return False
    await session.execute(
        update(User)
        .where(User.id == user_id, User.default_organization_id == away_from)
        .values(default_organization_id=other)
    )
    return True


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email))


async def pending_invite_exists(
    session: AsyncSession, organization_id: str, email: str, *, now: datetime
) -> bool:
    found = await session.scalar(
        select(Invite.id).where(
            Invite.organization_id == organization_id,
            Invite.email == email,
            Invite.accepted_at.is_(None),
            Invite.cancelled_at.is_(None),
            Invite.expires_at > now,
        )
    )
    return found is not None


async def pending_invites(
    session: AsyncSession, organization_id: str, *, now: datetime, before_id: str | None, limit: int
) -> list[Invite]:
    query = select(Invite).where(
        Invite.organization_id == organization_id,
        Invite.accepted_at.is_(None),
        Invite.cancelled_at.is_(None),
        Invite.expires_at > now,
    )
    return list(await session.scalars(newest_first(query, Invite.id, before_id, limit)))


async def invite_in(session: AsyncSession, organization_id: str, invite_id: str) -> Invite | None:
    query = select(Invite).where(Invite.id == invite_id, Invite.organization_id == organization_id)
    return await session.scalar(query.with_for_update())


async def invite_by_token_hash(session: AsyncSession, token_hash: str) -> Invite | None:
    """The invite of a token, locked: parallel accepts of one token queue here."""
    query = select(Invite).where(Invite.token_hash == token_hash).with_for_update()
    return await session.scalar(query)
