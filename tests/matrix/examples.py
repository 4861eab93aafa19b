"""Minimal valid requests for an operation, so authorization (not validation) decides the answer.

A service validates the body before its handler checks the caller, so a 400 would hide a
missing 403 or 404. Bodies come from the schema (required fields only) with a few explicit
ones where a schema cannot say what is valid (an email, a role that changes something).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.matrix.operations import Document, Operation

# Bodies a schema cannot express; keyed by "METHOD /path/template".
BODIES: dict[str, Any] = {
    "POST /api/v1/members": lambda: {"email": _email(), "role": "member"},
    "PATCH /api/v1/members/{user_id}": lambda: {"role": "admin"},
    "POST /api/v1/invites": lambda: {"email": _email(), "role": "member"},
    "POST /api/v1/api-keys": lambda: {"name": "matrix"},
    "PATCH /api/v1/api-keys/{key_id}": lambda: {"name": "renamed"},
    "POST /api/v1/api-keys/{key_id}/rotate": lambda: {"grace_hours": 1},
    "PATCH /api/v1/organizations/current": lambda: {"name": "Renamed"},
    "POST /api/v1/organizations": lambda: {"name": "Another"},
    "PATCH /api/v1/notifications/{notification_id}": lambda: {"read": True},
    "POST /api/v1/auth/logout": lambda: {"all_devices": False},
    "POST /api/v1/billing/checkout": lambda: {"package_id": "pkg_1000"},
    "PUT /api/v1/billing/auto-topup": lambda: {"enabled": False},
    # A receiver address the test stack allows (loopback); nothing listens on the discard port.
    "POST /api/v1/webhooks": lambda: {"url": "http://127.0.0.1:9/matrix", "events": ["*"]},
    "PATCH /api/v1/webhooks/{endpoint_id}": lambda: {"description": "renamed"},
    "POST /api/v1/webhooks/{endpoint_id}/recover": lambda: {
        "since": (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    },
}


def _email() -> str:
    return f"matrix-{uuid.uuid4().hex[:12]}@example.com"


def resolve(document: Document, schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with a top-level `$ref` followed."""
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def example(document: Document, schema: dict[str, Any], name: str = "") -> Any:
    """The smallest value `schema` accepts, with required object fields only."""
    schema = resolve(document, schema)
    for key in ("oneOf", "anyOf"):
        if key in schema:
            choices = [c for c in schema[key] if resolve(document, c).get("type") != "null"]
            merged = {**{k: v for k, v in schema.items() if k != key}, **(choices or [{}])[0]}
            return example(document, merged, name)
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object":
        properties = schema.get("properties", {})
        return {
            field: example(document, properties.get(field, {}), field)
            for field in schema.get("required", [])
        }
    if kind == "array":
        item = schema.get("items", {})
        return [example(document, item, name) for _ in range(schema.get("minItems", 0))]
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "number":
        return float(schema.get("minimum", 1))
    if kind == "boolean":
        return False
    if kind == "string":
        return _string(schema, name)
    return None


def _string(schema: dict[str, Any], name: str) -> str:
    if schema.get("format") == "date-time":
        return (datetime.now(UTC) + timedelta(days=1)).isoformat()
    if schema.get("format") == "email" or name == "email":
        return _email()
    if name == "path":
        return "/"
    return "x" * max(int(schema.get("minLength", 1)), 1)


def body(document: Document, operation: Operation) -> Any:
    """A valid JSON body of the operation, or None when it takes none."""
    explicit = BODIES.get(operation.id)
    if explicit is not None:
        return explicit()
    schema = operation.body_schema()
    return None if schema is None else example(document, schema)


def query(document: Document, operation: Operation) -> dict[str, Any]:
    """A value for each required query parameter."""
    return {
        parameter["name"]: example(document, parameter.get("schema", {}), parameter["name"])
        for parameter in operation.required_query()
    }
