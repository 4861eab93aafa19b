"""Who is calling: an API key, or a user's access token (Bearer or `skiff_session` cookie).

Everything is checked locally: tokens with identity's public keys, keys, memberships and
revoked sessions against the directory view (in memory, fed from NATS); never a call to identity.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from skiff_kit.errors import BadRequest, Forbidden, ServiceUnavailable, SkiffError, Unauthorized
from skiff_kit.internal_token import Principal, anonymous

from skiff_gateway.directory.view import DirectoryView, KeyEntry
from skiff_gateway.routing import is_anonymous

SESSION_COOKIE = "skiff_session"
ACCESS_ISSUER = "skiff-identity"
ACCESS_AUDIENCE = "skiff"
API_KEY_PREFIX = "sk_"
# A key acts with a member's rights, narrowed by its scopes (docs/gateway.md).
API_KEY_ROLE = "member"
ORG_ID = re.compile(r"org_[0-9a-z]{1,40}")
# Verified access tokens remembered: enough for the signed-in users of a busy replica.
VERIFIED_TOKENS_CAPACITY = 4096
Clock = Callable[[], float]


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


class VerifiedTokens:
    """Claims of access tokens whose signature was checked, until each token's own `exp`.

    Verifying an EdDSA token costs a few hundred microseconds, more than the rest of the
    door; a user sends the same token for its whole life (15 minutes). Only the signature
    and fixed claims are remembered: revocations and roles are still read on every request.
    Bounded: when full, the oldest entry goes (first in, first out: tokens live equally long).
    """

    def __init__(self, capacity: int = VERIFIED_TOKENS_CAPACITY, clock: Clock = time.time) -> None:
        self.capacity = capacity
        self.clock = clock
        self._claims: dict[str, tuple[float, dict[str, Any]]] = {}

    def __len__(self) -> int:
        return len(self._claims)

    def get(self, token: str) -> dict[str, Any] | None:
        """The remembered claims of `token`; `token_expired` once its `exp` has passed."""
        found = self._claims.get(token)
        if found is None:
            return None
        expires_at, claims = found
        if self.clock() >= expires_at:  # PyJWT too refuses a token at its `exp` second
            self._claims.pop(token, None)
            raise _expired()
        return claims

    def put(self, token: str, claims: dict[str, Any]) -> None:
        if self.capacity <= 0:
            return
        while len(self._claims) >= self.capacity:
            del self._claims[next(iter(self._claims))]
        self._claims[token] = (float(claims["exp"]), claims)


def _expired() -> Unauthorized:
    return Unauthorized("The access token has expired.", code="token_expired")


@dataclass(frozen=True, slots=True)
class Authenticated:
    """The outcome of authenticating one request: who, and any limit of their own (per key)."""

    principal: Principal
    rate_limit_per_minute: int | None = None


class Authenticator:
    """Verifies identity's access tokens with its public keys; never calls identity."""

    def __init__(
        self,
        public_keys: Mapping[str, str],
        directory: DirectoryView | None = None,
        *,
        verified: VerifiedTokens | None = None,
    ) -> None:
        self._keys: dict[str, Any] = {
            kid: load_pem_public_key(pem.encode()) for kid, pem in public_keys.items()
        }
        self.directory = directory if directory is not None else DirectoryView()
        self.verified = verified if verified is not None else VerifiedTokens()

    @classmethod
    def from_json(
        cls, public_keys_json: str, directory: DirectoryView | None = None
    ) -> Authenticator:
        return cls(json.loads(public_keys_json) if public_keys_json else {}, directory)

    def credentials(self, headers: Mapping[str, str]) -> str | None:
        """The bearer token or session cookie of a request, if any."""
        authorization = headers.get("authorization", "")
        if authorization[:7].lower() == "bearer ":
            return authorization[7:].strip() or None
        return session_cookie(headers.get("cookie", ""))

    def principal(self, token: str, *, request_id: str) -> Principal:
        """The principal of a valid access token; 401 with a code that says what is wrong."""
        claims = self.claims(token)
        return Principal(
            organization_id=str(claims["org"]),
            user_id=str(claims["sub"]),
            role=str(claims.get("role", "member")),
            via="session",
            request_id=request_id,
        )

    def claims(self, token: str) -> dict[str, Any]:
        """The verified claims of an access token; 401 `invalid_token` or `token_expired`.

        Shared with later requests of the same token (`VerifiedTokens`): read, never change.
        """
        remembered = self.verified.get(token)
        if remembered is not None:
            return remembered
        claims = self._verify(token)
        self.verified.put(token, claims)
        return claims

    def _verify(self, token: str) -> dict[str, Any]:
        """Check the signature, issuer, audience and expiry of a token (the slow part)."""
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
            raise _expired() from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("The credentials are not valid.", code="invalid_token") from exc
        return claims

    def authenticate(
        self, headers: Mapping[str, str], *, path: str, request_id: str
    ) -> Authenticated:
        """Who is calling `path`: anonymous on open routes, else valid credentials or 401."""
        if is_anonymous(path):
            try:
                return self.caller(headers, request_id=request_id)
            except SkiffError:
                return Authenticated(anonymous(request_id))
        return self.caller(headers, request_id=request_id)

    def presented_key_hash(self, headers: Mapping[str, str]) -> str | None:
        """The SHA-256 of the API key a request presents (None: it presents no API key)."""
        token = headers.get("x-api-key", "").strip() or self.credentials(headers)
        if token is None or not token.startswith(API_KEY_PREFIX):
            return None
        return hashlib.sha256(token.encode()).hexdigest()

    def caller(self, headers: Mapping[str, str], *, request_id: str) -> Authenticated:
        """The API key or user behind the request's credentials; 401 without any."""
        token = headers.get("x-api-key", "").strip() or self.credentials(headers)
        if token is None:
            raise Unauthorized("Authentication required.", code="authentication_required")
        if token.startswith(API_KEY_PREFIX):
            return self.api_key(token, headers.get("x-org-id"), request_id=request_id)
        return Authenticated(self.user(token, headers.get("x-org-id"), request_id=request_id))

    def api_key(self, raw: str, org_header: str | None, *, request_id: str) -> Authenticated:
        """The principal of a live API key: O(1) reads of the in-memory directory."""
        if not self.directory.loaded:
            raise ServiceUnavailable(
                "API keys cannot be checked yet; retry shortly.", code="api_keys_unavailable"
            )
        secret_hash = hashlib.sha256(raw.encode()).hexdigest()
        found = self.directory.key(secret_hash)
        if found is None:
            raise Unauthorized("This API key is not valid.", code="invalid_api_key")
        key, previous = found
        _check_key(key, secret_hash, previous=previous, now=time.time())
        if org_header and org_header.strip() != key.organization_id:
            raise Forbidden("An API key acts only in its own organization.", code="org_mismatch")
        principal = Principal(
            organization_id=key.organization_id,
            api_key_id=key.key_id,
            role=API_KEY_ROLE,
            scopes=key.scopes,
            via="api_key",
            request_id=request_id,
        )
        return Authenticated(principal, key.rate_limit_per_minute)

    def user(self, token: str, org_header: str | None, *, request_id: str) -> Principal:
        """A signed-in user in their default organization or the one `X-Org-Id` names.

        The role comes from the directory when it knows the membership, so a role change or a
        removal applies at once rather than when the access token expires.
        """
        claims = self.claims(token)
        user_id, default_org = str(claims["sub"]), str(claims["org"])
        revoked_before = self.directory.revoked_before.get(user_id)
        # `iat` has one-second resolution: tokens from the revocation's own second survive.
        if revoked_before is not None and int(claims.get("iat", 0)) < int(revoked_before):
            raise Unauthorized("This session was ended; sign in again.", code="session_revoked")
        organization_id = default_org
        if org_header is not None and org_header.strip():
            organization_id = org_header.strip()
            if ORG_ID.fullmatch(organization_id) is None:
                raise BadRequest("X-Org-Id is not an organization id.", code="invalid_org_id")
        known = (user_id, organization_id) in self.directory.roles
        role = self.directory.roles.get((user_id, organization_id))
        if organization_id == default_org and not known:
            role = str(claims.get("role", "member"))
        if role is None:
            raise Forbidden("You are not a member of this organization.", code="not_a_member")
        return Principal(
            organization_id=organization_id,
            user_id=user_id,
            role=role,
            via="session",
            request_id=request_id,
        )


def _check_key(key: KeyEntry, secret_hash: str, *, previous: bool, now: float) -> None:
    """401 with the code that says why a found key cannot be used."""
    if key.revoked or key.deleted:
        raise Unauthorized("This API key was revoked.", code="api_key_revoked")
    if key.expires_at is not None and now >= key.expires_at:
        raise Unauthorized("This API key has expired.", code="api_key_expired")
    if not key.active:
        raise Unauthorized("This API key is deactivated.", code="api_key_inactive")
    expected = key.grace_secret_hash if previous else key.secret_hash
    if expected is None or not hmac.compare_digest(expected, secret_hash):
        raise Unauthorized("This API key is not valid.", code="invalid_api_key")
    if previous and (key.grace_until is None or now >= key.grace_until):
        raise Unauthorized("This API key was rotated; use its new secret.", code="api_key_rotated")
