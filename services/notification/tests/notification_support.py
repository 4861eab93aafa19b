"""Shared pieces of notification's tests: inboxes, identity's events, waiting, streams."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from skiff_contracts import Envelope, decode_envelope, new_id
from skiff_contracts.events.identity import UserRegistered
from skiff_notification.models import Notification
from skiff_testing.services import GatewaySigner
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

CONSUMER = "notification--identity"
START = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


async def eventually(
    check: Callable[[], Awaitable[bool]], *, within: float = 10.0, what: str = "condition"
) -> None:
    """Poll `check` until it holds; fail the test after `within` seconds."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {within}s")
        await asyncio.sleep(0.02)


def user_registered(name: str = "Ada Lovelace", **fields: str) -> UserRegistered:
    """The payload identity publishes when someone signs up (in their personal organization)."""
    values = {
        "user_id": new_id("usr"),
        "email": "ada@example.com",
        "name": name,
        "organization_id": new_id("org"),
    }
    return UserRegistered(**{**values, **fields}, registered_at=datetime.now(UTC))


def from_identity(payload: UserRegistered) -> Envelope:
    """The envelope identity's outbox would put around `payload`."""
    return Envelope.wrap(
        payload,
        source="skiff/identity",
        subject=payload.user_id,
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


class Inbox:
    """Notifications of one recipient, stored as the service stores them, oldest first."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], signer: GatewaySigner, org: str, user: str
    ) -> None:
        self.sessions, self.signer, self.org, self.user = sessions, signer, org, user

    @property
    def headers(self) -> dict[str, str]:
        return self.signer.headers(self.signer.user(self.org, self.user, role="member"))

    async def add(self, *kinds: tuple[str, bool]) -> list[str]:
        """One notification per `(type, read)`, in this order; their ids (which sort by age)."""
        ids = sorted(new_id("ntf") for _ in kinds)
        async with self.sessions() as session, session.begin():
            for n, (id_, (type_, read)) in enumerate(zip(ids, kinds, strict=True)):
                created_at = START + timedelta(minutes=n)
                session.add(
                    Notification(
                        id=id_,
                        organization_id=self.org,
                        user_id=self.user,
                        type=type_,
                        title=f"{type_} {n}",
                        body=f"body {n}",
                        data={"n": n},
                        source_event_id=new_id("evt"),
                        read_at=created_at + timedelta(seconds=30) if read else None,
                        created_at=created_at,
                    )
                )
        return ids

    async def read_at(self, notification_id: str) -> datetime | None:
        async with self.sessions() as session:
            row = await session.get(Notification, notification_id)
            assert row is not None
            return row.read_at

    async def unread_ids(self) -> set[str]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(Notification.id).where(
                    Notification.organization_id == self.org,
                    Notification.user_id == self.user,
                    Notification.read_at.is_(None),
                )
            )
            return set(rows)


InboxOf = Callable[..., Inbox]
