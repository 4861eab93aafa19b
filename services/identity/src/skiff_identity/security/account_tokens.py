"""Single-use account tokens (email verification, password reset): random, stored hashed."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from skiff_contracts import new_id
from skiff_kit.errors import BadRequest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_identity.models import User
from skiff_identity.security.models import AccountToken

VERIFY_EMAIL = "verify_email"
RESET_PASSWORD = "reset_password"
_PREFIX = {VERIFY_EMAIL: "ev_", RESET_PASSWORD: "pr_"}


def hash_token(raw: str) -> str:
    """Only this SHA-256 hash is stored; the raw token travels in the email alone."""
    return hashlib.sha256(raw.encode()).hexdigest()


async def issue(
    session: AsyncSession, user: User, *, purpose: str, ttl: timedelta, now: datetime
) -> tuple[str, datetime]:
    """A new raw token for `user` (earlier ones stay valid until used or expired)."""
    raw = _PREFIX[purpose] + secrets.token_urlsafe(32)
    expires_at = now + ttl
    session.add(
        AccountToken(
            id=new_id("atok"),
            user_id=user.id,
            purpose=purpose,
            token_hash=hash_token(raw),
            email=user.email,
            expires_at=expires_at,
            used_at=None,
            created_at=now,
        )
    )
    await session.flush()
    return raw, expires_at


async def find(
    session: AsyncSession, raw: str, *, purpose: str, now: datetime, lock: bool = False
) -> AccountToken:
    """The usable token `raw`; 400 `invalid_token`, `token_used` or `token_expired` otherwise."""
    query = select(AccountToken).where(
        AccountToken.token_hash == hash_token(raw), AccountToken.purpose == purpose
    )
    token = await session.scalar(query.with_for_update() if lock else query)
    if token is None:
        raise BadRequest("This link is not valid.", code="invalid_token")
    if token.used_at is not None:
        raise BadRequest("This link was already used.", code="token_used")
    if token.expires_at <= now:
        raise BadRequest("This link has expired; ask for a new one.", code="token_expired")
    return token


async def consume(session: AsyncSession, raw: str, *, purpose: str, now: datetime) -> AccountToken:
    """Use the token (locked: of two parallel uses one wins, the other gets `token_used`)."""
    token = await find(session, raw, purpose=purpose, now=now, lock=True)
    await spend_all(session, token.user_id, purpose=purpose, now=now)
    return token


async def spend_all(session: AsyncSession, user_id: str, *, purpose: str, now: datetime) -> None:
    """Every unused token of `purpose` of the user is used up (one reset ends all links)."""
    await session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user_id,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
