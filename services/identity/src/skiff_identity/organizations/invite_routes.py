"""Invite routes: pending invites, invite by email, cancel, and accept as the signed-in user."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter, PathParameter
from skiff_kit.db import DbSession
from skiff_kit.internal_token import CurrentPrincipal
from skiff_kit.openapi_errors import errors
from skiff_kit.pagination import DEFAULT_LIMIT, Limit, Page, decode_cursor, page_of

from skiff_identity.organizations import invites, repository, roles
from skiff_identity.organizations.acting import acting_in
from skiff_identity.organizations.models import Invite
from skiff_identity.organizations.routes import organization_out
from skiff_identity.organizations.schemas import AcceptedInvite, CreateInvite, InviteOut


def invite_out(invite: Invite, now: datetime) -> InviteOut:
    return InviteOut(
        id=invite.id,
        email=invite.email,
        role=invite.role,
        status=invite.status(now),
        invited_by=invite.invited_by,
        created_at=invite.created_at,
        expires_at=invite.expires_at,
    )


class InvitesController(Controller):
    path = "/api/v1/invites"
    tags = ["invites"]

    @get("/")
    async def list_pending(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        limit: Limit = DEFAULT_LIMIT,
        cursor: str | None = Parameter(default=None, max_length=200),
    ) -> Page[InviteOut]:
        """Pending invites of the organization, newest first (admins and owners)."""
        acting = await acting_in(db_session, principal)
        roles.require(acting.role, "admin", doing="see invites")
        now = datetime.now(UTC)
        rows = await repository.pending_invites(
            db_session,
            acting.organization.id,
            now=now,
            before_id=decode_cursor(cursor),
            limit=limit + 1,
        )
        return page_of(
            rows, limit=limit, to_item=lambda row: invite_out(row, now), id_of=lambda row: row.id
        )

    @post("/", status_code=201, responses=errors(409))
    async def create(
        self,
        data: JSONBody[CreateInvite],
        principal: CurrentPrincipal,
        db_session: DbSession,
        invite_ttl: NamedDependency[timedelta],
    ) -> InviteOut:
        """Invite an email with a role (admins and owners); the link is emailed, never returned."""
        acting = await acting_in(db_session, principal, lock=True)
        invite = await invites.create(db_session, acting, data, ttl=invite_ttl)
        return invite_out(invite, datetime.now(UTC))

    @delete("/{invite_id:str}", status_code=204, responses=errors(409))
    async def cancel(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        invite_id: Annotated[str, PathParameter(max_length=40)],
    ) -> None:
        """Cancel a pending invite (admins and owners)."""
        acting = await acting_in(db_session, principal)
        await invites.cancel(db_session, acting, invite_id=invite_id)

    @post("/{token:str}/accept", status_code=200, responses=errors(409, 410))
    async def accept(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        token: Annotated[str, PathParameter(max_length=100)],
    ) -> AcceptedInvite:
        """Join the organization of an invite sent to your email, with its role."""
        organization, role = await invites.accept(db_session, principal, token=token)
        return AcceptedInvite(organization=organization_out(organization, role), role=role)
