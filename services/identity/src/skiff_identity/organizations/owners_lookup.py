"""Answers who owns an organization, for services whose view of memberships lacks it.

Notification learns owners from `identity.*` events; the bus keeps them 7 days, so an owner
who joined before notification first read them is unknown there. It asks here, once per
organization it knows no owner of (docs/webhooks.md): one indexed read of the memberships.
"""

from __future__ import annotations

from datetime import UTC, datetime

from skiff_contracts.rpc.identity import (
    ORGANIZATION_OWNERS_SUBJECT,
    OrganizationOwners,
    OrganizationOwnersReply,
    OwnerContact,
)
from skiff_kit.db import AppSessions
from skiff_messaging.errors import ReplyError
from skiff_messaging.service_bus import Responder
from sqlalchemy import select

from skiff_identity.models import Membership, Organization, User


class OwnerLookups(AppSessions):
    """`rpc.identity.organizations.owners`, from the app's database once `bound` to it."""

    def responder(self) -> Responder:
        return Responder(
            subject=ORGANIZATION_OWNERS_SUBJECT,
            request_type=OrganizationOwners,
            handler=self.answer,
        )

    async def answer(self, request: OrganizationOwners) -> OrganizationOwnersReply:
        if self.factory is None:
            raise ReplyError("unavailable", "identity has no database")
        as_of = datetime.now(UTC)  # before the read: a later membership event wins
        async with self.factory() as session:
            rows = await session.execute(
                select(User.id, User.email, User.name)
                .join(Membership, Membership.user_id == User.id)
                .join(Organization, Organization.id == Membership.organization_id)
                .where(
                    Membership.organization_id == request.organization_id,
                    Membership.role == "owner",
                    Organization.deleted_at.is_(None),
                )
                .order_by(User.id)
            )
            owners = [OwnerContact(user_id=r.id, email=r.email, name=r.name) for r in rows]
        return OrganizationOwnersReply(owners=owners, as_of=as_of)
