"""JetStream handlers that turn identity's email requests into outbox rows (one per event)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from skiff_contracts import Envelope, EventPayload
from skiff_contracts.events.identity import (
    EmailVerificationRequested,
    InviteCreated,
    PasswordResetRequested,
)
from skiff_messaging.consumer import Handler
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_notification.email import service, templates


def email_handlers(public_url: str) -> Mapping[str, tuple[type[EventPayload], Handler]]:
    """The handlers of the mails identity asks for, with links to `public_url`."""

    async def verification(session: AsyncSession, envelope: Envelope, event: Any) -> None:
        assert isinstance(event, EmailVerificationRequested)
        await service.enqueue(
            session,
            source_event_id=envelope.id,
            kind="email_verification",
            to=event.email,
            message=templates.verification(public_url, event),
        )

    async def password_reset(session: AsyncSession, envelope: Envelope, event: Any) -> None:
        assert isinstance(event, PasswordResetRequested)
        await service.enqueue(
            session,
            source_event_id=envelope.id,
            kind="password_reset",
            to=event.email,
            message=templates.password_reset(public_url, event),
        )

    async def invite(session: AsyncSession, envelope: Envelope, event: Any) -> None:
        assert isinstance(event, InviteCreated)
        await service.enqueue(
            session,
            source_event_id=envelope.id,
            kind="invite",
            to=event.email,
            message=templates.invite(public_url, event),
        )

    return {
        EmailVerificationRequested.event_type: (EmailVerificationRequested, verification),
        PasswordResetRequested.event_type: (PasswordResetRequested, password_reset),
        InviteCreated.event_type: (InviteCreated, invite),
    }
