"""Roles and who may do what to whom: owner > admin > member > viewer."""

from __future__ import annotations

from typing import Literal

from skiff_kit.errors import Forbidden

Role = Literal["owner", "admin", "member", "viewer"]
RANK: dict[str, int] = {"viewer": 1, "member": 2, "admin": 3, "owner": 4}


def at_least(role: str, minimum: Role) -> bool:
    """True if `role` ranks at or above `minimum` (an unknown role ranks below all)."""
    return RANK.get(role, 0) >= RANK[minimum]


def require(role: str, minimum: Role, *, doing: str) -> None:
    """403 `role_required` unless `role` is at least `minimum`."""
    if not at_least(role, minimum):
        raise Forbidden(
            f"Only {minimum}s and above can {doing}.",
            code="role_required",
            details={"required": minimum, "role": role},
        )


def require_grant(actor_role: str, granted: str) -> None:
    """Nobody grants a role above their own (so only an owner makes owners)."""
    if RANK.get(granted, 0) > RANK.get(actor_role, 0):
        raise Forbidden(
            f"You cannot grant the role {granted}, which is above your own ({actor_role}).",
            code="role_required",
            details={"required": granted, "role": actor_role},
        )


def require_manage(actor_role: str, target_role: str) -> None:
    """Only an owner changes or removes an owner."""
    if target_role == "owner" and actor_role != "owner":
        raise Forbidden(
            "Only an owner can change or remove an owner.",
            code="role_required",
            details={"required": "owner", "role": actor_role},
        )
