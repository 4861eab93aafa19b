"""JetStream handlers of billing's ledger: idempotent by inbox and by unique references."""

from __future__ import annotations

from skiff_contracts import Envelope
from skiff_contracts.events.identity import OrganizationCreated
from skiff_contracts.events.sandbox import SessionUsage
from skiff_messaging.consumer import Handler
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_billing.ledger import service, usage
from skiff_billing.policy import Policy


def organization_created(signup_bonus: int) -> Handler:
    """Open the new organization's account with its signup bonus."""

    async def handle(
        session: AsyncSession, envelope: Envelope, payload: OrganizationCreated
    ) -> None:
        await service.open_account(
            session, organization_id=payload.organization_id, bonus=signup_bonus
        )

    return handle


def session_usage(policy: Policy) -> Handler:
    """Charge the session's newly started container-minutes (each minute exactly once)."""

    async def handle(session: AsyncSession, envelope: Envelope, payload: SessionUsage) -> None:
        await usage.charge_usage(session, payload, policy)

    return handle
