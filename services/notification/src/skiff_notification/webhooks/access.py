"""Who may see and change webhook endpoints: members read and write, viewers only read."""

from __future__ import annotations

from skiff_kit.errors import Forbidden
from skiff_kit.internal_token import Principal

READ_SCOPE = "webhooks:read"
WRITE_SCOPE = "webhooks:write"


def may_read(principal: Principal) -> None:
    """Any member reads; an API key needs `webhooks:read` or `webhooks:write`."""
    if not (principal.has_scope(READ_SCOPE) or principal.has_scope(WRITE_SCOPE)):
        raise Forbidden(f"This key lacks the {READ_SCOPE} scope.", code="scope_required")


def may_write(principal: Principal) -> None:
    """Members and above change endpoints and send; a key needs `webhooks:write`."""
    if not principal.has_scope(WRITE_SCOPE):
        raise Forbidden(f"This key lacks the {WRITE_SCOPE} scope.", code="scope_required")
    if principal.role == "viewer":
        raise Forbidden(
            "Viewers cannot change webhook endpoints.",
            code="role_required",
            details={"required": "member", "role": principal.role},
        )
