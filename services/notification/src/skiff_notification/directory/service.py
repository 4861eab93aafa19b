"""Keeping the directory from identity's events, and asking it who an organization's owners are."""

from __future__ import annotations

from dataclasses import dataclass

from skiff_contracts import Envelope
from skiff_contracts.events.identity import MembershipChanged, UserRegistered
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
    statement = insert(DirectoryUser).values(
        user_id=event.user_id, email=event.email, name=event.name
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[DirectoryUser.user_id],
            set_={"email": statement.excluded.email, "name": statement.excluded.name},
        )
    )


async def membership_changed(
    session: AsyncSession, envelope: Envelope, event: MembershipChanged
) -> None:
    """Record the membership as of the event; an older event arriving late changes nothing."""
    statement = insert(DirectoryMember).values(
        organization_id=event.organization_id,
        user_id=event.user_id,
        role=event.role,
        changed_at=event.changed_at,
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
