"""Keeping the directory from identity's events, and asking it who an organization's owners are."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from skiff_contracts import Envelope
from skiff_contracts.events.identity import MembershipChanged, UserRegistered
from skiff_contracts.rpc.identity import OwnerContact
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_notification.directory.models import DirectoryMember, DirectoryUser


@dataclass(frozen=True)
class Person:
    user_id: str
    email: str
    name: str


async def user_registered(session: AsyncSession, envelope: Envelope, event: UserRegistered) -> None:
    """Remember a user's email and name (the address their emails go to)."""
    await _user(session, event.user_id, event.email, event.name)


async def membership_changed(
    session: AsyncSession, envelope: Envelope, event: MembershipChanged
) -> None:
    """Record the membership as of the event; an older event arriving late changes nothing."""
    await _membership(session, event.organization_id, event.user_id, event.role, event.changed_at)


async def remember_owners(
    session: AsyncSession, organization_id: str, owners: Sequence[OwnerContact], as_of: datetime
) -> None:
    """What identity answered about an organization's owners, as of `as_of` (a membership
    event stamped later still wins)."""
    for owner in owners:
        await _user(session, owner.user_id, owner.email, owner.name)
        await _membership(session, organization_id, owner.user_id, "owner", as_of)


async def _user(session: AsyncSession, user_id: str, email: str, name: str) -> None:
    statement = insert(DirectoryUser).values(user_id=user_id, email=email, name=name)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[DirectoryUser.user_id],
            set_={"email": statement.excluded.email, "name": statement.excluded.name},
        )
    )


async def _membership(
    session: AsyncSession, organization_id: str, user_id: str, role: str | None, at: datetime
) -> None:
    statement = insert(DirectoryMember).values(
        organization_id=organization_id, user_id=user_id, role=role, changed_at=at
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[DirectoryMember.organization_id, DirectoryMember.user_id],
            set_={"role": statement.excluded.role, "changed_at": statement.excluded.changed_at},
            where=DirectoryMember.changed_at <= statement.excluded.changed_at,
        )
    )


async def owners(session: AsyncSession, organization_id: str) -> list[Person]:
    """The organization's owners whose address is known, by user id."""
    rows = await session.execute(
        select(DirectoryUser.user_id, DirectoryUser.email, DirectoryUser.name)
        .join(DirectoryMember, DirectoryMember.user_id == DirectoryUser.user_id)
        .where(DirectoryMember.organization_id == organization_id, DirectoryMember.role == "owner")
        .order_by(DirectoryUser.user_id)
    )
    return [Person(user_id=r.user_id, email=r.email, name=r.name) for r in rows]
