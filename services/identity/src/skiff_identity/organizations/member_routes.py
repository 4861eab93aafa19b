"""Member routes: list, add an existing user, change a role, remove (or leave)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.params import JSONBody, Parameter, PathParameter
from skiff_kit.db import DbSession
from skiff_kit.internal_token import CurrentPrincipal
from skiff_kit.openapi_errors import errors
from skiff_kit.pagination import DEFAULT_LIMIT, Limit, Page, decode_cursor, page_of

from skiff_identity.models import Membership, User
from skiff_identity.organizations import members, repository
from skiff_identity.organizations.acting import acting_in
from skiff_identity.organizations.schemas import AddMember, ChangeRole, MemberOut

UserId = Annotated[str, PathParameter(max_length=40)]


def member_out(membership: Membership, user: User) -> MemberOut:
    return MemberOut(
        user_id=user.id,
        name=user.name,
        email=user.email,
        role=membership.role,
        joined_at=membership.created_at,
    )


class MembersController(Controller):
    path = "/api/v1/members"
    tags = ["members"]

    @get("/")
    async def list_members(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        limit: Limit = DEFAULT_LIMIT,
        cursor: str | None = Parameter(default=None, max_length=200),
    ) -> Page[MemberOut]:
        """The organization's members: name, email, role and when they joined."""
        acting = await acting_in(db_session, principal)
        rows = await repository.members_page(
            db_session, acting.organization.id, before_id=decode_cursor(cursor), limit=limit + 1
        )
        return page_of(
            rows, limit=limit, to_item=lambda row: member_out(*row), id_of=lambda row: row[1].id
        )

    @post("/", status_code=201, responses=errors(404, 409))
    async def add(
        self, data: JSONBody[AddMember], principal: CurrentPrincipal, db_session: DbSession
    ) -> MemberOut:
        """Add an existing user by `email` or `user_id` with a role (admins and owners)."""
        acting = await acting_in(db_session, principal, lock=True)
        return member_out(*await members.add(db_session, acting, data))

    @patch("/{user_id:str}", responses=errors(409))
    async def change_role(
        self,
        data: JSONBody[ChangeRole],
        principal: CurrentPrincipal,
        db_session: DbSession,
        user_id: UserId,
    ) -> MemberOut:
        """Change a member's role (admins and owners; the last owner stays owner)."""
        acting = await acting_in(db_session, principal, lock=True)
        changed = await members.change_role(db_session, acting, user_id=user_id, role=data.role)
        return member_out(*changed)

    @delete("/{user_id:str}", status_code=204, responses=errors(409))
    async def remove(
        self, principal: CurrentPrincipal, db_session: DbSession, user_id: UserId
    ) -> None:
        """Remove a member (admins and owners) or leave (yourself); the last owner cannot."""
        acting = await acting_in(db_session, principal, lock=True)
        await members.remove(db_session, acting, user_id=user_id)
