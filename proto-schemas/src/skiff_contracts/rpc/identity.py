"""Identity's request/reply: the gateway looks up a key it has not heard of yet; notification
asks who owns an organization whose owners it never heard of.

The gateway authenticates from its own view of keys, fed by `identity.apikey.*` events; a key
created a moment ago may not have reached it. On a miss it asks identity once (bounded per
replica, remembered negatively for a while), so a new key works the moment it exists.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from skiff_contracts.events.identity import ApiKeyState

API_KEY_LOOKUP_SUBJECT = "rpc.identity.apikeys.lookup"


class ApiKeyLookup(msgspec.Struct, frozen=True, kw_only=True):
    """The SHA-256 (hex) of a raw key as presented: its current or its in-grace secret."""

    secret_hash: str


class ApiKeyLookupReply(msgspec.Struct, frozen=True, kw_only=True):
    """The key's whole state (as its events carry it), or None: no key has that secret."""

    state: ApiKeyState | None


ORGANIZATION_OWNERS_SUBJECT = "rpc.identity.organizations.owners"


class OrganizationOwners(msgspec.Struct, frozen=True, kw_only=True):
    """Who owns an organization: asked by a service whose view of memberships (fed by
    `identity.*` events, kept 7 days on the bus) does not know any owner of it."""

    organization_id: str


class OwnerContact(msgspec.Struct, frozen=True, kw_only=True):
    """An owner and the address their emails go to."""

    user_id: str
    email: str
    name: str


class OrganizationOwnersReply(msgspec.Struct, frozen=True, kw_only=True):
    """The owners as of `as_of` (identity's clock); none for an unknown or deleted organization.

    A membership event stamped later than `as_of` supersedes this answer.
    """

    owners: list[OwnerContact]
    as_of: datetime
