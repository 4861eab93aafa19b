"""What the directory bucket holds: one record per key, membership and user, with its rank.

Keys of the bucket: `apikey.<key_id>`, `member.<user_id>.<org_id>`, `sessions.<user_id>`. A
record replaces the stored one only if it ranks higher, so late or repeated events are harmless.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
from skiff_contracts.events.identity import (
    API_KEY_EVENTS,
    ApiKeyState,
    MembershipChanged,
    OrganizationCreated,
    UserSessionsRevoked,
)

BUCKET = "skiff_gateway_directory"


class MemberRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A user's role in an organization; `role` None once they were removed."""

    role: str | None
    changed_at: datetime
    seq: int = 0  # the event's stream sequence: breaks ties between equal times


class SessionsRecord(msgspec.Struct, frozen=True, kw_only=True):
    """Every access token of the user issued before `revoked_before` is dead."""

    revoked_before: datetime


Rank = tuple[float, int]


def rank_of(kv_key: str, value: bytes) -> Rank:
    """How recent a stored record is; a new record is written only if it ranks higher."""
    kind = kv_key.split(".", 1)[0]
    if kind == "apikey":
        return (float(msgspec.json.decode(value, type=ApiKeyState).version), 0)
    if kind == "member":
        member = msgspec.json.decode(value, type=MemberRecord)
        return (member.changed_at.timestamp(), member.seq)
    sessions = msgspec.json.decode(value, type=SessionsRecord)
    return (sessions.revoked_before.timestamp(), 0)


def record_of(payload: object, *, seq: int) -> tuple[str, bytes, Rank] | None:
    """The bucket key, value and rank an identity event leads to (None: nothing to keep)."""
    if isinstance(payload, ApiKeyState):
        # Stored as the base state: the event's subclass is not part of what the view needs.
        state = msgspec.convert(msgspec.to_builtins(payload), ApiKeyState)
        return f"apikey.{payload.key_id}", msgspec.json.encode(state), (float(payload.version), 0)
    if isinstance(payload, MembershipChanged):
        member = MemberRecord(role=payload.role, changed_at=payload.changed_at, seq=seq)
        key = f"member.{payload.user_id}.{payload.organization_id}"
        return key, msgspec.json.encode(member), (payload.changed_at.timestamp(), seq)
    if isinstance(payload, OrganizationCreated):
        owner = MemberRecord(role="owner", changed_at=payload.created_at, seq=seq)
        key = f"member.{payload.owner_user_id}.{payload.organization_id}"
        return key, msgspec.json.encode(owner), (payload.created_at.timestamp(), seq)
    if isinstance(payload, UserSessionsRevoked):
        sessions = SessionsRecord(revoked_before=payload.revoked_before)
        rank = (payload.revoked_before.timestamp(), 0)
        return f"sessions.{payload.user_id}", msgspec.json.encode(sessions), rank
    return None


# Event type → payload Struct of every event the projector reads.
HANDLED: dict[str, type[msgspec.Struct]] = {
    cls.event_type: cls
    for cls in (*API_KEY_EVENTS, MembershipChanged, OrganizationCreated, UserSessionsRevoked)
}
