"""Shared pieces of billing's tests: accounts and entries, identity's events, waiting, streams."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from skiff_billing.ledger import service
from skiff_billing.models import Account, LedgerEntry
from skiff_contracts import Envelope, decode_envelope, new_id
from skiff_contracts.events.identity import OrganizationCreated
from skiff_kit.internal_token import Principal
from skiff_testing.services import GatewaySigner
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

CONSUMER = "billing--identity"


async def eventually(
    check: Callable[[], Awaitable[bool]], *, within: float = 10.0, what: str = "condition"
) -> None:
    """Poll `check` until it holds; fail the test after `within` seconds."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {within}s")
        await asyncio.sleep(0.02)


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


async def publish(js: JetStreamContext, envelope: Envelope, *, msg_id: str | None = None) -> bool:
    """Publish as identity's relay does (Nats-Msg-Id = event id); True if the stream had it."""
    ack = await js.publish(
        envelope.type, envelope.encode(), headers={"Nats-Msg-Id": msg_id or envelope.id}
    )
    return bool(ack.duplicate)


async def stream_envelopes(js: JetStreamContext, stream: str) -> list[Envelope]:
    """Every event stored in `stream`, oldest first."""
    info = await js.stream_info(stream)
    if info.state.messages == 0:
        return []
    return [
        decode_envelope((await js.get_msg(stream, seq)).data or b"")
        for seq in range(info.state.first_seq, info.state.last_seq + 1)
    ]


async def consumed_everything(js: JetStreamContext, durable: str = CONSUMER) -> bool:
    """The service's consumer has acked every message of IDENTITY: nothing pending or unacked."""
    try:
        info = await js.consumer_info("IDENTITY", durable)
    except NotFoundError:
        return False
    last = (await js.stream_info("IDENTITY")).state.last_seq
    return (
        info.num_pending == 0
        and info.num_ack_pending == 0
        and info.ack_floor is not None
        and info.ack_floor.stream_seq == last
    )


async def empty_schema(database_url: str, schema: str) -> None:
    """Truncate every table of `schema` but Alembic's: a test starts migrated and empty."""
    connection = await asyncpg.connect(database_url.replace("+asyncpg", "", 1))
    try:
        tables = await connection.fetch(
            "select tablename from pg_tables"
            " where schemaname = $1 and tablename <> 'alembic_version'",
            schema,
        )
        names = ", ".join(f'"{schema}"."{row["tablename"]}"' for row in tables)
        await connection.execute("set lock_timeout = '5s'")
        await connection.execute(f"truncate {names} restart identity cascade")
    finally:
        await connection.close()


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
    """Append `(type, amount, created_at)` entries in order, as later code would; their ids."""
    ids = sorted(new_id("txn") for _ in entries)  # ids sort by creation time
    async with sessions() as session, session.begin():
        account = await service.account(session, org)
        for txn_id, (type_, amount, created_at) in zip(ids, entries, strict=True):
            account.balance += amount
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
