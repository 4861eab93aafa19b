"""Who may read and who may change sessions and tasks: viewers and read-only keys only read."""

from __future__ import annotations

from skiff_kit.access import Access
from skiff_kit.internal_token import Principal

SESSIONS = Access("sessions", doing="start, change or use sessions")
may_read = SESSIONS.may_read
may_write = SESSIONS.may_write


def actor_of(principal: Principal) -> str | None:
    """Who did it, for the record: the user, or the API key."""
    return principal.user_id or principal.api_key_id
