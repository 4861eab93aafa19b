"""Shared pieces of billing's tests: accounts and entries, identity's events, waiting, streams."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from nats.js import JetStreamContext
from skiff_billing.app import USAGE_CONSUMER
from skiff_billing.ledger import handlers, service
from skiff_billing.models import Account, LedgerEntry
from skiff_billing.policy import Policy
from skiff_billing.usage import rollups
from skiff_contracts import Envelope, new_id
from skiff_contracts.events.identity import OrganizationCreated
from skiff_contracts.events.sandbox import SessionUsage, usage_event_id
from skiff_kit.internal_token import Principal
from skiff_messaging import EventConsumer
from skiff_testing import bus
from skiff_testing.services import GatewaySigner
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

CONSUMER = "billing--identity"
SPENDING = ("usage", "capture")  # the entry types counted in `credits_used`


async def consumed_everything(js: JetStreamContext, durable: str = CONSUMER) -> bool:
    """This service's consumer has acked every message of IDENTITY."""
    return await bus.consumed_everything(js, durable)


def organization_created(organization_id: str | None = None) -> OrganizationCreated:
    """The payload identity publishes when someone signs up."""
    organization_id = organization_id or new_id("org")
    return OrganizationCreated(
        organization_id=organization_id,
        name="Ada's workspace",
        slug=f"ada-{organization_id[-6:]}",
        owner_user_id=new_id("usr"),
        personal=True,
        created_at=datetime.now(UTC),
    )


def from_identity(payload: OrganizationCreated) -> Envelope:
    """The envelope identity's outbox would put around `payload`."""
    return Envelope.wrap(
        payload,
        source="skiff/identity",
        subject=payload.organization_id,
        organization_id=payload.organization_id,
    )


async def open_account(
    sessions: async_sessionmaker[AsyncSession], *, bonus: int = 100, **account: Any
) -> str:
    """A new organization with its account (as the handler opens it); its id."""
    org = new_id("org")
    async with sessions() as session, session.begin():
        await service.open_account(session, organization_id=org, bonus=bonus)
        if account:
            await session.execute(
                update(Account).where(Account.organization_id == org).values(**account)
            )
    return org


async def record(
    sessions: async_sessionmaker[AsyncSession],
    org: str,
    entries: Sequence[tuple[str, int, datetime]],
) -> list[str]:
    """Append `(type, amount, created_at)` entries in order, as later code would; their ids.

    Spending (`usage`, `capture`) also counts in its day's `credits_used`, as the charge and
    capture functions count it."""
    ids = sorted(new_id("txn") for _ in entries)  # ids sort by creation time
    async with sessions() as session, session.begin():
        account = await service.account(session, org)
        for txn_id, (type_, amount, created_at) in zip(ids, entries, strict=True):
            account.balance += amount
            if type_ in SPENDING:
                await rollups.bump(session, org, created_at.date(), "credits_used", -amount)
            session.add(
                LedgerEntry(
                    id=txn_id,
                    account_id=account.id,
                    organization_id=org,
                    type=type_,
                    amount=amount,
                    balance_after=account.balance,
                    description=f"{type_} of {amount}",
                    reference=f"ref-{txn_id}",
                    created_at=created_at,
                )
            )
            await session.flush()
    return ids


def member(org: str) -> Principal:
    return GatewaySigner.user(org, new_id("usr"), role="member")


def api_key(org: str) -> Principal:
    return Principal(organization_id=org, api_key_id=new_id("key"), via="api_key")


def session_usage(
    org: str, session_id: str, minutes: int, *, final: bool = False, seconds: float | None = None
) -> Envelope:
    """A `sandbox.session.usage` as a runner's outbox sends it (deterministic event id)."""
    payload = SessionUsage(
        session_id=session_id,
        organization_id=org,
        runner_id="runner-1",
        minutes_started=minutes,
        active_seconds=seconds if seconds is not None else minutes * 60.0 - 59,
        final=final,
        measured_at=datetime.now(UTC),
    )
    return Envelope.wrap(
        payload,
        source="skiff/sandbox_runner",
        subject=session_id,
        organization_id=org,
        event_id=usage_event_id(session_id, None if final else minutes),
    )


async def deliver_usage(
    sessions: async_sessionmaker[AsyncSession],
    envelope: Envelope,
    policy: Policy | None = None,
    handler: Any = None,
) -> bool:
    """What billing's usage consumer does with one decoded delivery (`EventConsumer.apply`
    with `ledger.handlers.session_usage`, or `handler`): False when the inbox had it."""
    handler = handler or handlers.session_usage(policy or Policy())
    consumer = EventConsumer(
        js=None,  # type: ignore[arg-type]  # `apply` does not touch the bus
        session_factory=sessions,
        stream="SANDBOX",
        durable=USAGE_CONSUMER,
        handlers={SessionUsage.event_type: (SessionUsage, handler)},
    )
    return await consumer.apply(envelope, envelope.payload(SessionUsage), handler)
