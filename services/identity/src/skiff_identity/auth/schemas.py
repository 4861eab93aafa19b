"""HTTP bodies of the auth routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from skiff_kit.names import name_rules

# The format of an email is checked by the service, with the password, to report both at once.
Email = Annotated[str, msgspec.Meta(max_length=320)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
Name = Annotated[str, name_rules(200)]


class RegisterRequest(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    password: Password
    name: Name
    organization_name: Name | None = None


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    password: Password


class RefreshRequest(msgspec.Struct, forbid_unknown_fields=True):
    """The token may instead come in the `skiff_refresh` cookie (the body wins)."""

    refresh_token: Annotated[str, msgspec.Meta(min_length=1, max_length=512)] | None = None


class LogoutRequest(msgspec.Struct, forbid_unknown_fields=True):
    refresh_token: Annotated[str, msgspec.Meta(max_length=512)] | None = None
    all_devices: bool = False


class UserOut(msgspec.Struct):
    id: str
    email: str
    name: str
    email_verified: bool
    created_at: datetime


class OrganizationSummary(msgspec.Struct):
    id: str
    name: str
    slug: str
    personal: bool
    created_at: datetime


class RegisterResponse(msgspec.Struct):
    user: UserOut
    organization: OrganizationSummary


class TokensOut(msgspec.Struct):
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"


class LoginResponse(msgspec.Struct):
    user: UserOut
    session: TokensOut


class MeResponse(msgspec.Struct):
    user: UserOut | None
    organization: OrganizationSummary
    role: str
    scopes: list[str]
    via: Literal["api_key", "session"]
