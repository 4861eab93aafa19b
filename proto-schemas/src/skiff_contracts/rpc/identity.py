"""Identity's request/reply: the gateway looks up a key it has not heard of yet.

The gateway authenticates from its own view of keys, fed by `identity.apikey.*` events; a key
created a moment ago may not have reached it. On a miss it asks identity once (bounded per
replica, remembered negatively for a while), so a new key works the moment it exists.
"""

from __future__ import annotations

import msgspec

from skiff_contracts.events.identity import ApiKeyState

API_KEY_LOOKUP_SUBJECT = "rpc.identity.apikeys.lookup"


class ApiKeyLookup(msgspec.Struct, frozen=True, kw_only=True):
    """The SHA-256 (hex) of a raw key as presented: its current or its in-grace secret."""

    secret_hash: str


class ApiKeyLookupReply(msgspec.Struct, frozen=True, kw_only=True):
    """The key's whole state (as its events carry it), or None: no key has that secret."""

    state: ApiKeyState | None
