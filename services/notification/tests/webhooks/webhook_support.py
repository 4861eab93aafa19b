"""Shared pieces of the webhook tests: the service as an org owner sees it, events, the log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from litestar.testing import AsyncTestClient
from nats.js import JetStreamContext
from skiff_contracts import Envelope, EventPayload, new_id
from skiff_contracts.events.sandbox import SandboxStarted, SandboxStopped
from skiff_notification.webhooks.models import WebhookAttempt, WebhookEndpoint, WebhookMessage
from skiff_testing import bus
from skiff_testing.services import GatewaySigner
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


def started(org: str, session_id: str | None = None) -> SandboxStarted:
    return SandboxStarted(
        session_id=session_id or new_id("ses"),
        organization_id=org,
        runner_id="runner-1",
        backend="local",
        warm=False,
        started_at=datetime.now(UTC),
    )


def stopped(org: str, session_id: str) -> SandboxStopped:
    return SandboxStopped(
        session_id=session_id,
        organization_id=org,
        runner_id="runner-1",
        reason="requested",
        active_seconds=61.5,
        stopped_at=datetime.now(UTC),
    )


async def publish(js: JetStreamContext, payload: EventPayload, org: str) -> Envelope:
    """Publish as the owning service's relay would; the envelope sent."""
    envelope = Envelope.wrap(
        payload,
        source=f"skiff/{payload.event_type.split('.')[0]}",
        subject=getattr(payload, "session_id", None),
        organization_id=org,
    )
    await bus.publish(js, envelope)
    return envelope


@dataclass
class Org:
    """An organization's owner calling notification (as the gateway would sign them)."""

    client: AsyncTestClient[Any]
    signer: GatewaySigner
    id: str
    user: str
    role: str = "owner"

    @property
    def headers(self) -> dict[str, str]:
        return self.signer.headers(self.signer.user(self.id, self.user, role=self.role))

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        return await self.client.request(method, path, headers=self.headers, **kwargs)

    async def endpoint(
        self, url: str, events: list[str] | None = None, **extra: Any
    ) -> dict[str, Any]:
        answer = await self.call(
            "POST", "/api/v1/webhooks", json={"url": url, "events": events or ["*"], **extra}
        )
        assert answer.status_code == 201, answer.text
        created: dict[str, Any] = answer.json()
        return created


OrgOf = Callable[..., Org]


class Log:
    """What the database holds about messages and attempts."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def messages(self, endpoint_id: str | None = None) -> list[WebhookMessage]:
        query = select(WebhookMessage).order_by(WebhookMessage.created_at, WebhookMessage.id)
        if endpoint_id is not None:
            query = query.where(WebhookMessage.endpoint_id == endpoint_id)
        async with self.sessions() as session:
            return list(await session.scalars(query))

    async def attempts(self, message_id: str) -> list[WebhookAttempt]:
        async with self.sessions() as session:
            return list(
                await session.scalars(
                    select(WebhookAttempt)
                    .where(WebhookAttempt.message_id == message_id)
                    .order_by(WebhookAttempt.id)
                )
            )

    async def endpoint(self, endpoint_id: str) -> WebhookEndpoint:
        async with self.sessions() as session:
            row = await session.get(WebhookEndpoint, endpoint_id)
            assert row is not None
            return row

    def statuses(self, endpoint_id: str | None = None) -> Callable[[], Awaitable[list[str]]]:
        async def read() -> list[str]:
            return [m.status for m in await self.messages(endpoint_id)]

        return read


async def until(
    check: Callable[[], Awaitable[bool]], *, within: float = 10.0, what: str = "it"
) -> None:
    await bus.eventually(check, within=within, what=what)


async def owner_of(js: JetStreamContext, org: str, email: str = "owner@example.com") -> str:
    """Publish what identity does when someone signs up owning `org`; their user id."""
    from skiff_contracts.events.identity import MembershipChanged, UserRegistered

    user = new_id("usr")
    now = datetime.now(UTC)
    registered = UserRegistered(
        user_id=user, email=email, name="Olive Owner", organization_id=org, registered_at=now
    )
    for payload in (
        registered,
        MembershipChanged(organization_id=org, user_id=user, role="owner", changed_at=now),
    ):
        await bus.publish(
            js, Envelope.wrap(payload, source="skiff/identity", subject=user, organization_id=org)
        )
    return user


async def owners_known(sessions: async_sessionmaker[AsyncSession], org: str) -> bool:
    from skiff_notification.directory.service import owners

    async with sessions() as session:
        return bool(await owners(session, org))


async def told(
    sessions: async_sessionmaker[AsyncSession], kind: str
) -> tuple[list[Any], list[Any]]:
    """(in-app notifications, queued emails) of this kind."""
    from skiff_notification.email.models import OutgoingEmail
    from skiff_notification.models import Notification

    async with sessions() as session:
        notes = list(await session.scalars(select(Notification).where(Notification.type == kind)))
        mails = list(await session.scalars(select(OutgoingEmail).where(OutgoingEmail.kind == kind)))
    return notes, mails
