"""Fields a client must never set: ownership, roles, money, ids and server times.

Each write is sent with its valid body plus every such field its schema does not declare;
the service must refuse the body (400) or ignore the fields (nothing of them in the answer).
"""

from __future__ import annotations

from typing import Any

from tests.matrix import examples
from tests.matrix.operations import Document, Operation


def smuggled(foreign_organization: str, foreign_user: str) -> dict[str, Any]:
    """Values an attacker would like applied: another organization's, or privileges."""
    return {
        "organization_id": foreign_organization,
        "org_id": foreign_organization,
        "user_id": foreign_user,
        "owner_id": foreign_user,
        "created_by": foreign_user,
        "id": "usr_smuggled0000000000000000",
        "role": "owner",
        "roles": ["owner"],
        "is_admin": True,
        "is_superuser": True,
        "email_verified": True,
        "verified_at": "2000-01-01T00:00:00Z",
        "credits": 1_000_000,
        "balance": 1_000_000,
        "plan": "enterprise",
        "created_at": "2000-01-01T00:00:00Z",
        "updated_at": "2000-01-01T00:00:00Z",
        "revoked_at": None,
        "deleted_at": None,
        "secret_hash": "0" * 64,
        "prefix": "sk_live_",
    }


def declared_fields(document: Document, operation: Operation) -> set[str]:
    """The fields the operation's body schema declares (those are the route's to judge)."""
    schema = operation.body_schema()
    if schema is None:
        return set()
    schema = examples.resolve(document, schema)
    for key in ("oneOf", "anyOf"):
        for choice in schema.get(key, []):
            resolved = examples.resolve(document, choice)
            if resolved.get("type") == "object":
                schema = resolved
    return set(schema.get("properties", {}))


def takes_object_body(document: Document, operation: Operation) -> bool:
    return isinstance(examples.body(document, operation), dict)


def echoed(answer: Any, injected: dict[str, Any]) -> list[str]:
    """Injected fields whose value the answer carries back anywhere (a sign it was applied)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in injected and _distinctive(injected[key]) and value == injected[key]:
                    found.append(key)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(answer)
    return found


def _distinctive(value: Any) -> bool:
    """A value no honest answer would carry by chance (not a flag, a role or a prefix)."""
    common = (None, "owner", ["owner"], "enterprise", "sk_live_")
    return not isinstance(value, bool) and value not in common
