"""Authenticating from the directory view: API keys, X-Org-Id, live roles, revoked sessions."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
from directory_helpers import evolve, hashed, key_state, raw_key
from gateway_helpers import ACCESS_KEY_ID, AccessTokens
from skiff_contracts.events.identity import (
    ApiKeyDeleted,
    ApiKeyRevoked,
    ApiKeyRolled,
    ApiKeyRotated,
    ApiKeyState,
    ApiKeyUpdated,
)
from skiff_gateway.authentication import Authenticator
from skiff_gateway.directory.records import MemberRecord, SessionsRecord
from skiff_gateway.directory.view import DirectoryView
from skiff_kit.errors import SkiffError
from skiff_kit.internal_token import Principal

RAW = raw_key()


@pytest.fixture(scope="module")
def tokens() -> AccessTokens:
    return AccessTokens()


@pytest.fixture
def view() -> DirectoryView:
    loaded = DirectoryView()
    loaded.loaded = True
    return loaded


@pytest.fixture
def authenticator(tokens: AccessTokens, view: DirectoryView) -> Authenticator:
    return Authenticator.from_json(json.dumps({ACCESS_KEY_ID: tokens.public_key}), view)


def put(view: DirectoryView, state: ApiKeyState) -> None:
    view.apply(f"apikey.{state.key_id}", msgspec.json.encode(state))


def auth(authenticator: Authenticator, path: str = "/api/v1/sessions", **headers: str) -> Any:
    return authenticator.authenticate(headers, path=path, request_id="req_1")


def refusal(authenticator: Authenticator, **headers: str) -> tuple[int, str]:
    with pytest.raises(SkiffError) as raised:
        auth(authenticator, **headers)
    return raised.value.status_code, raised.value.code


@pytest.mark.parametrize("header", ["x-api-key", "authorization"])
def test_a_live_key_acts_in_its_organization_with_its_scopes_and_limit(
    authenticator: Authenticator, view: DirectoryView, header: str
) -> None:
    put(view, key_state(RAW, scopes=["sessions:read"], rate_limit_per_minute=7))
    value = RAW if header == "x-api-key" else f"Bearer {RAW}"

    caller = auth(authenticator, **{header: value})

    assert caller.principal == Principal(
        organization_id="org_acme",
        api_key_id="key_1",
        role="member",
        scopes=("sessions:read",),
        via="api_key",
        request_id="req_1",
    )
    assert caller.rate_limit_per_minute == 7


@pytest.mark.parametrize(
    ("event", "changes", "code"),
    [
        (ApiKeyRevoked, {"revoked": True}, "api_key_revoked"),
        (ApiKeyDeleted, {"deleted": True}, "api_key_revoked"),
        (ApiKeyUpdated, {"active": False}, "api_key_inactive"),
        (
            ApiKeyUpdated,
            {"expires_at": datetime.now(UTC) - timedelta(seconds=1)},
            "api_key_expired",
        ),
    ],
)
def test_a_dead_key_says_why(
    authenticator: Authenticator,
    view: DirectoryView,
    event: type[ApiKeyState],
    changes: dict[str, Any],
    code: str,
) -> None:
    created = key_state(RAW)
    put(view, created)
    assert auth(authenticator, **{"x-api-key": RAW}).principal.api_key_id == "key_1"

    put(view, evolve(created, event, **changes))

    assert refusal(authenticator, **{"x-api-key": RAW}) == (401, code)


def test_an_unknown_key_is_invalid_and_an_unloaded_view_is_503(
    authenticator: Authenticator, view: DirectoryView
) -> None:
    assert refusal(authenticator, **{"x-api-key": raw_key()}) == (401, "invalid_api_key")
    view.loaded = False
    assert refusal(authenticator, **{"x-api-key": raw_key()}) == (503, "api_keys_unavailable")


def test_a_rotated_secret_works_until_its_grace_ends(
    authenticator: Authenticator, view: DirectoryView
) -> None:
    new = raw_key()
    created = key_state(RAW)
    grace = datetime.now(UTC) + timedelta(hours=1)
    rotated = evolve(
        created,
        ApiKeyRotated,
        secret_hash=hashed(new),
        grace_secret_hash=hashed(RAW),
        grace_until=grace,
    )
    put(view, rotated)

    assert auth(authenticator, **{"x-api-key": RAW}).principal.api_key_id == "key_1"
    assert auth(authenticator, **{"x-api-key": new}).principal.api_key_id == "key_1"
    put(view, evolve(rotated, ApiKeyRolled, grace_until=datetime.now(UTC)))
    assert refusal(authenticator, **{"x-api-key": RAW}) == (401, "api_key_rotated")
    assert auth(authenticator, **{"x-api-key": new}).principal.api_key_id == "key_1"


def test_a_key_refuses_another_organization(
    authenticator: Authenticator, view: DirectoryView
) -> None:
    put(view, key_state(RAW))
    assert auth(authenticator, **{"x-api-key": RAW, "x-org-id": "org_acme"}).principal
    assert refusal(authenticator, **{"x-api-key": RAW, "x-org-id": "org_other"}) == (
        403,
        "org_mismatch",
    )


def member(view: DirectoryView, user: str, org: str, role: str | None) -> None:
    record = MemberRecord(role=role, changed_at=datetime.now(UTC))
    view.apply(f"member.{user}.{org}", msgspec.json.encode(record))


def test_x_org_id_needs_a_membership_and_takes_its_role_from_the_view(
    authenticator: Authenticator, view: DirectoryView, tokens: AccessTokens
) -> None:
    bearer = f"Bearer {tokens.mint(user_id='usr_ada', organization_id='org_ada', role='owner')}"

    assert refusal(authenticator, authorization=bearer, **{"x-org-id": "org_b"}) == (
        403,
        "not_a_member",
    )
    assert refusal(authenticator, authorization=bearer, **{"x-org-id": "acme; drop"}) == (
        400,
        "invalid_org_id",
    )
    member(view, "usr_ada", "org_b", "viewer")
    principal = auth(authenticator, authorization=bearer, **{"x-org-id": "org_b"}).principal
    assert (principal.organization_id, principal.role) == ("org_b", "viewer")
    member(view, "usr_ada", "org_b", "admin")
    assert (
        auth(authenticator, authorization=bearer, **{"x-org-id": "org_b"}).principal.role == "admin"
    )
    member(view, "usr_ada", "org_b", None)
    assert refusal(authenticator, authorization=bearer, **{"x-org-id": "org_b"}) == (
        403,
        "not_a_member",
    )


def test_the_default_organization_follows_the_view_when_it_knows_the_member(
    authenticator: Authenticator, view: DirectoryView, tokens: AccessTokens
) -> None:
    bearer = f"Bearer {tokens.mint(user_id='usr_ada', organization_id='org_ada', role='owner')}"
    assert auth(authenticator, authorization=bearer).principal.role == "owner"

    member(view, "usr_ada", "org_ada", "member")
    assert auth(authenticator, authorization=bearer).principal.role == "member"
    member(view, "usr_ada", "org_ada", None)
    assert refusal(authenticator, authorization=bearer) == (403, "not_a_member")


def test_tokens_issued_before_a_session_revocation_are_refused(
    authenticator: Authenticator, view: DirectoryView, tokens: AccessTokens
) -> None:
    now = int(time.time())
    old = f"Bearer {tokens.mint(user_id='usr_ada', iat=now - 60)}"
    fresh = f"Bearer {tokens.mint(user_id='usr_ada', iat=now)}"
    record = SessionsRecord(revoked_before=datetime.fromtimestamp(now - 1, UTC))
    view.apply("sessions.usr_ada", msgspec.json.encode(record))

    assert refusal(authenticator, authorization=old) == (401, "session_revoked")
    assert auth(authenticator, authorization=fresh).principal.user_id == "usr_ada"


def test_bad_credentials_on_an_open_route_make_an_anonymous_caller(
    authenticator: Authenticator,
) -> None:
    caller = auth(authenticator, path="/api/v1/auth/login", **{"x-api-key": raw_key()})
    assert caller.principal.via == "anonymous"
