"""Who is calling: a user's access token (Bearer or the `skiff_session` cookie), checked locally."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from skiff_kit.errors import Unauthorized
from skiff_kit.internal_token import Principal, anonymous

from skiff_gateway.routing import is_anonymous

SESSION_COOKIE = "skiff_session"
ACCESS_ISSUER = "skiff-identity"
ACCESS_AUDIENCE = "skiff"


def session_cookie(cookie_header: str) -> str | None:
    """The `skiff_session` value of a Cookie header, or None.

    Parsed by hand: `http.cookies.SimpleCookie` gives up on the whole header when any other
    cookie of the domain holds a space or JSON, which would sign the user out.
    """
    for pair in cookie_header.split(";"):
        name, equals, value = pair.partition("=")
        if equals and name.strip() == SESSION_COOKIE:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            return value or None
    return None


@dataclass(frozen=True, slots=True)
class Authenticated:
    """The outcome of authenticating one request: who, and any limit of their own (per key)."""

    principal: Principal
    rate_limit_per_minute: int | None = None


class Authenticator:
    """Verifies identity's access tokens with its public keys; never calls identity."""

    def __init__(self, public_keys: Mapping[str, str]) -> None:
        self._keys: dict[str, Any] = {
            kid: load_pem_public_key(pem.encode()) for kid, pem in public_keys.items()
        }

    @classmethod
    def from_json(cls, public_keys_json: str) -> Authenticator:
        return cls(json.loads(public_keys_json) if public_keys_json else {})

    def credentials(self, headers: Mapping[str, str]) -> str | None:
        """The bearer token or session cookie of a request, if any."""
        authorization = headers.get("authorization", "")
        if authorization[:7].lower() == "bearer ":
            return authorization[7:].strip() or None
        return session_cookie(headers.get("cookie", ""))

    def principal(self, token: str, *, request_id: str) -> Principal:
        """The principal of a valid access token; 401 with a code that says what is wrong."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as exc:
            raise Unauthorized("The credentials are not valid.", code="invalid_token") from exc
        key = self._keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise Unauthorized("The credentials are not valid.", code="invalid_token")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["EdDSA"],
                audience=ACCESS_AUDIENCE,
                issuer=ACCESS_ISSUER,
                options={"require": ["exp", "sub", "org"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("The access token has expired.", code="token_expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("The credentials are not valid.", code="invalid_token") from exc
        return Principal(
            organization_id=str(claims["org"]),
            user_id=str(claims["sub"]),
            role=str(claims.get("role", "member")),
            via="session",
            request_id=request_id,
        )

    def authenticate(
        self, headers: Mapping[str, str], *, path: str, request_id: str
    ) -> Authenticated:
        """Who is calling `path`: anonymous on open routes, else valid credentials or 401."""
        token = self.credentials(headers)
        if is_anonymous(path):
            if token is None:
                return Authenticated(anonymous(request_id))
            try:
                return Authenticated(self.principal(token, request_id=request_id))
            except Unauthorized:
                return Authenticated(anonymous(request_id))
        if token is None:
            raise Unauthorized("Authentication required.", code="authentication_required")
        return Authenticated(self.principal(token, request_id=request_id))
