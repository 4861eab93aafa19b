"""JetStream handlers of billing's ledger: idempotent by inbox and by unique references."""

from __future__ import annotations

import asyncpg
from skiff_contracts import Envelope
from skiff_contracts.events.identity import OrganizationCreated
from skiff_contracts.events.sandbox import SessionUsage
from skiff_messaging.bare import BareHandler, Commit
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


def session_usage(policy: Policy) -> BareHandler:
    """Charge the session's newly started container-minutes (each minute exactly once).

    The hottest event billing has: tried on a bare connection first (the function, the
    outbox row, the inbox row: no session), and given the session only when the charge
    crosses a rule that writes (low, exhausted, auto top-up), which then applies it anew with
    the rules' writes in the same transaction."""

    async def on_connection(
        connection: asyncpg.Connection, envelope: Envelope, payload: SessionUsage
    ) -> Commit | None:
        return await usage.charge_usage_on(connection, payload, policy)

    async def on_session(session: AsyncSession, envelope: Envelope, payload: SessionUsage) -> None:
        await usage.charge_usage(session, payload, policy)

    return BareHandler(on_connection=on_connection, on_session=on_session)
