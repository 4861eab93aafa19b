"""Who is calling: bearer token or `skiff_session` cookie, verified with identity's public key."""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest
from gateway_helpers import ACCESS_KEY_ID, AccessTokens, assert_error
from litestar.testing import AsyncTestClient
from skiff_gateway.authentication import Authenticator
from skiff_kit.errors import Unauthorized
from skiff_kit.internal_token import Principal, generate_keypair


@pytest.fixture(scope="module")
def authenticator(access_tokens: AccessTokens) -> Authenticator:
    return Authenticator.from_json(json.dumps({ACCESS_KEY_ID: access_tokens.public_key}))


@pytest.mark.parametrize(
    ("headers", "token"),
    [
        ({"authorization": "Bearer tok-1"}, "tok-1"),
        ({"authorization": "bearer   tok-1  "}, "tok-1"),
        ({"cookie": "skiff_session=tok-2"}, "tok-2"),
        ({"cookie": "theme=dark; skiff_session=tok-2; lang=en"}, "tok-2"),
        ({"authorization": "Bearer tok-1", "cookie": "skiff_session=tok-2"}, "tok-1"),
        ({"authorization": "Basic YWRhOnB3", "cookie": "skiff_session=tok-2"}, "tok-2"),
        ({"authorization": "Basic YWRhOnB3"}, None),
        ({"authorization": "Bearer "}, None),
        ({"cookie": "skiff_session="}, None),
        ({"cookie": "other_session=tok-3"}, None),
        ({}, None),
    ],
)
def test_credentials_come_from_the_bearer_header_or_the_cookie(
    authenticator: Authenticator, headers: dict[str, str], token: str | None
) -> None:
    assert authenticator.credentials(headers) == token


@pytest.mark.parametrize(
    "cookie",
    [
        'consent={"ads":false}; skiff_session=tok-2',
        "theme=dark mode; skiff_session=tok-2",
        'broken="unterminated; skiff_session=tok-2',
        "skiff_session=tok-2; note=two words",
        "skiff_session=tok-2;;; =; flag",
        'skiff_session="tok-2"',
    ],
)
def test_other_sites_odd_cookies_do_not_hide_the_session(
    authenticator: Authenticator, cookie: str
) -> None:
    # Browsers send every cookie of the domain, including ones Python's SimpleCookie rejects.
    assert authenticator.credentials({"cookie": cookie}) == "tok-2"


def test_a_valid_token_gives_the_users_principal(
    authenticator: Authenticator, access_tokens: AccessTokens
) -> None:
    token = access_tokens.mint(user_id="usr_7", organization_id="org_9", role="admin")

    principal = authenticator.principal(token, request_id="req_1")

    assert principal == Principal(
        organization_id="org_9", user_id="usr_7", role="admin", via="session", request_id="req_1"
    )


def code_of(authenticator: Authenticator, token: str) -> str:
    with pytest.raises(Unauthorized) as raised:
        authenticator.principal(token, request_id="req_1")
    assert raised.value.status_code == 401
    return raised.value.code


def test_an_expired_token_says_so(
    authenticator: Authenticator, access_tokens: AccessTokens
) -> None:
    assert code_of(authenticator, access_tokens.mint(expires_in=-30)) == "token_expired"


@pytest.mark.parametrize(
    "forge",
    [
        lambda tokens: "garbage",
        lambda tokens: "a.b.c",
        lambda tokens: tokens.mint(key=generate_keypair()[0]),
        lambda tokens: tokens.mint(key_id="other"),
        lambda tokens: tokens.mint(aud="someone-else"),
        lambda tokens: tokens.mint(iss="skiff-impostor"),
        lambda tokens: tokens.mint(without=("org",)),
        lambda tokens: tokens.mint(without=("sub",)),
        lambda tokens: tokens.mint(without=("exp",)),
        lambda tokens: jwt.encode(
            {"iss": "skiff-identity", "aud": "skiff", "sub": "u", "org": "o", "exp": 2**33},
            "a-shared-secret-of-32-bytes-long!",
            algorithm="HS256",
            headers={"kid": ACCESS_KEY_ID},
        ),
        lambda tokens: jwt.encode(
            {"iss": "skiff-identity", "aud": "skiff", "sub": "u", "org": "o", "exp": 2**33},
            None,
            algorithm="none",
            headers={"kid": ACCESS_KEY_ID},
        ),
    ],
    ids=[
        "garbage",
        "three-dots",
        "other-key",
        "unknown-kid",
        "audience",
        "issuer",
        "no-org",
        "no-sub",
        "no-exp",
        "hs256",
        "alg-none",
    ],
)
def test_a_forged_or_malformed_token_is_invalid(
    authenticator: Authenticator, access_tokens: AccessTokens, forge: Any
) -> None:
    assert code_of(authenticator, forge(access_tokens)) == "invalid_token"


async def test_a_protected_route_without_credentials_is_401(
    gateway: AsyncTestClient[Any],
) -> None:
    response = await gateway.get("/api/v1/credits/balance")

    assert_error(response, 401, "authentication_required")


async def test_an_expired_token_is_401_token_expired(
    gateway: AsyncTestClient[Any], access_tokens: AccessTokens
) -> None:
    token = access_tokens.mint(expires_in=-60)

    response = await gateway.get("/api/v1/auth/me", headers={"authorization": f"Bearer {token}"})

    assert_error(response, 401, "token_expired")


@pytest.mark.parametrize("where", ["authorization", "cookie"])
async def test_a_garbage_or_foreign_token_is_401_invalid_token(
    gateway: AsyncTestClient[Any], access_tokens: AccessTokens, where: str
) -> None:
    for token in ("garbage", access_tokens.mint(key=generate_keypair()[0])):
        headers = (
            {"authorization": f"Bearer {token}"}
            if where == "authorization"
            else {"cookie": f"skiff_session={token}"}
        )

        response = await gateway.get("/api/v1/sessions", headers=headers)

        assert_error(response, 401, "invalid_token")
