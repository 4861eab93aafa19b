"""Verified access tokens are remembered, but never past their expiry or a revocation."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from gateway_helpers import ACCESS_KEY_ID, AccessTokens
from skiff_gateway.authentication import Authenticated, Authenticator, VerifiedTokens
from skiff_gateway.directory.records import SessionsRecord
from skiff_gateway.directory.view import DirectoryView
from skiff_kit.errors import SkiffError

PATH = "/api/v1/sessions"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def authenticator(access_tokens: AccessTokens, clock: Clock) -> Authenticator:
    return Authenticator(
        {ACCESS_KEY_ID: access_tokens.public_key},
        DirectoryView(),
        verified=VerifiedTokens(capacity=3, clock=clock),
    )


def bearer(authenticator: Authenticator, token: str) -> Authenticated:
    return authenticator.authenticate(
        {"authorization": f"Bearer {token}"}, path=PATH, request_id="req_1"
    )


def refusal(authenticator: Authenticator, token: str) -> tuple[int, str]:
    with pytest.raises(SkiffError) as raised:
        bearer(authenticator, token)
    return raised.value.status_code, raised.value.code


def forget_the_signing_keys(authenticator: Authenticator) -> None:
    """From now on only a remembered token can pass: a fresh verification has no key."""
    authenticator._keys.clear()


def test_a_verified_token_is_served_from_memory_afterwards(
    authenticator: Authenticator, access_tokens: AccessTokens
) -> None:
    token = access_tokens.mint(user_id="usr_ada", organization_id="org_ada", role="admin")
    first = bearer(authenticator, token)

    forget_the_signing_keys(authenticator)

    assert bearer(authenticator, token) == first
    assert first.principal.user_id == "usr_ada"
    assert refusal(authenticator, access_tokens.mint(user_id="usr_bob")) == (401, "invalid_token")


def test_an_expired_token_is_refused_although_it_was_remembered(
    authenticator: Authenticator, access_tokens: AccessTokens, clock: Clock
) -> None:
    token = access_tokens.mint(expires_in=60)
    bearer(authenticator, token)
    forget_the_signing_keys(authenticator)
    exp = float(authenticator.verified._claims[token][0])

    clock.now = exp - 1
    assert bearer(authenticator, token).principal.user_id == "usr_ada"
    clock.now = exp  # the `exp` second itself is already too late, as PyJWT says

    assert refusal(authenticator, token) == (401, "token_expired")
    assert len(authenticator.verified) == 0


def test_a_revoked_session_is_refused_although_its_token_was_remembered(
    authenticator: Authenticator, access_tokens: AccessTokens
) -> None:
    now = int(time.time())
    token = access_tokens.mint(user_id="usr_ada", iat=now - 60)
    bearer(authenticator, token)
    assert len(authenticator.verified) == 1

    record = SessionsRecord(revoked_before=datetime.fromtimestamp(now - 1, UTC))
    authenticator.directory.apply("sessions.usr_ada", msgspec.json.encode(record))

    assert refusal(authenticator, token) == (401, "session_revoked")


def test_a_removed_membership_is_refused_although_the_token_was_remembered(
    authenticator: Authenticator, access_tokens: AccessTokens
) -> None:
    token = access_tokens.mint(user_id="usr_ada", organization_id="org_ada", role="owner")
    bearer(authenticator, token)

    authenticator.directory.apply("member.usr_ada.org_ada", None)

    assert refusal(authenticator, token) == (403, "not_a_member")


@pytest.mark.parametrize(
    "claims",
    [{"expires_in": -30}, {"aud": "someone-else"}],
    ids=["expired", "foreign"],
)
def test_refused_tokens_are_not_remembered(
    authenticator: Authenticator, access_tokens: AccessTokens, claims: dict[str, Any]
) -> None:
    token = access_tokens.mint(**claims)
    for _ in range(2):
        assert refusal(authenticator, token)[0] == 401

    assert len(authenticator.verified) == 0


def test_the_memory_is_bounded_and_forgets_the_oldest_first(
    authenticator: Authenticator, access_tokens: AccessTokens
) -> None:
    tokens = [access_tokens.mint(user_id=f"usr_{n}") for n in range(5)]
    for token in tokens:
        bearer(authenticator, token)

    assert len(authenticator.verified) == 3
    forget_the_signing_keys(authenticator)
    assert refusal(authenticator, tokens[0]) == (401, "invalid_token")
    assert bearer(authenticator, tokens[-1]).principal.user_id == "usr_4"
