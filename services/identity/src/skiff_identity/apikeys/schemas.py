"""HTTP bodies of the API key routes; unknown fields (ids, hashes, organization) are refused."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec
from skiff_kit.names import name_rules

KeyName = Annotated[str, name_rules(100)]
Scope = Annotated[str, msgspec.Meta(max_length=40)]
Scopes = Annotated[list[Scope], msgspec.Meta(max_length=32)]
RateLimit = Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]
GraceHours = Annotated[int, msgspec.Meta(ge=0, le=720)]
AwareTime = Annotated[datetime, msgspec.Meta(tz=True)]
Status = Literal["active", "inactive", "expired", "revoked"]


class CreateApiKey(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: KeyName
    scopes: Scopes | None = None
    expires_at: AwareTime | None = None
    rate_limit: RateLimit | None = None


class UpdateApiKey(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: KeyName | msgspec.UnsetType = msgspec.UNSET
    scopes: Scopes | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET


class RotateApiKey(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    grace_hours: GraceHours = 24


class ApiKeyOut(msgspec.Struct, kw_only=True):
    """A key as lists and details show it: masked, never the secret nor its hash."""

    id: str
    name: str
    prefix: str
    last4: str
    scopes: list[str]
    status: Status
    active: bool
    expires_at: datetime | None
    rate_limit: int | None
    grace_until: datetime | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    last_rotated_at: datetime | None
    revoked_at: datetime | None


class ApiKeyWithSecret(msgspec.Struct, kw_only=True):
    """Answer of create, rotate and roll: the raw `key` appears here once and never again."""

    key: str
    api_key: ApiKeyOut


class UsageDay(msgspec.Struct, kw_only=True):
    day: date
    requests: int
    by_status_class: dict[str, int]


class ApiKeyUsageOut(msgspec.Struct, kw_only=True):
    key_id: str
    start: date
    end: date
    total: int
    days: list[UsageDay]
