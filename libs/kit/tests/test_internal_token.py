"""The internal token: signed by the gateway, verified by services, and nothing else accepted."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import jwt
import pytest
from litestar import get
from litestar.testing import AsyncTestClient
from skiff_kit.app import create_app
from skiff_kit.errors import Unauthorized
from skiff_kit.internal_token import (
    INTERNAL_TOKEN_HEADER,
    CurrentPrincipal,
    GatewayCaller,
    InternalTokenSigner,
    InternalTokenVerifier,
    Principal,
    anonymous,
    generate_keypair,
)
from skiff_kit.settings import ServiceSettings

ALICE = Principal(
    organization_id="org_1",
    user_id="usr_1",
    role="admin",
    scopes=("sessions:read", "billing:read"),
    via="session",
    request_id="req_1",
)


def verifier_for(public_pem: str, kid: str = "k1") -> InternalTokenVerifier:
    return InternalTokenVerifier({kid: public_pem})


def invalid_reason(verifier: InternalTokenVerifier, token: str) -> str:
    with pytest.raises(Unauthorized) as caught:
        verifier.verify(token)
    assert caught.value.code == "invalid_internal_token"
    assert caught.value.status_code == 401
    return str(caught.value.details["reason"])


def test_sign_and_verify_round_trip(keypair: tuple[str, str], signer: InternalTokenSigner) -> None:
    token = signer.sign(ALICE)
    assert verifier_for(keypair[1]).verify(token) == ALICE
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA"
    assert header["kid"] == "k1"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == "skiff-gateway"
    assert claims["aud"] == "skiff-internal"
    assert claims["exp"] - claims["iat"] == 60


def test_expired(keypair: tuple[str, str]) -> None:
    token = InternalTokenSigner(keypair[0], "k1", ttl_seconds=-30).sign(ALICE)
    assert "expired" in invalid_reason(verifier_for(keypair[1]), token)


def test_expiry_is_judged_at_the_moment_the_request_arrived(keypair: tuple[str, str]) -> None:
    verifier = verifier_for(keypair[1])
    token = InternalTokenSigner(keypair[0], "k1", ttl_seconds=60).sign(ALICE)
    issued = jwt.decode(token, options={"verify_signature": False})["iat"]
    # Arrived while valid, its body read long after: still valid.
    assert verifier.verify(token, at=issued + 30) == ALICE
    # The same token in a request arriving after expiry (+5 s skew): a replay, refused.
    with pytest.raises(Unauthorized) as caught:
        verifier.verify(token, at=issued + 66)
    assert caught.value.details["reason"] == "internal token expired"


def test_signed_by_another_key(keypair: tuple[str, str]) -> None:
    other_private, _ = generate_keypair()
    token = InternalTokenSigner(other_private, "k1").sign(ALICE)
    invalid_reason(verifier_for(keypair[1]), token)


def test_unknown_key_id(keypair: tuple[str, str]) -> None:
    token = InternalTokenSigner(keypair[0], "k9").sign(ALICE)
    assert invalid_reason(verifier_for(keypair[1]), token) == "unknown signing key"


def test_tampered_payload(keypair: tuple[str, str], signer: InternalTokenSigner) -> None:
    header, payload, signature = signer.sign(ALICE).split(".")
    claims = json.loads(jwt.utils.base64url_decode(payload))
    claims["organization_id"] = "org_victim"
    forged = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    invalid_reason(verifier_for(keypair[1]), f"{header}.{forged}.{signature}")


def test_other_algorithms_and_garbage_are_refused(keypair: tuple[str, str]) -> None:
    claims = {
        "organization_id": "org_1",
        "via": "service",
        "iss": "skiff-gateway",
        "aud": "skiff-internal",
        "iat": int(time.time()),
        "exp": int(time.time()) + 60,
    }
    hs256 = jwt.encode(
        claims, "a-guessable-secret-of-32-bytes!!", algorithm="HS256", headers={"kid": "k1"}
    )
    verifier = verifier_for(keypair[1])
    invalid_reason(verifier, hs256)
    invalid_reason(verifier, "not-a-token")
    invalid_reason(verifier, "")


def test_wrong_audience(keypair: tuple[str, str]) -> None:
    private_key = InternalTokenSigner(keypair[0], "k1")._key
    claims = {
        "organization_id": "o",
        "via": "service",
        "iss": "skiff-gateway",
        "aud": "other",
        "iat": int(time.time()),
        "exp": int(time.time()) + 60,
    }
    token = jwt.encode(claims, private_key, algorithm="EdDSA", headers={"kid": "k1"})
    invalid_reason(verifier_for(keypair[1]), token)


def test_key_rotation_accepts_both_kids(keypair: tuple[str, str]) -> None:
    new_private, new_public = generate_keypair()
    verifier = InternalTokenVerifier({"k1": keypair[1], "k2": new_public})
    assert verifier.verify(InternalTokenSigner(keypair[0], "k1").sign(ALICE)) == ALICE
    assert verifier.verify(InternalTokenSigner(new_private, "k2").sign(ALICE)) == ALICE


def test_from_settings(keypair: tuple[str, str], signer: InternalTokenSigner) -> None:
    token = signer.sign(ALICE)
    from_json = InternalTokenVerifier.from_settings(
        ServiceSettings(internal_public_keys=json.dumps({"k1": keypair[1]}))
    )
    assert from_json.verify(token) == ALICE
    own = InternalTokenVerifier.from_settings(ServiceSettings(internal_private_key=keypair[0]))
    assert own.verify(token) == ALICE
    nothing = InternalTokenVerifier.from_settings(ServiceSettings())
    invalid_reason(nothing, token)


def test_has_scope() -> None:
    assert ALICE.has_scope("sessions:read")
    assert not ALICE.has_scope("sessions:write")
    assert Principal(organization_id="o", via="api_key").has_scope("anything")


@get("/me")
async def me(principal: CurrentPrincipal) -> Principal:
    """Who is calling."""
    return principal


@get("/open")
async def open_route(caller: GatewayCaller) -> Principal:
    """Reached by anonymous callers too, but only through the gateway."""
    return caller


@pytest.fixture
async def client(
    make_settings: Callable[..., ServiceSettings],
) -> AsyncIterator[AsyncTestClient[Any]]:
    app = create_app(make_settings(), route_handlers=[me, open_route])
    async with AsyncTestClient(app) as c:
        yield c


async def test_route_without_token_is_401(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/me")
    assert response.status_code == 401
    assert response.json()["code"] == "missing_internal_token"


async def test_route_with_bad_token_is_401(
    client: AsyncTestClient[Any], signer: InternalTokenSigner
) -> None:
    other_private, _ = generate_keypair()
    for token in ("garbage", InternalTokenSigner(other_private, "k1").sign(ALICE)):
        response = await client.get("/me", headers={INTERNAL_TOKEN_HEADER: token})
        assert response.status_code == 401
        assert response.json()["code"] == "invalid_internal_token"


async def test_route_with_token_gets_the_principal(
    client: AsyncTestClient[Any], signer: InternalTokenSigner
) -> None:
    response = await client.get("/me", headers={INTERNAL_TOKEN_HEADER: signer.sign(ALICE)})
    assert response.status_code == 200
    assert response.json()["organization_id"] == "org_1"
    assert response.json()["scopes"] == ["sessions:read", "billing:read"]


async def test_an_expired_token_is_refused_by_a_route(
    client: AsyncTestClient[Any], keypair: tuple[str, str]
) -> None:
    token = InternalTokenSigner(keypair[0], "k1", ttl_seconds=-30).sign(ALICE)
    response = await client.get("/me", headers={INTERNAL_TOKEN_HEADER: token})
    assert response.status_code == 401
    assert response.json()["details"] == {"reason": "internal token expired"}


async def test_health_routes_need_no_token(client: AsyncTestClient[Any]) -> None:
    for path in ("/health", "/ready", "/version", "/openapi.json"):
        assert (await client.get(path)).status_code == 200, path


async def test_anonymous_caller_reaches_open_routes_only(
    client: AsyncTestClient[Any], signer: InternalTokenSigner
) -> None:
    token = signer.sign(anonymous("req_1"))
    response = await client.get("/open", headers={INTERNAL_TOKEN_HEADER: token})
    assert response.status_code == 200
    assert response.json()["via"] == "anonymous"
    response = await client.get("/me", headers={INTERNAL_TOKEN_HEADER: token})
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_required"


async def test_open_routes_still_need_the_gateway(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/open")
    assert response.status_code == 401
    assert response.json()["code"] == "missing_internal_token"
