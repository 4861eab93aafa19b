"""Who may read and who may change one area of the API (sessions, billing, webhooks...).

Every member reads (viewers too); an API key reads with `<area>:read` or `<area>:write`.
Writing needs `<area>:write` and a role of at least `minimum` (member by default: viewers
only read). A refusal is a 403 whose `code` says which rule refused it.
"""

from __future__ import annotations

from skiff_kit.errors import Forbidden
from skiff_kit.internal_token import Principal

RANK = {"viewer": 1, "member": 2, "admin": 3, "owner": 4}


class Access:
    """The read and write rules of one area; `doing` completes "Viewers cannot ..."."""

    def __init__(self, area: str, *, doing: str) -> None:
        self.read_scope = f"{area}:read"
        self.write_scope = f"{area}:write"
        self.doing = doing

    def may_read(self, principal: Principal) -> None:
        if not (principal.has_scope(self.read_scope) or principal.has_scope(self.write_scope)):
            raise Forbidden(f"This key lacks the {self.read_scope} scope.", code="scope_required")

    def may_write(self, principal: Principal, *, minimum: str = "member") -> None:
        if not principal.has_scope(self.write_scope):
            raise Forbidden(f"This key lacks the {self.write_scope} scope.", code="scope_required")
        if RANK.get(principal.role, 0) < RANK[minimum]:
            message = (
                f"Viewers cannot {self.doing}."
                if minimum == "member"
                else f"This needs the {minimum} role or above."
            )
            raise Forbidden(
                message,
                code="role_required",
                details={"required": minimum, "role": principal.role},
            )
