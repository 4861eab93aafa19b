"""Organization routes: mine, create, and the context organization (read, rename, delete)."""

from __future__ import annotations

from litestar import Controller, delete, get, patch, post
from litestar.params import JSONBody, Parameter
from skiff_contracts import new_id
from skiff_kit.db import DbSession
from skiff_kit.errors import NotFound
from skiff_kit.idempotency import Idempotency, claim
from skiff_kit.internal_token import CurrentPrincipal
from skiff_kit.openapi_errors import errors
from skiff_kit.pagination import DEFAULT_LIMIT, Limit, Page, decode_cursor, page_of

from skiff_identity.models import Organization
from skiff_identity.organizations import repository, service
from skiff_identity.organizations.acting import acting_in, signed_in_user
from skiff_identity.organizations.schemas import (
    CreateOrganization,
    OrganizationOut,
    UpdateOrganization,
)


def organization_out(organization: Organization, role: str) -> OrganizationOut:
    return OrganizationOut(
        id=organization.id,
        name=organization.name,
        slug=organization.slug,
        personal=organization.personal,
        role=role,
        created_at=organization.created_at,
    )


class OrganizationsController(Controller):
    path = "/api/v1/organizations"
    tags = ["organizations"]

    @get("/")
    async def list_mine(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        limit: Limit = DEFAULT_LIMIT,
        cursor: str | None = Parameter(default=None, max_length=200),
    ) -> Page[OrganizationOut]:
        """The caller's organizations with their role in each, newest first."""
        if principal.via != "session" or principal.user_id is None:
            acting = await acting_in(db_session, principal)  # an API key knows only its own
            return Page(data=[organization_out(acting.organization, acting.role)], next_cursor=None)
        rows = await repository.organizations_of(
            db_session, principal.user_id, before_id=decode_cursor(cursor), limit=limit + 1
        )
        return page_of(
            rows,
            limit=limit,
            to_item=lambda row: organization_out(*row),
            id_of=lambda row: row[0].id,
        )

    @post("/", status_code=201)
    async def create(
        self,
        data: JSONBody[CreateOrganization],
        principal: CurrentPrincipal,
        db_session: DbSession,
        idempotency: Idempotency,
    ) -> OrganizationOut:
        """Create another organization; its creator is its owner.

        A retry with the same `Idempotency-Key` answers the organization the first one made.
        """
        user_id = signed_in_user(principal, doing="create an organization")
        organization_id = new_id("org")
        remembered = await claim(
            db_session,
            organization_id=principal.organization_id,
            request=idempotency,
            resource_id=organization_id,
        )
        if remembered is not None:
            existing = await db_session.get(Organization, remembered.resource_id)
            if existing is None:
                raise NotFound("No such organization.", code="organization_not_found")
            return organization_out(existing, "owner")
        organization = await service.create(
            db_session,
            principal=principal,
            user_id=user_id,
            name=data.name,
            organization_id=organization_id,
        )
        return organization_out(organization, "owner")

    @get("/current")
    async def current(self, principal: CurrentPrincipal, db_session: DbSession) -> OrganizationOut:
        """The organization the caller acts in, with their role."""
        acting = await acting_in(db_session, principal)
        return organization_out(acting.organization, acting.role)

    @patch("/current")
    async def update(
        self, data: JSONBody[UpdateOrganization], principal: CurrentPrincipal, db_session: DbSession
    ) -> OrganizationOut:
        """Rename the organization (admins and owners)."""
        acting = await acting_in(db_session, principal, lock=True)
        organization = await service.rename(db_session, acting, name=data.name)
        return organization_out(organization, acting.role)

    @delete("/current", status_code=204, responses=errors(409))
    async def remove(self, principal: CurrentPrincipal, db_session: DbSession) -> None:
        """Delete the organization (owners; soft; not a personal one): every member loses it."""
        acting = await acting_in(db_session, principal, lock=True)
        await service.delete(db_session, acting)
