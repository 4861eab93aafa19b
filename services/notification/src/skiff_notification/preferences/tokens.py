"""Signed one-click unsubscribe tokens: who, which category; no sign-in needed to use one."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

from skiff_kit.errors import ValidationFailed
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_notification.preferences.catalog import CATEGORIES
from skiff_notification.preferences.models import SigningKey

KEY_NAME = "unsubscribe"
_MAC_BYTES = 16


async def signing_key(session: AsyncSession) -> bytes:
    """The installation's unsubscribe key, made on first use (every replica reads the same)."""
    await session.execute(
        insert(SigningKey)
        .values(name=KEY_NAME, key=os.urandom(32))
        .on_conflict_do_nothing(index_elements=[SigningKey.name])
    )
    key = await session.scalar(select(SigningKey.key).where(SigningKey.name == KEY_NAME))
    assert key is not None
    return bytes(key)


def make(key: bytes, user_id: str, category: str) -> str:
    """`<user:category>.<mac>`, both base64url without padding."""
    payload = f"{user_id}:{category}".encode()
    return f"{_b64(payload)}.{_b64(_mac(key, payload))}"


def read(key: bytes, token: str) -> tuple[str, str]:
    """(user id, category) of a token we made; 400 `invalid_unsubscribe_token` otherwise."""
    encoded, _, mac = token.partition(".")
    try:
        payload, given = _unb64(encoded), _unb64(mac)
    except (binascii.Error, ValueError):
        raise _invalid() from None
    if not hmac.compare_digest(_mac(key, payload), given):
        raise _invalid()
    user_id, _, category = payload.decode("utf-8", errors="replace").partition(":")
    if not user_id or category not in CATEGORIES:
        raise _invalid()
    return user_id, category


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, b"unsubscribe\x00" + payload, hashlib.sha256).digest()[:_MAC_BYTES]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    if not text or not text.isascii():
        raise ValueError("empty")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _invalid() -> ValidationFailed:
    return ValidationFailed(
        "This unsubscribe link is not valid.",
        code="invalid_unsubscribe_token",
        details={"fields": [{"field": "token", "message": "not a link we sent"}]},
    )
