"""Collecting per-field validation errors into one 400 `validation_error` (API.md, Errors)."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec
from skiff_kit.errors import ValidationFailed


def json_size(value: object) -> int:
    """Bytes `value` takes as JSON: what it costs on the bus (a control character takes 6)."""
    return len(msgspec.json.encode(value))


class FieldErrors:
    """Every bad field of a body, reported together."""

    def __init__(self) -> None:
        self.fields: list[dict[str, str]] = []

    def add(self, field: str, message: str) -> None:
        self.fields.append({"field": field, "message": message})

    def raise_if_any(self) -> None:
        if self.fields:
            listed = ", ".join(f"{f['field']} {f['message']}" for f in self.fields)
            raise ValidationFailed(f"Validation failed: {listed}", details={"fields": self.fields})


def check_string_map(
    errors: FieldErrors,
    field: str,
    values: Mapping[str, str],
    *,
    max_entries: int,
    max_bytes: int,
) -> None:
    """At most `max_entries` pairs and `max_bytes` as JSON (the form in which it travels)."""
    if len(values) > max_entries:
        errors.add(field, f"has {len(values)} entries; at most {max_entries} are allowed")
    size = json_size(values)
    if size > max_bytes:
        errors.add(field, f"is {size} bytes as JSON; at most {max_bytes} bytes are allowed")
