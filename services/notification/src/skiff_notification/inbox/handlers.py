"""JetStream handlers that turn events into in-app notifications (one per event, by source id)."""

from __future__ import annotations

from skiff_contracts import Envelope
from skiff_contracts.events.identity import UserRegistered
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_notification.inbox import service


async def user_registered(
    session: AsyncSession, envelope: Envelope, payload: UserRegistered
) -> None:
    """Welcome a new user in their personal organization."""
    await service.notify(
        session,
        organization_id=payload.organization_id,
        user_id=payload.user_id,
        type_="welcome",
        title=f"Welcome to Skiff, {payload.name}",
        body="Your workspace is ready, and your signup credits are on its balance.",
        source_event_id=envelope.id,
        data={"email": payload.email},
    )
