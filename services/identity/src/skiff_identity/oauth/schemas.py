"""What the providers answer (decoded strictly), and the profile sign-in works with."""

from __future__ import annotations

import msgspec


class ProviderProfile(msgspec.Struct, frozen=True, kw_only=True):
    """A provider's account as sign-in sees it, whichever provider it came from."""

    provider: str
    provider_user_id: str
    email: str | None
    email_verified: bool
    name: str


class GitHubUser(msgspec.Struct, frozen=True):
    """`GET /user` (the fields used)."""

    id: int
    login: str
    name: str | None = None
    email: str | None = None


class GitHubEmail(msgspec.Struct, frozen=True):
    """One entry of `GET /user/emails`."""

    email: str
    primary: bool = False
    verified: bool = False


class GoogleUserInfo(msgspec.Struct, frozen=True):
    """OpenID Connect userinfo (the claims used)."""

    sub: str
    email: str | None = None
    email_verified: bool = False
    name: str | None = None
