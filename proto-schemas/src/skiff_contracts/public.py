"""Which events leave Skiff (webhooks, the event catalog) and what of them a customer may see.

Every event of a public source (`identity`, `billing`, `orchestrator`, `sandbox`) is public
unless it is listed in `INTERNAL_EVENT_TYPES`, so a new event type becomes a webhook without
anyone editing the notification service. `PRIVATE_FIELDS` names the fields of a public event
that stay inside (secrets, capabilities); they are cut from the payload sent and from the
schema published.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import msgspec

from skiff_contracts.envelope import EventPayload
from skiff_contracts.registry import EVENT_TYPES

PUBLIC_SOURCES: tuple[str, ...] = ("identity", "billing", "orchestrator", "sandbox")

# Event types of a public source that never leave Skiff, each with the reason.
INTERNAL_EVENT_TYPES: dict[str, str] = {
    "identity.email_verification.requested": "carries the emailed token; about a user, not an org",
    "identity.password_reset.requested": "carries the emailed token; about a user, not an org",
    "identity.session.revoked": "about a user's sign-ins, not an organization",
    "sandbox.session.usage": "per-minute metering for billing (billing.usage.charged is public)",
}

# Fields (dotted for a nested Struct) cut from the public payload of an event type.
_API_KEY_SECRETS = frozenset({"secret_hash", "grace_secret_hash"})
PRIVATE_FIELDS: dict[str, frozenset[str]] = {
    "identity.invite.created": frozenset({"token"}),
    "orchestrator.session.requested": frozenset({"spec.env"}),  # env values may be secrets
    **{
        f"identity.apikey.{verb}": _API_KEY_SECRETS
        for verb in ("created", "updated", "rotated", "rolled", "revoked", "deleted")
    },
}


class WebhookPing(EventPayload, frozen=True, kw_only=True):
    """What `POST /webhooks/{id}/test` sends; never on the bus."""

    event_type: ClassVar[str] = "skiff.ping"
    description: ClassVar[str] = "A test message sent on request to one endpoint."

    endpoint_id: str
    organization_id: str
    message: str
    sent_at: datetime


def is_public(event_type: str) -> bool:
    """Whether events of this type are sent to webhook endpoints."""
    source = event_type.split(".", 1)[0]
    return source in PUBLIC_SOURCES and event_type not in INTERNAL_EVENT_TYPES


def public_event_types() -> dict[str, type[EventPayload]]:
    """Every public event type (its newest version) by name, sorted, plus `skiff.ping`."""
    newest: dict[str, type[EventPayload]] = {}
    for (name, version), cls in sorted(EVENT_TYPES.items()):
        if is_public(name) and version >= getattr(newest.get(name), "event_version", 0):
            newest[name] = cls
    newest[WebhookPing.event_type] = WebhookPing
    return dict(sorted(newest.items()))


def public_data(event_type: str, payload: EventPayload) -> dict[str, Any]:
    """The payload as plain JSON values, without the type's private fields."""
    data: dict[str, Any] = msgspec.to_builtins(payload)
    for dotted in PRIVATE_FIELDS.get(event_type, ()):
        *parents, leaf = dotted.split(".")
        node: Any = data
        for parent in parents:
            node = node.get(parent) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(leaf, None)
    return data


def webhook_schema(cls: type[EventPayload]) -> dict[str, Any]:
    """The JSON Schema of a webhook body `{type, timestamp, data}` carrying this payload."""
    (data_ref,), defs = msgspec.json.schema_components([cls], ref_template="#/$defs/{name}")
    _mark_times(cls, defs)
    for dotted in PRIVATE_FIELDS.get(cls.event_type, ()):
        _drop_property(defs, data_ref, dotted.split("."))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://skiff.dev/schemas/webhooks/{cls.event_type}.v{cls.event_version}.json",
        "title": cls.event_type,
        "description": cls.description or (cls.__doc__ or "").strip(),
        "type": "object",
        "properties": {
            "type": {"const": cls.event_type},
            "timestamp": {"type": "string", "format": "date-time"},
            "data": data_ref,
        },
        "required": ["type", "timestamp", "data"],
        "$defs": defs,
    }


def _mark_times(cls: type[msgspec.Struct], defs: dict[str, Any]) -> None:
    """Add `format: date-time` (or `date`) where a field holds one: msgspec leaves it out."""
    seen: set[type[Any]] = set()
    pending: list[Any] = [msgspec.inspect.type_info(cls)]
    while pending:
        info = pending.pop()
        if not isinstance(info, msgspec.inspect.StructType) or info.cls in seen:
            continue
        seen.add(info.cls)
        properties = defs.get(info.cls.__name__, {}).get("properties", {})
        for field in info.fields:
            for kind in _variants(field.type):
                fmt = _FORMATS.get(type(kind))
                target = properties.get(field.encode_name, {})
                for option in target.get("anyOf", [target]):
                    if fmt and option.get("type") == "string":
                        option["format"] = fmt
                pending.append(kind)
                if isinstance(kind, msgspec.inspect.ListType):
                    pending.append(kind.item_type)
                elif isinstance(kind, msgspec.inspect.DictType):
                    pending.append(kind.value_type)


_FORMATS: dict[type[Any], str] = {
    msgspec.inspect.DateTimeType: "date-time",
    msgspec.inspect.DateType: "date",
}


def _variants(info: Any) -> list[Any]:
    return list(info.types) if isinstance(info, msgspec.inspect.UnionType) else [info]


def _drop_property(defs: dict[str, Any], ref: dict[str, Any], path: list[str]) -> None:
    definition = defs[ref["$ref"].rsplit("/", 1)[-1]]
    head, *rest = path
    if rest:
        _drop_property(defs, definition["properties"][head], rest)
        return
    definition["properties"].pop(head, None)
    if head in definition.get("required", []):
        definition["required"] = [name for name in definition["required"] if name != head]
