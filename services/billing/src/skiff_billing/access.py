"""Who may read and who may change billing: scopes of keys, roles of members."""

from __future__ import annotations

from skiff_kit.errors import Forbidden
from skiff_kit.internal_token import Principal

READ_SCOPE = "billing:read"
WRITE_SCOPE = "billing:write"
RANK = {"viewer": 1, "member": 2, "admin": 3, "owner": 4}


def may_read(principal: Principal) -> None:
    """Every member reads (viewers too); a key needs `billing:read` or `billing:write`."""
    if not (principal.has_scope(READ_SCOPE) or principal.has_scope(WRITE_SCOPE)):
        raise Forbidden(f"This key lacks the {READ_SCOPE} scope.", code="scope_required")


def may_write(principal: Principal, *, minimum: str = "member") -> None:
    """Members buy credits (a key needs `billing:write`); settings and the portal need admin."""
    if not principal.has_scope(WRITE_SCOPE):
        raise Forbidden(f"This key lacks the {WRITE_SCOPE} scope.", code="scope_required")
    if RANK.get(principal.role, 0) < RANK[minimum]:
        raise Forbidden(
            f"This needs the {minimum} role or above.",
            code="role_required",
            details={"required": minimum, "role": principal.role},
        )
