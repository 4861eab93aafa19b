"""Raw API keys (`sk_live_...`): made once, shown once, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

KEY_PREFIX = "sk_live_"
PREFIX_LENGTH = 12  # what lists show: `sk_live_ab12`


@dataclass(frozen=True, slots=True)
class NewSecret:
    """A freshly made key: the raw value (shown once) and what is kept of it."""

    raw: str
    secret_hash: str
    prefix: str
    last4: str


def hash_secret(raw: str) -> str:
    """SHA-256 hex: keys carry 256 random bits, so a fast hash loses nothing to guessing."""
    return hashlib.sha256(raw.encode()).hexdigest()


def new_secret() -> NewSecret:
    """`sk_live_` + 43 url-safe random characters (32 bytes)."""
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    return NewSecret(
        raw=raw, secret_hash=hash_secret(raw), prefix=raw[:PREFIX_LENGTH], last4=raw[-4:]
    )
