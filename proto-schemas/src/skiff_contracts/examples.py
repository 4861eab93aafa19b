"""An example value for any schema `webhook_schema` makes: realistic ids, fixed times.

Generated from the schema itself, so a new event type gets an example that validates without
anyone writing one; a test validates every example against its schema.
"""

from __future__ import annotations

from typing import Any

from skiff_contracts.envelope import EventPayload
from skiff_contracts.public import webhook_schema

EXAMPLE_TIME = "2025-01-15T09:30:00Z"
# The id prefixes of API.md (Conventions), by the field that holds them.
_ID_PREFIXES = {
    "organization_id": "org",
    "user_id": "usr",
    "owner_user_id": "usr",
    "invited_by": "usr",
    "created_by": "usr",
    "key_id": "key",
    "session_id": "ses",
    "task_id": "tsk",
    "transaction_id": "txn",
    "invite_id": "inv",
    "account_id": "acc",
    "endpoint_id": "wh",
    "notification_id": "ntf",
    "purchase_id": "pur",
    "deployment_id": "dep",
    "app_id": "app",
    "package_id": "pkg",
}
_ID_BODY = "01jhexmp1e0000000000000000"
# Strings whose generic "example <field>" would read wrong in the catalog (API.md's values).
_WORDS = {
    "version": "1.4.0",
    "environment": "production",
    "failed_step": "validate_package",
}


def example_body(cls: type[EventPayload]) -> dict[str, Any]:
    """A webhook body `{type, timestamp, data}` of this event type that fits its schema."""
    schema = webhook_schema(cls)
    example = value_of(schema, schema["$defs"], "")
    assert isinstance(example, dict)
    return example


def value_of(schema: dict[str, Any], defs: dict[str, Any], name: str) -> Any:
    """The example of one (sub)schema; `name` is the property it is for."""
    if "$ref" in schema:
        return value_of(defs[schema["$ref"].rsplit("/", 1)[-1]], defs, name)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            choices = [c for c in schema[key] if c.get("type") != "null"]
            return value_of(choices[0] if choices else {"type": "null"}, defs, name)
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return {field: value_of(sub, defs, field) for field, sub in properties.items()}
    if kind == "array":
        return [value_of(schema.get("items", {}), defs, name.rstrip("s"))]
    return _scalar(kind, schema, name)


def _scalar(kind: Any, schema: dict[str, Any], name: str) -> Any:
    if kind == "string":
        return _string(schema, name)
    if kind == "integer":
        return max(int(schema.get("minimum", 0)), 100 if "balance" in name else 1)
    if kind == "number":
        return float(schema.get("minimum", 0)) + 1.5
    if kind == "boolean":
        return False
    return None


def _string(schema: dict[str, Any], name: str) -> str:
    fmt = schema.get("format")
    if fmt == "date-time":
        return EXAMPLE_TIME
    if fmt == "date":
        return EXAMPLE_TIME[:10]
    if name in _WORDS:
        return _WORDS[name]
    if name in _ID_PREFIXES:
        return f"{_ID_PREFIXES[name]}_{_ID_BODY}"
    if name.endswith("email"):
        return "ada@example.com"
    return f"example {name}".strip() if name else "example"
