"""The scopes an API key can hold (the one list), and who may grant which."""

from __future__ import annotations

from collections.abc import Iterable

from skiff_kit.errors import Forbidden, ValidationFailed
from skiff_kit.internal_token import Principal

ALL = "*"

# Each `<resource>:read` / `<resource>:write` pair names what the key may do; `*` is every one.
SCOPES: frozenset[str] = frozenset(
    {
        ALL,
        "sessions:read",
        "sessions:write",
        "deployments:read",
        "deployments:write",
        "workflows:read",
        "workflows:write",
        "billing:read",
        "billing:write",
        "notifications:read",
        "notifications:write",
        "webhooks:read",
        "webhooks:write",
        "apikeys:read",
        "apikeys:write",
        "organization:read",
    }
)

# Users who may create and manage keys; viewers may only read them.
MANAGER_ROLES = frozenset({"owner", "admin", "member"})
# Users who may manage every key of the organization, not only the keys they created.
ADMIN_ROLES = frozenset({"owner", "admin"})


def normalized(scopes: Iterable[str]) -> list[str]:
    """Sorted, de-duplicated, checked against `SCOPES`: 400 `invalid_scopes` naming the bad ones."""
    wanted = sorted(set(scopes))
    unknown = [scope for scope in wanted if scope not in SCOPES]
    if unknown:
        raise ValidationFailed(
            f"Unknown scopes: {', '.join(unknown)}.",
            code="invalid_scopes",
            details={
                "fields": [{"field": "scopes", "message": f"unknown scope {s!r}"} for s in unknown],
                "allowed": sorted(SCOPES),
            },
        )
    if not wanted:
        raise ValidationFailed(
            "A key needs at least one scope.",
            code="invalid_scopes",
            details={"fields": [{"field": "scopes", "message": "must not be empty"}]},
        )
    return [ALL] if ALL in wanted else wanted


def grantable(principal: Principal, scopes: list[str]) -> None:
    """403 `scope_not_grantable` unless the caller holds every scope it gives a key.

    A signed-in manager may grant any scope (a key acts as a `member`, never above them);
    an API key may only hand on scopes it holds itself.
    """
    if principal.via != "api_key" or ALL in principal.scopes:
        return
    beyond = [scope for scope in scopes if scope not in principal.scopes]
    if beyond:
        raise Forbidden(
            f"This key cannot grant scopes it does not hold: {', '.join(beyond)}.",
            code="scope_not_grantable",
            details={"scopes": beyond},
        )


def may_read(principal: Principal) -> None:
    """Any member of the organization may list keys; a key needs `apikeys:read` or `write`."""
    if not (principal.has_scope("apikeys:read") or principal.has_scope("apikeys:write")):
        raise Forbidden("This key lacks the apikeys:read scope.", code="scope_required")


def may_manage(
    principal: Principal, *, key_id: str | None = None, created_by: str | None = None
) -> None:
    """Members and above create keys; a member (or a key) changes only what it created.

    A key may also change itself (roll or rotate its own secret); admins and owners change any.
    """
    if not principal.has_scope("apikeys:write"):
        raise Forbidden("This key lacks the apikeys:write scope.", code="scope_required")
    if principal.role not in MANAGER_ROLES:
        raise Forbidden("Viewers cannot create or change API keys.", code="role_required")
    if key_id is None or principal.role in ADMIN_ROLES:
        return
    actor = principal.api_key_id or principal.user_id
    if actor not in (created_by, key_id):
        raise Forbidden(
            "Only admins can change API keys created by someone else.", code="role_required"
        )
