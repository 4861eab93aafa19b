"""The gateway's lean signer makes the tokens the kit's verifier accepts, and only those."""

from __future__ import annotations

import jwt
import pytest
from skiff_gateway.signing import FastSigner
from skiff_kit.errors import Unauthorized
from skiff_kit.internal_token import InternalTokenVerifier, Principal, generate_keypair


def test_its_tokens_carry_the_principal_to_the_services() -> None:
    private, public = generate_keypair()
    principal = Principal(
        organization_id="org_1",
        user_id="usr_1",
        api_key_id=None,
        role="admin",
        scopes=("sessions:read", "billing:read"),
        via="session",
        request_id="req_1",
        client_ip="203.0.113.7",
    )

    token = FastSigner(private, "gw1", ttl_seconds=60).sign(principal)

    assert InternalTokenVerifier({"gw1": public}).verify(token) == principal
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "EdDSA", "kid": "gw1", "typ": "JWT"}
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["iss"], claims["aud"], claims["exp"] - claims["iat"]) == (
        "skiff-gateway",
        "skiff-internal",
        60,
    )


def test_another_key_or_an_expired_token_is_refused() -> None:
    private, public = generate_keypair()
    other_private, _ = generate_keypair()
    principal = Principal(organization_id="org_1", via="anonymous", scopes=())
    verifier = InternalTokenVerifier({"gw1": public})

    with pytest.raises(Unauthorized):
        verifier.verify(FastSigner(other_private, "gw1").sign(principal))
    with pytest.raises(Unauthorized):
        verifier.verify(FastSigner(private, "gw1", ttl_seconds=-60).sign(principal))
