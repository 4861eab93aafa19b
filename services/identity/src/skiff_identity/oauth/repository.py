"""Every query of OAuth accounts and pending OAuth sign-ins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_identity.oauth.models import OAuthAccount, OAuthState


async def add_state(session: AsyncSession, state: OAuthState) -> None:
    session.add(state)
    await session.flush()


async def state_for_update(
    session: AsyncSession, *, provider: str, state_hash: str
) -> OAuthState | None:
    """The pending sign-in, locked so two callbacks with one state cannot both consume it."""
    return await session.scalar(
        select(OAuthState)
        .where(OAuthState.state_hash == state_hash, OAuthState.provider == provider)
        .with_for_update()
    )


async def delete_expired_states(session: AsyncSession, *, now: datetime) -> None:
    await session.execute(delete(OAuthState).where(OAuthState.expires_at < now))


async def account_by_provider_id(
    session: AsyncSession, *, provider: str, provider_user_id: str
) -> OAuthAccount | None:
    return await session.scalar(
        select(OAuthAccount).where(
            OAuthAccount.provider == provider, OAuthAccount.provider_user_id == provider_user_id
        )
    )


async def account_of_user(
    session: AsyncSession, *, provider: str, user_id: str
) -> OAuthAccount | None:
    return await session.scalar(
        select(OAuthAccount).where(
            OAuthAccount.provider == provider, OAuthAccount.user_id == user_id
        )
    )
