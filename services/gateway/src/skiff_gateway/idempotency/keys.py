"""What a caller's `Idempotency-Key` becomes: its record's name, request fingerprints and the
seal on the kept answer.

A kept answer can hold a secret shown once (a new API key, a rotated one), so it is stored
encrypted (AES-256-GCM) with a key derived from the caller and their Idempotency-Key, and the
fingerprint is keyed the same way: someone who can read the bucket but does not know a
caller's Idempotency-Key learns neither the answer nor, by guessing, the request's body.
"""

from __future__ import annotations

import hashlib
import os

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from litestar.types import Scope
from skiff_kit.internal_token import Principal

_NONCE_BYTES = 12


class Answer(msgspec.Struct, frozen=True):
    """A service's answer as the client got it (less what the replay sets afresh)."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(Answer).decode


class CallerKey:
    """One caller's key: an organization's API key, or a user in an organization."""

    def __init__(self, principal: Principal, key: str) -> None:
        caller = (
            f"key:{principal.api_key_id}" if principal.api_key_id else f"user:{principal.user_id}"
        )
        scoped = f"{principal.organization_id}\n{caller}\n{key}".encode()
        # KV keys allow few characters: the record is named by a hash.
        self.record_key = hashlib.sha256(b"record\0" + scoped).hexdigest()
        self._secret = hashlib.sha256(b"seal\0" + scoped).digest()

    def fingerprint(self, scope: Scope, path: str, body: bytes) -> str:
        """What makes two requests the same: method, path, query string and body."""
        digest = hashlib.sha256(self._secret)
        method = str(scope.get("method", "")).encode("latin-1")
        query: bytes = scope.get("query_string", b"")
        for part in (method, path.encode("latin-1"), query):
            digest.update(part)
            digest.update(b"\0")
        digest.update(body)
        return digest.hexdigest()

    def seal(self, answer: Answer) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + AESGCM(self._secret).encrypt(nonce, _encode(answer), None)

    def unseal(self, sealed: bytes) -> Answer | None:
        """The kept answer; None if it cannot be opened (it was not sealed for this key)."""
        nonce, ciphertext = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
        try:
            return _decode(AESGCM(self._secret).decrypt(nonce, ciphertext, None))
        except (InvalidTag, msgspec.DecodeError):
            return None
