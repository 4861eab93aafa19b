"""Which service answers which public path, and which paths need no credentials."""

from __future__ import annotations

from urllib.parse import unquote

API_PREFIX = "/api/v1/"

# First path segment after /api/v1/ → the service that owns it (DESIGN.md, Services).
OWNERS: dict[str, str] = {
    "auth": "identity",
    "organizations": "identity",
    "members": "identity",
    "invites": "identity",
    "api-keys": "identity",
    "audit-log": "identity",
    "credits": "billing",
    "billing": "billing",
    "usage": "billing",
    "sessions": "orchestrator",
    "tasks": "orchestrator",
    "apps": "orchestrator",
    "deployments": "orchestrator",
    "workflows": "orchestrator",
    "triggers": "orchestrator",
    "executions": "orchestrator",
    "notifications": "notification",
    "webhooks": "notification",
    "event-types": "notification",
}

# Inbound third-party webhooks (/webhooks/<segment>/...) carry their own signatures.
WEBHOOK_OWNERS: dict[str, str] = {
    "stripe": "billing",
    "polar": "billing",
    "triggers": "orchestrator",
}

# Reached without credentials (a valid token is still forwarded if one is sent).
ANONYMOUS_PATHS: frozenset[str] = frozenset(
    {
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/verify-email",
        "/api/v1/auth/forgot-password",
        "/api/v1/auth/reset-password",
        # One-click unsubscribe from an email (RFC 8058): the signed token is the credential.
        "/api/v1/notifications/unsubscribe",
    }
)
ANONYMOUS_PREFIXES: tuple[str, ...] = ("/api/v1/auth/oauth/", "/webhooks/")


def has_dot_segment(path: str) -> bool:
    """True if `path` has a `.` or `..` segment (plain or percent-encoded).

    The upstream URL would resolve them (`/webhooks/stripe/../../api/v1/credits` becomes
    `/api/v1/credits`), so the route checked here would not be the route served.
    """
    return any(unquote(segment) in (".", "..") for segment in path.split("/"))


def owner_of(path: str) -> str | None:
    """The service that serves `path`, or None when no service does."""
    if has_dot_segment(path):
        return None
    if path.startswith(API_PREFIX):
        return OWNERS.get(path[len(API_PREFIX) :].split("/", 1)[0])
    if path.startswith("/webhooks/"):
        return WEBHOOK_OWNERS.get(path[len("/webhooks/") :].split("/", 1)[0])
    return None


def is_anonymous(path: str) -> bool:
    """True for routes a caller may reach without credentials."""
    return path in ANONYMOUS_PATHS or path.startswith(ANONYMOUS_PREFIXES)
