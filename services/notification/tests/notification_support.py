"""Shared pieces of notification's tests: inboxes, identity's events, waiting, streams."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from nats.js import JetStreamContext
from skiff_contracts import Envelope, new_id
from skiff_contracts.events.identity import UserRegistered
from skiff_notification.models import Notification
from skiff_testing import bus
from skiff_testing.services import GatewaySigner
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

CONSUMER = "notification--identity"


async def consumed_everything(js: JetStreamContext, durable: str = CONSUMER) -> bool:
    """This service's consumer has acked every message of IDENTITY."""
    return await bus.consumed_everything(js, durable)


START = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


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
