"""Collecting per-field validation errors into one 400 `validation_error` (API.md, Errors)."""

from __future__ import annotations

from collections.abc import Mapping

from skiff_kit.errors import ValidationFailed


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
    """At most `max_entries` pairs and `max_bytes` of keys and values together."""
    if len(values) > max_entries:
        errors.add(field, f"has {len(values)} entries; at most {max_entries} are allowed")
    size = sum(len(k.encode()) + len(v.encode()) for k, v in values.items())
    if size > max_bytes:
        errors.add(field, f"is {size} bytes; at most {max_bytes} bytes are allowed")
