"""The rules of OAuth sign-in: pending states, and which user a provider account signs in as."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from skiff_kit.errors import BadRequest, Unauthorized
from skiff_kit.internal_token import Principal
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_identity.auth import repository as users
from skiff_identity.oauth import exchange, repository
from skiff_identity.oauth.models import OAuthState
from skiff_identity.oauth.providers import OAuthConfig, Provider


@dataclass(frozen=True)
class Started:
    """Where to send the browser, and the state it must come back with."""

    authorize_url: str
    state: str


def hash_state(state: str) -> str:
    """Only this hash of a state is stored."""
    return hashlib.sha256(state.encode()).hexdigest()


async def start(
    session: AsyncSession,
    *,
    config: OAuthConfig,
    provider: Provider,
    redirect_to: str | None,
    caller: Principal,
) -> Started:
    """Record a pending sign-in (state, PKCE verifier, return URL, user to link to)."""
    target = config.after_sign_in(redirect_to)
    link_user_id = caller.user_id if caller.via == "session" else None
    if link_user_id is not None and await users.user_by_id(session, link_user_id) is None:
        raise Unauthorized("The user no longer exists.", code="user_not_found")
    now = datetime.now(UTC)
    state = secrets.token_urlsafe(32)
    code_verifier = secrets.token_urlsafe(48)  # RFC 7636: 43 to 128 unreserved characters
    await repository.delete_expired_states(session, now=now)
    await repository.add_state(
        session,
        OAuthState(
            state_hash=hash_state(state),
            provider=provider.name,
            code_verifier=code_verifier,
            redirect_to=target,
            link_user_id=link_user_id,
            created_at=now,
            expires_at=now + config.state_ttl,
        ),
    )
    url = await exchange.authorization_url(
        provider,
        redirect_uri=config.redirect_uri(provider),
        state=state,
        code_verifier=code_verifier,
    )
    return Started(authorize_url=url, state=state)


async def consume(session: AsyncSession, *, provider: Provider, state: str) -> OAuthState:
    """The pending sign-in of `state`, now used; 400 `invalid_oauth_state` if it cannot be."""
    now = datetime.now(UTC)
    pending = await repository.state_for_update(
        session, provider=provider.name, state_hash=hash_state(state)
    )
    if pending is None:
        raise invalid_state("unknown")
    if pending.used_at is not None:
        raise invalid_state("used")
    if pending.expires_at <= now:
        raise invalid_state("expired")
    pending.used_at = now
    return pending


def invalid_state(reason: str) -> BadRequest:
    """The one answer to a callback whose state cannot be trusted; `reason` says why."""
    return BadRequest(
        "This sign-in link is not valid (unknown, expired or already used). Please start again.",
        code="invalid_oauth_state",
        details={"reason": reason},
    )
