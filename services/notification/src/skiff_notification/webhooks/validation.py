"""What an endpoint may be: its URL (scheme, host, no refused literal address) and event types."""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Address

import httpx
from skiff_contracts.public import WebhookPing, public_event_types
from skiff_kit.errors import ValidationFailed

from skiff_notification.webhooks.ssrf import AddressPolicy, ip_literal

ALL_EVENTS = "*"
SUBSCRIBABLE = frozenset(public_event_types()) - {WebhookPing.event_type}
_LOOPBACK = IPv4Address("127.0.0.1")


def checked_url(url: str, *, policy: AddressPolicy, allow_http: bool) -> str:
    """The URL if a webhook may be sent there; 400 `url_not_allowed` saying why otherwise.

    Only what the URL itself shows is judged here; the address each attempt connects to is
    judged again when it is sent (a name can resolve anywhere).
    """
    try:
        parsed = httpx.URL(url.strip())
    except httpx.InvalidURL as exc:
        raise _refused(f"not a URL: {exc}") from None
    schemes = ("https", "http") if allow_http else ("https",)
    if parsed.scheme not in schemes:
        raise _refused(f"the scheme must be {' or '.join(schemes)}")
    if not parsed.host:
        raise _refused("the URL has no host")
    if parsed.userinfo:
        raise _refused("credentials in the URL are not allowed; check the signature instead")
    literal = ip_literal(parsed.host)
    host = parsed.host.lower().rstrip(".")
    if literal is None and (host == "localhost" or host.endswith(".localhost")):
        literal = _LOOPBACK
    if literal is not None and (reason := policy.refusal(literal)) is not None:
        raise _refused(f"{parsed.host} is a {reason} address")
    return str(parsed)


def checked_events(events: Sequence[str]) -> list[str]:
    """`["*"]`, or known public event types without repeats; 400 naming unknown ones."""
    unique = list(dict.fromkeys(events))
    if ALL_EVENTS in unique:
        if len(unique) > 1:
            raise ValidationFailed(
                "`*` already takes every event type; send it alone.",
                code="validation_error",
                details={"fields": [{"field": "events", "message": "`*` must be alone"}]},
            )
        return unique
    unknown = [name for name in unique if name not in SUBSCRIBABLE]
    if unknown:
        raise ValidationFailed(
            f"Unknown event types: {', '.join(unknown)}. GET /api/v1/event-types lists them.",
            code="unknown_event_types",
            details={
                "fields": [{"field": "events", "message": f"unknown: {', '.join(unknown)}"}],
                "unknown": unknown,
            },
        )
    return unique


def _refused(reason: str) -> ValidationFailed:
    return ValidationFailed(
        f"This URL cannot receive webhooks: {reason}.",
        code="url_not_allowed",
        details={"fields": [{"field": "url", "message": reason}]},
    )
