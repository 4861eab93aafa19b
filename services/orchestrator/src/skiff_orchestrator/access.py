"""Who may read and who may change sessions and tasks: viewers and read-only keys only read."""

from __future__ import annotations

from skiff_kit.errors import Forbidden
from skiff_kit.internal_token import Principal

READ_SCOPE = "sessions:read"
WRITE_SCOPE = "sessions:write"


def may_read(principal: Principal) -> None:
    """Any member reads; an API key needs `sessions:read` or `sessions:write`."""
    if not (principal.has_scope(READ_SCOPE) or principal.has_scope(WRITE_SCOPE)):
        raise Forbidden(f"This key lacks the {READ_SCOPE} scope.", code="scope_required")


def may_write(principal: Principal) -> None:
    """Members and above start, stop and use sessions; a key needs `sessions:write`."""
    if not principal.has_scope(WRITE_SCOPE):
        raise Forbidden(f"This key lacks the {WRITE_SCOPE} scope.", code="scope_required")
    if principal.role == "viewer":
        raise Forbidden(
            "Viewers cannot start, change or use sessions.",
            code="role_required",
            details={"required": "member", "role": principal.role},
        )


def actor_of(principal: Principal) -> str | None:
    """Who did it, for the record: the user, or the API key."""
    return principal.user_id or principal.api_key_id
