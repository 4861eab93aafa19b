"""Access tokens (short-lived Ed25519 JWTs with a key id) and opaque refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
import time

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from skiff_contracts import new_id

ACCESS_ISSUER = "skiff-identity"
ACCESS_AUDIENCE = "skiff"


class AccessTokens:
    """Signs access tokens; the gateway verifies them with the public key of `key_id`."""

    def __init__(self, private_key_pem: str, *, key_id: str, ttl_seconds: int) -> None:
        self._key = load_pem_private_key(private_key_pem.encode(), password=None)
        self._key_id = key_id
        self.ttl_seconds = ttl_seconds

    def issue(self, *, user_id: str, organization_id: str, role: str) -> str:
        now = int(time.time())
        claims = {
            "iss": ACCESS_ISSUER,
            "aud": ACCESS_AUDIENCE,
            "sub": user_id,
            "org": organization_id,
            "role": role,
            "iat": now,
            "exp": now + self.ttl_seconds,
            "jti": new_id("atk"),
            "typ": "access",
        }
        return jwt.encode(claims, self._key, algorithm="EdDSA", headers={"kid": self._key_id})  # type: ignore[arg-type]


def new_refresh_token() -> str:
    """An opaque refresh token (shown once to the client)."""
    return "rt_" + secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    """Only this hash is stored."""
    return hashlib.sha256(token.encode()).hexdigest()
