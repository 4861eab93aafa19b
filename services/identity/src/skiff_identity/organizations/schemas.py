"""HTTP bodies of the organization, member and invite routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from skiff_kit.names import name_rules

from skiff_identity.organizations.roles import Role

OrganizationName = Annotated[str, name_rules(200)]
Email = Annotated[str, msgspec.Meta(min_length=3, max_length=320)]
UserId = Annotated[str, msgspec.Meta(pattern=r"^usr_[0-9a-z]{1,36}$")]


class CreateOrganization(msgspec.Struct, forbid_unknown_fields=True):
    name: OrganizationName


class UpdateOrganization(msgspec.Struct, forbid_unknown_fields=True):
    name: OrganizationName | None = None


class AddMember(msgspec.Struct, forbid_unknown_fields=True):
    role: Role
    email: Email | None = None
    user_id: UserId | None = None


class ChangeRole(msgspec.Struct, forbid_unknown_fields=True):
    role: Role


class CreateInvite(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    role: Role


class OrganizationOut(msgspec.Struct):
    id: str
    name: str
    slug: str
    personal: bool
    role: str
    created_at: datetime


class MemberOut(msgspec.Struct):
    user_id: str
    name: str
    email: str
    role: str
    joined_at: datetime


class InviteOut(msgspec.Struct):
    id: str
    email: str
    role: str
    status: str
    invited_by: str | None
    created_at: datetime
    expires_at: datetime


class AcceptedInvite(msgspec.Struct):
    organization: OrganizationOut
    role: str
