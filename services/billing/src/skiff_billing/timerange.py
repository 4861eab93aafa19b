"""`?start=&end=` query values: an RFC 3339 time or a date (UTC midnight); 400 otherwise."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from skiff_kit.errors import ValidationFailed


def bad(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        f"Validation failed: {field} {message}",
        details={"fields": [{"field": field, "message": message}]},
    )


def parse(field: str, value: str | None) -> datetime | None:
    """`value` as an aware UTC datetime (a bare date is its midnight); None when absent."""
    if value is None or value == "":
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), UTC)
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise bad(field, "is not an RFC 3339 time or a YYYY-MM-DD date") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def window(start: str | None, end: str | None) -> tuple[datetime | None, datetime | None]:
    """Both ends parsed; 400 when `start` is after `end`."""
    since, until = parse("start", start), parse("end", end)
    if since is not None and until is not None and since > until:
        raise bad("start", "is after end")
    return since, until
