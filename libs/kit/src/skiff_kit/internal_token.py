"""The gateway's short-lived internal token (Ed25519 JWT) and the principal it carries."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any, Literal

import jwt
import msgspec
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from litestar import Request
from litestar.di import NamedDependency

from skiff_kit.errors import Unauthorized
from skiff_kit.request_context import RECEIVED_AT
from skiff_kit.settings import ServiceSettings, SettingsError

INTERNAL_TOKEN_HEADER = "x-skiff-internal-token"
ISSUER = "skiff-gateway"
AUDIENCE = "skiff-internal"
ALGORITHM = "EdDSA"
_CLOCK_SKEW_SECONDS = 5
_REGISTERED_CLAIMS = ("iss", "aud", "iat", "exp")


class Principal(msgspec.Struct, kw_only=True, frozen=True):
    """Who is acting, in which organization, with which role and scopes."""

    organization_id: str
    user_id: str | None = None
    api_key_id: str | None = None
    role: str = "member"
    scopes: tuple[str, ...] = ("*",)
    via: Literal["session", "api_key", "service", "anonymous"]
    request_id: str | None = None
    client_ip: str | None = None  # the caller's address as the gateway determined it

    def has_scope(self, scope: str) -> bool:
        """True if the principal holds `scope` (or `*`)."""
        return "*" in self.scopes or scope in self.scopes


ANONYMOUS_ORGANIZATION = ""


def anonymous(request_id: str | None = None) -> Principal:
    """The principal the gateway signs for a caller without credentials (register, login...)."""
    return Principal(
        organization_id=ANONYMOUS_ORGANIZATION, via="anonymous", scopes=(), request_id=request_id
    )


CurrentPrincipal = NamedDependency[Principal]
"""Annotation of a handler parameter named `principal`: `principal: CurrentPrincipal`."""

GatewayCaller = NamedDependency[Principal]
"""Annotation of a parameter named `caller`: any gateway-signed caller, anonymous included."""


def generate_keypair() -> tuple[str, str]:
    """A new Ed25519 key pair as (private PEM, public PEM)."""
    private_key = Ed25519PrivateKey.generate()
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return private_pem, _public_pem(private_key)


def _public_pem(private_key: Ed25519PrivateKey) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _load_private_key(pem: str) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the internal token key must be an Ed25519 private key")
    return key


def _load_public_key(pem: str) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("internal token public keys must be Ed25519 keys")
    return key


class InternalTokenSigner:
    """Signs principals into tokens; only the gateway has the private key."""

    def __init__(self, private_key_pem: str, key_id: str, ttl_seconds: int = 60) -> None:
        self._key = _load_private_key(private_key_pem)
        self.key_id = key_id
        self.ttl_seconds = ttl_seconds

    def public_key_pem(self) -> str:
        """The public half, for `internal_public_keys` of the services."""
        return _public_pem(self._key)

    def sign(self, principal: Principal) -> str:
        """A token carrying `principal`, valid for `ttl_seconds`."""
        now = int(time.time())
        claims: dict[str, Any] = msgspec.to_builtins(principal)
        claims.update(iss=ISSUER, aud=AUDIENCE, iat=now, exp=now + self.ttl_seconds)
        return jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self.key_id})


class InternalTokenVerifier:
    """Verifies tokens against the gateway's public keys (kid → key, parsed once)."""

    def __init__(self, public_keys: Mapping[str, str]) -> None:
        self._keys = {kid: _load_public_key(pem) for kid, pem in public_keys.items()}
        # `exp` is checked here against the moment the request arrived (see `verify`).
        self._jwt = jwt.PyJWT(options={"require": list(_REGISTERED_CLAIMS), "verify_exp": False})

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> InternalTokenVerifier:
        """Keys from `internal_public_keys` (JSON kid → PEM), or the public half of our own key."""
        keys: dict[str, str] = {}
        if settings.internal_public_keys.strip():
            try:
                keys = msgspec.json.decode(settings.internal_public_keys, type=dict[str, str])
            except (msgspec.DecodeError, msgspec.ValidationError, json.JSONDecodeError) as error:
                raise SettingsError({"SKIFF_INTERNAL_PUBLIC_KEYS": str(error)}) from None
        elif settings.internal_private_key.strip():
            own_key = _load_private_key(settings.internal_private_key)
            keys = {settings.internal_key_id: _public_pem(own_key)}
        return cls(keys)

    def verify(self, token: str, *, at: float | None = None) -> Principal:
        """The principal in `token`; `Unauthorized(code="invalid_internal_token")` otherwise.

        `at` is when the request carrying it arrived (now when unknown): a token that was valid
        then stays valid while a slow body is read, and an old token sent again is refused.
        """
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self._keys.get(kid) if isinstance(kid, str) else None
            if key is None:
                raise _invalid("unknown signing key")
            claims = self._jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                leeway=_CLOCK_SKEW_SECONDS,
            )
            expires = claims["exp"]
            if not isinstance(expires, int | float) or isinstance(expires, bool):
                raise _invalid("exp is not a number")
            if expires + _CLOCK_SKEW_SECONDS <= (time.time() if at is None else at):
                raise _invalid("internal token expired")
            return msgspec.convert(claims, Principal)
        except (jwt.PyJWTError, msgspec.ValidationError) as error:
            raise _invalid(str(error)) from None


def _invalid(reason: str) -> Unauthorized:
    return Unauthorized(
        "Invalid internal token", code="invalid_internal_token", details={"reason": reason}
    )


def provide_caller(request: Request[Any, Any, Any]) -> Principal:
    """Litestar dependency `caller`: the gateway-verified caller, who may be anonymous."""
    token = request.headers.get(INTERNAL_TOKEN_HEADER)
    if not token:
        raise Unauthorized("Missing internal token", code="missing_internal_token")
    verifier: InternalTokenVerifier = request.app.state.internal_token_verifier
    return verifier.verify(token, at=request.scope.get("state", {}).get(RECEIVED_AT))


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """Litestar dependency `principal`: a signed-in caller (user or API key), else 401."""
    principal = provide_caller(request)
    if principal.via == "anonymous":
        raise Unauthorized("Authentication required", code="authentication_required")
    return principal
