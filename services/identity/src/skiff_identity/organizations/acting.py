"""Who acts, in which live organization, with which current role; and membership events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from skiff_contracts.events.identity import MembershipChanged
from skiff_kit.errors import Forbidden, NotFound, Unauthorized
from skiff_kit.internal_token import Principal
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_identity.models import Organization
from skiff_identity.organizations import repository
from skiff_identity.outbox import OUTBOX


@dataclass(frozen=True)
class Acting:
    """The principal's organization and their role in it as our own tables say now."""

    organization: Organization
    role: str
    principal: Principal


def organization_not_found() -> NotFound:
    return NotFound("No such organization.", code="organization_not_found")


async def acting_in(session: AsyncSession, principal: Principal, *, lock: bool = False) -> Acting:
    """The principal's organization (404 once deleted) and their current role.

    A signed-in user's role is re-read from the memberships (we are its source of truth, the
    gateway's copy may be a moment old); an API key acts with the role the gateway signed.
    `lock` takes the organization's row lock, serializing every membership change in it, so
    two owners demoting each other cannot leave it without one.
    """
    organization = await repository.organization(session, principal.organization_id, lock=lock)
    if organization is None:
        raise organization_not_found()
    role = principal.role
    if principal.via == "session" and principal.user_id is not None:
        membership = await repository.membership(session, organization.id, principal.user_id)
        if membership is None:
            raise Unauthorized(
                "You are no longer a member of this organization.", code="not_a_member"
            )
        role = membership.role
    return Acting(organization=organization, role=role, principal=principal)


def signed_in_user(principal: Principal, *, doing: str) -> str:
    """The user id of a signed-in user; 403 `user_required` for an API key or a service."""
    if principal.via != "session" or principal.user_id is None:
        raise Forbidden(f"Only a signed-in user can {doing}.", code="user_required")
    return principal.user_id


async def announce_membership(
    session: AsyncSession, *, organization_id: str, user_id: str, role: str | None, now: datetime
) -> None:
    """Record `identity.membership.changed` (role None: no longer a member) in the outbox."""
    await OUTBOX.record(
        session,
        MembershipChanged(
            organization_id=organization_id, user_id=user_id, role=role, changed_at=now
        ),
        subject=user_id,
        organization_id=organization_id,
    )
