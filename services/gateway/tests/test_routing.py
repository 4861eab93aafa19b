"""The routing table: which service owns a public path, and which paths need no credentials."""

from __future__ import annotations

import pytest
from skiff_gateway.routing import (
    ANONYMOUS_PATHS,
    OWNERS,
    WEBHOOK_OWNERS,
    has_dot_segment,
    is_anonymous,
    owner_of,
)
from skiff_kit.catalog import SERVICES


@pytest.mark.parametrize(
    ("path", "owner"),
    [
        ("/api/v1/auth/login", "identity"),
        ("/api/v1/auth", "identity"),
        ("/api/v1/organizations/current", "identity"),
        ("/api/v1/members/usr_1", "identity"),
        ("/api/v1/invites/tok/accept", "identity"),
        ("/api/v1/api-keys/key_1/rotate", "identity"),
        ("/api/v1/audit-log", "identity"),
        ("/api/v1/credits/balance", "billing"),
        ("/api/v1/billing/checkout", "billing"),
        ("/api/v1/usage/chart", "billing"),
        ("/api/v1/sessions/ses_1/tasks", "orchestrator"),
        ("/api/v1/tasks/tsk_1/stream", "orchestrator"),
        ("/api/v1/apps/app_1/packages", "orchestrator"),
        ("/api/v1/deployments/queue/stats", "orchestrator"),
        ("/api/v1/workflows/wf_1/run", "orchestrator"),
        ("/api/v1/triggers", "orchestrator"),
        ("/api/v1/executions", "orchestrator"),
        ("/api/v1/notifications/unread-count", "notification"),
        ("/api/v1/webhooks/wh_1/deliveries", "notification"),
        ("/api/v1/event-types", "notification"),
        ("/webhooks/stripe", "billing"),
        ("/webhooks/polar", "billing"),
        ("/webhooks/triggers/nightly-build", "orchestrator"),
    ],
)
def test_each_public_path_has_its_owner(path: str, owner: str) -> None:
    assert owner_of(path) == owner


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/api/v1",
        "/api/v1/",
        "/api/v1/nothing-here",
        "/api/v1/authx/login",
        "/api/v2/auth/login",
        "/api/v1auth/login",
        "/webhooks/",
        "/webhooks/paypal",
        "/webhooksx/stripe",
        "/health",
        "/webhooks/stripe/../../api/v1/credits/balance",
        "/api/v1/auth/oauth/%2E%2e/%2e%2e/api-keys",
        "/api/v1/credits/./balance",
        "/api/v1/credits/..",
    ],
)
def test_paths_no_service_owns_have_no_owner(path: str) -> None:
    assert owner_of(path) is None


def test_every_owner_is_a_service_the_runtime_starts() -> None:
    services = {spec.name for spec in SERVICES} - {"gateway"}

    assert set(OWNERS.values()) | set(WEBHOOK_OWNERS.values()) <= services


@pytest.mark.parametrize(
    "path",
    [
        *sorted(ANONYMOUS_PATHS),
        "/api/v1/auth/oauth/github/authorize",
        "/api/v1/auth/oauth/google/callback",
        "/webhooks/stripe",
        "/webhooks/triggers/nightly-build",
    ],
)
def test_sign_in_routes_and_inbound_webhooks_are_anonymous(path: str) -> None:
    assert is_anonymous(path)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/auth/me",
        "/api/v1/auth/logout",
        "/api/v1/auth/login-as",
        "/api/v1/auth/loginx",
        "/api/v1/auth/oauth",
        "/api/v1/credits/balance",
        "/api/v1/webhooks",
        "/api/v1/sessions",
        "/api/v1/api-keys",
    ],
)
def test_everything_else_needs_credentials(path: str) -> None:
    assert not is_anonymous(path)


@pytest.mark.parametrize(
    ("path", "dotted"),
    [
        ("/api/v1/../v1/credits", True),
        ("/api/v1/credits/.", True),
        ("/api/v1/%2e%2e/credits", True),
        ("/api/v1/apps/my.app/packages", False),
        ("/api/v1/apps/.../packages", False),
        ("/api/v1/apps/..app", False),
        ("/api/v1/sessions/ses_1/files?path=../x", False),
    ],
)
def test_dot_segments_are_whole_segments(path: str, dotted: bool) -> None:
    assert has_dot_segment(path) is dotted
