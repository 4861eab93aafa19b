"""The door: each request goes to its service, as the principal the gateway vouches for."""

from __future__ import annotations

import json
from typing import Any

import pytest
from gateway_helpers import (
    AccessTokens,
    Gateway,
    StartGateway,
    assert_error,
    forwarded_headers,
    raw_request,
)
from skiff_kit.internal_token import (
    InternalTokenSigner,
    InternalTokenVerifier,
    Principal,
    generate_keypair,
)


def vouched_for(response: Any, verifier: InternalTokenVerifier) -> Principal:
    """The principal in the one internal token the upstream received (verified)."""
    assert response.status_code == 200, response.text
    tokens = forwarded_headers(response.json())["x-skiff-internal-token"]
    assert len(tokens) == 1
    return verifier.verify(tokens[0])


async def test_a_signed_in_request_reaches_its_service_as_that_user(
    gateway: Gateway, access_tokens: AccessTokens, internal_verifier: InternalTokenVerifier
) -> None:
    token = access_tokens.mint(user_id="usr_7", organization_id="org_9", role="admin")

    response = await gateway.get(
        "/api/v1/credits/balance", headers={"authorization": f"Bearer {token}"}
    )

    assert response.headers["x-upstream"] == "echo"
    assert response.json()["path"] == "/api/v1/credits/balance"
    assert vouched_for(response, internal_verifier) == Principal(
        organization_id="org_9",
        user_id="usr_7",
        role="admin",
        via="session",
        request_id=response.headers["x-request-id"],
        client_ip="testclient",  # the socket peer, as the test client names itself
    )


async def test_the_session_cookie_works_like_a_bearer_token(
    gateway: Gateway, access_tokens: AccessTokens, internal_verifier: InternalTokenVerifier
) -> None:
    token = access_tokens.mint(user_id="usr_cookie")

    response = await gateway.get(
        "/api/v1/auth/me", headers={"cookie": f"theme=dark; skiff_session={token}"}
    )

    principal = vouched_for(response, internal_verifier)
    assert (principal.user_id, principal.via) == ("usr_cookie", "session")


async def test_the_clients_credentials_never_reach_a_service(
    gateway: Gateway, access_tokens: AccessTokens, internal_verifier: InternalTokenVerifier
) -> None:
    token = access_tokens.mint()

    response = await gateway.get("/api/v1/sessions", headers={"authorization": f"Bearer {token}"})

    assert "authorization" not in forwarded_headers(response.json())
    assert token not in json.dumps(response.json())
    assert vouched_for(response, internal_verifier).user_id == "usr_ada"


@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/sessions"])
async def test_a_spoofed_internal_token_never_reaches_a_service(
    gateway: Gateway,
    access_tokens: AccessTokens,
    internal_keys: tuple[str, str],
    internal_verifier: InternalTokenVerifier,
    path: str,
) -> None:
    # Even a token the services would accept (signed with the real key) is replaced.
    root = Principal(organization_id="org_victim", user_id="usr_root", via="service")
    genuine_key = InternalTokenSigner(internal_keys[0], "gw1").sign(root)
    forged_key = InternalTokenSigner(generate_keypair()[0], "gw1").sign(root)
    for spoofed in (genuine_key, forged_key):
        headers = {
            "x-skiff-internal-token": spoofed,
            "authorization": f"Bearer {access_tokens.mint()}",
        }

        response = await gateway.post(path, json={}, headers=headers)

        principal = vouched_for(response, internal_verifier)
        assert (principal.user_id, principal.organization_id) == ("usr_ada", "org_ada")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/auth/login",
        "/api/v1/auth/register",
        "/api/v1/auth/oauth/github/authorize",
        "/webhooks/stripe",
    ],
)
async def test_anonymous_routes_pass_without_credentials(
    gateway: Gateway, internal_verifier: InternalTokenVerifier, path: str
) -> None:
    response = await gateway.post(path, json={"email": "ada@example.com"})

    assert response.json()["path"] == path
    principal = vouched_for(response, internal_verifier)
    assert (principal.via, principal.organization_id, principal.user_id) == ("anonymous", "", None)
    assert principal.scopes == ()
    assert principal.request_id == response.headers["x-request-id"]


async def test_an_anonymous_route_with_a_stale_token_is_still_open(
    gateway: Gateway, access_tokens: AccessTokens, internal_verifier: InternalTokenVerifier
) -> None:
    # A browser refreshing its session sends the expired cookie along: refresh must still work.
    expired = access_tokens.mint(expires_in=-60)

    response = await gateway.post(
        "/api/v1/auth/refresh", json={}, headers={"cookie": f"skiff_session={expired}"}
    )

    assert vouched_for(response, internal_verifier).via == "anonymous"


async def test_an_anonymous_route_with_a_valid_token_knows_the_user(
    gateway: Gateway, access_tokens: AccessTokens, internal_verifier: InternalTokenVerifier
) -> None:
    token = access_tokens.mint(user_id="usr_known")

    response = await gateway.post(
        "/api/v1/auth/login", json={}, headers={"authorization": f"Bearer {token}"}
    )

    assert vouched_for(response, internal_verifier).user_id == "usr_known"


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/api/v1/nothing-here", "route_not_found"),
        ("/api/v1/", "route_not_found"),
        ("/webhooks/paypal", "route_not_found"),
        ("/api/v2/auth/login", "not_found"),
    ],
)
async def test_a_route_no_service_owns_is_404(gateway: Gateway, path: str, code: str) -> None:
    response = await gateway.get(path, headers={"x-request-id": "req-mine-1"})

    assert_error(response, 404, code)
    assert response.headers["x-request-id"] == "req-mine-1"


@pytest.mark.parametrize(
    "target",
    [
        "/webhooks/stripe/../../api/v1/credits/balance",
        "/api/v1/auth/oauth/../../api-keys",
        "/api/v1/auth/oauth/%2e%2E/%2e%2e/api-keys",
        "/api/v1/credits/./balance",
    ],
)
async def test_a_path_with_dot_segments_is_404_not_rerouted(gateway_url: str, target: str) -> None:
    # Forwarded, `..` would be resolved by the URL: an anonymous webhook route would become
    # a protected API route of another service.
    status, body = await raw_request(gateway_url, target)

    assert status == 404
    assert json.loads(body)["code"] == "route_not_found"


async def test_a_service_without_an_upstream_is_not_routed(
    start_gateway: StartGateway, echo_url: str
) -> None:
    async with start_gateway(upstreams=json.dumps({"identity": echo_url})) as gateway:
        response = await gateway.get("/api/v1/credits/balance")

    assert_error(response, 404, "route_not_found")


async def test_the_gateways_own_health_is_not_forwarded(gateway: Gateway) -> None:
    response = await gateway.get("/health")

    assert response.status_code == 200
    assert response.json()["service"] == "gateway"
    assert "x-upstream" not in response.headers
