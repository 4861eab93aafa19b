"""Events that owners are told about: credits run out, a session failed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from skiff_contracts import Envelope, EventPayload
from skiff_contracts.events.billing import CreditsExhausted
from skiff_contracts.events.orchestrator import SessionFailed
from skiff_contracts.events.sandbox import SandboxFailed
from skiff_messaging.consumer import Handler
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_notification.notices.telling import Notice, Teller


def credits_exhausted(event: CreditsExhausted) -> Notice:
    return Notice(
        category="billing",
        kind="credits_exhausted",
        title="Your organization is out of credits",
        body="Running sessions are being stopped. Buy credits to start new ones.",
        email_subject="Skiff: your organization is out of credits",
        email_text=(
            f"Your organization's balance reached {event.balance} credits at"
            f" {event.exhausted_at:%Y-%m-%d %H:%M UTC}. Running sessions are being stopped,"
            " and new ones cannot start until credits are added."
        ),
        data={"balance": event.balance},
    )


def session_failed(session_id: str, reason: str) -> Notice:
    return Notice(
        category="sessions",
        kind="session_failed",
        title=f"Session {session_id} failed",
        body=f"Reason: {reason}.",
        email_subject=f"Skiff: session {session_id} failed",
        email_text=f"The sandbox session {session_id} failed ({reason}).",
        data={"session_id": session_id, "reason": reason},
    )


def notice_handlers(teller: Teller) -> Mapping[str, tuple[type[EventPayload], Handler]]:
    """The handlers that turn these events into notices to the owners."""

    async def tell(
        session: AsyncSession, envelope: Envelope, notice: Notice, source_id: str | None = None
    ) -> None:
        if envelope.organization_id:
            await teller.tell(
                session,
                organization_id=envelope.organization_id,
                source_id=source_id or envelope.id,
                notice=notice,
            )

    async def exhausted(session: AsyncSession, envelope: Envelope, event: Any) -> None:
        await tell(session, envelope, credits_exhausted(event))

    async def failed(session: AsyncSession, envelope: Envelope, event: Any) -> None:
        # The runner and the orchestrator may both report one failure: tell it once.
        notice = session_failed(event.session_id, event.reason)
        await tell(session, envelope, notice, f"session_failed_{event.session_id}")

    return {
        CreditsExhausted.event_type: (CreditsExhausted, exhausted),
        SandboxFailed.event_type: (SandboxFailed, failed),
        SessionFailed.event_type: (SessionFailed, failed),
    }
