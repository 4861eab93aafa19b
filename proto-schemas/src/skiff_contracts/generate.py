"""Generate JSON Schema, AsyncAPI 3 and webhook schemas from the event Structs (make contracts)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import msgspec

from skiff_contracts.envelope import Envelope, EventPayload
from skiff_contracts.public import public_event_types, webhook_schema
from skiff_contracts.registry import EVENT_TYPES

GENERATED = Path(__file__).resolve().parents[2] / "generated"
STREAM_OF_SERVICE = {
    "identity": "IDENTITY",
    "billing": "BILLING",
    "orchestrator": "ORCHESTRATOR",
    "sandbox": "SANDBOX",
    "notification": "NOTIFICATION",
    "gateway": "GATEWAY",
}


def schema_name(cls: type[EventPayload]) -> str:
    """The file and component name of an event: `identity.user.registered.v1`."""
    return f"{cls.event_type}.v{cls.event_version}"


def event_schema(cls: type[EventPayload]) -> dict[str, Any]:
    """A standalone JSON Schema of the whole envelope carrying this payload."""
    (_, payload), components = msgspec.json.schema_components(
        [Envelope, cls], ref_template="#/$defs/{name}"
    )
    envelope_def = dict(components.pop("Envelope"))
    properties = dict(envelope_def["properties"])
    properties["type"] = {"const": cls.event_type}
    properties["dataversion"] = {"const": cls.event_version}
    properties["data"] = payload
    envelope_def["properties"] = properties
    envelope_def["required"] = sorted({*envelope_def.get("required", []), "data"})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://skiff.dev/schemas/events/{schema_name(cls)}.json",
        **envelope_def,
        "title": cls.event_type,
        "description": cls.description or (cls.__doc__ or "").strip(),
        "$defs": components,
    }


def asyncapi_document() -> dict[str, Any]:
    """One AsyncAPI 3.0 document: a channel per subject, a send operation per publisher."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for cls in sorted(EVENT_TYPES.values(), key=schema_name):
        key = schema_name(cls).replace(".", "_")
        messages[key] = {
            "name": cls.event_type,
            "title": cls.event_type,
            "summary": cls.description or (cls.__doc__ or "").strip(),
            "contentType": "application/json",
            "payload": {"$ref": f"./jsonschema/{schema_name(cls)}.json"},
        }
        channels[key] = {
            "address": cls.event_type,
            "description": f"JetStream stream {STREAM_OF_SERVICE[cls.event_type.split('.')[0]]}",
            "messages": {key: {"$ref": f"#/components/messages/{key}"}},
        }
        operations[f"publish_{key}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{key}"},
            "messages": [{"$ref": f"#/channels/{key}/messages/{key}"}],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Skiff events",
            "version": "1.0.0",
            "description": "Every event Skiff services publish on NATS JetStream, "
            "as CloudEvents 1.0 envelopes (generated from proto-schemas; do not edit).",
        },
        "defaultContentType": "application/json",
        "servers": {
            "embedded": {"host": "127.0.0.1:4244", "protocol": "nats", "description": "make run"}
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def render() -> dict[Path, str]:
    """Every generated file, by path relative to `generated/`, as its exact text."""
    files = {
        Path(f"jsonschema/{schema_name(cls)}.json"): _dump(event_schema(cls))
        for cls in EVENT_TYPES.values()
    }
    # What webhook receivers get (the event catalog serves the same schemas).
    for cls in public_event_types().values():
        files[Path(f"webhooks/{schema_name(cls)}.json")] = _dump(webhook_schema(cls))
    files[Path("asyncapi.json")] = _dump(asyncapi_document())
    return files


def _dump(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def stale_files(root: Path = GENERATED) -> list[str]:
    """Generated files that are missing, differ, or should no longer exist."""
    expected = render()
    problems = [str(p) for p, text in expected.items() if _read(root / p) != text]
    present = {p.relative_to(root) for p in root.rglob("*.json")} if root.exists() else set()
    problems += [f"{p} (no longer generated)" for p in sorted(present - expected.keys())]
    return problems


def _read(path: Path) -> str | None:
    return path.read_text() if path.exists() else None


def write(root: Path = GENERATED) -> None:
    """Write every generated file and delete the ones no longer generated."""
    expected = render()
    if root.exists():
        for old in root.rglob("*.json"):
            if old.relative_to(root) not in expected:
                old.unlink()
    for relative, text in expected.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)


def main() -> None:
    """`python -m skiff_contracts.generate [--check]`."""
    if "--check" in sys.argv:
        problems = stale_files()
        if problems:
            print("generated contracts are stale; run `make contracts`:", *problems, sep="\n  ")
            raise SystemExit(1)
        return
    write()
    print(f"wrote {len(render())} files to {GENERATED}")


if __name__ == "__main__":
    main()
