"""identity.user.registered → one welcome notification for that user, however often it arrives."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from nats.js import JetStreamContext
from notification_support import consumed_everything, from_identity, user_registered
from skiff_contracts import Envelope, new_id
from skiff_contracts.events.notification import NotificationCreated
from skiff_notification.inbox import handlers
from skiff_notification.models import Notification
from skiff_testing.bus import eventually, publish, stream_envelopes
from skiff_testing.services import GatewaySigner
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

LIST = "/api/v1/notifications"


async def outbox_size(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(text("select count(*) from outbox")) or 0)


async def created_events(js: JetStreamContext) -> list[Envelope]:
    return [
        e
        for e in await stream_envelopes(js, "NOTIFICATION")
        if e.type == NotificationCreated.event_type
    ]


async def notifications_of(
    client: AsyncTestClient[Any], signer: GatewaySigner, org: str, user: str
) -> list[dict[str, Any]]:
    response = await client.get(LIST, headers=signer.headers(signer.user(org, user)))
    assert response.status_code == 200
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def welcomed(js: JetStreamContext, count: int = 1) -> None:
    async def created() -> bool:
        return len(await created_events(js)) >= count

    await eventually(created, what=f"{count} notification.notification.created")


async def test_a_new_user_is_welcomed_in_their_organization(
    client: AsyncTestClient[Any], js: JetStreamContext, gateway_signer: GatewaySigner
) -> None:
    registered = user_registered(name="Ada Lovelace", email="ada@example.com")
    org, user = registered.organization_id, registered.user_id
    await publish(js, from_identity(registered))

    await welcomed(js)

    [welcome] = await notifications_of(client, gateway_signer, org, user)
    assert welcome["id"].startswith("ntf_")
    assert welcome["type"] == "welcome"
    assert welcome["title"] == "Welcome to Skiff, Ada Lovelace"
    assert welcome["body"]
    assert welcome["data"] == {"email": "ada@example.com"}
    assert (welcome["read"], welcome["read_at"]) == (False, None)
    unread = await client.get(
        f"{LIST}/unread-count", headers=gateway_signer.headers(gateway_signer.user(org, user))
    )
    assert unread.json() == {"unread": 1}

    # Nobody else is told: not a colleague, not the same user in another organization.
    assert await notifications_of(client, gateway_signer, org, new_id("usr")) == []
    assert await notifications_of(client, gateway_signer, new_id("org"), user) == []


async def test_the_notification_is_announced_on_the_notification_stream(
    client: AsyncTestClient[Any], js: JetStreamContext, gateway_signer: GatewaySigner
) -> None:
    registered = user_registered(name="Grace Hopper")
    await publish(js, from_identity(registered))

    await welcomed(js)

    [event] = await created_events(js)
    [welcome] = await notifications_of(
        client, gateway_signer, registered.organization_id, registered.user_id
    )
    assert event.source == "skiff/notification"
    assert event.organization_id == registered.organization_id
    assert event.subject == welcome["id"]
    created = event.payload(NotificationCreated)
    assert created.notification_id == welcome["id"]
    assert (created.organization_id, created.user_id) == (
        registered.organization_id,
        registered.user_id,
    )
    assert (created.type, created.title) == ("welcome", "Welcome to Skiff, Grace Hopper")


async def test_the_same_registration_delivered_again_welcomes_once(
    client: AsyncTestClient[Any],
    js: JetStreamContext,
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
) -> None:
    registered = user_registered()
    envelope = from_identity(registered)
    assert await publish(js, envelope) is False
    assert await publish(js, envelope) is True  # the stream drops the same Nats-Msg-Id
    assert await publish(js, envelope, msg_id=new_id("evt")) is False  # the inbox must

    async def handled() -> bool:
        return await consumed_everything(js)

    await eventually(handled, what="both deliveries acked")

    async def relayed() -> bool:
        return await outbox_size(sessions) == 0 and len(await created_events(js)) >= 1

    await eventually(relayed, what="notification's outbox relayed")

    notifications = await notifications_of(
        client, gateway_signer, registered.organization_id, registered.user_id
    )
    assert [n["type"] for n in notifications] == ["welcome"]
    assert len(await created_events(js)) == 1


async def test_a_user_with_the_longest_name_allowed_is_still_welcomed(
    client: AsyncTestClient[Any], js: JetStreamContext, gateway_signer: GatewaySigner
) -> None:
    name = "Hubert Blaine Wolfeschlegelsteinhausenbergerdorff " * 4  # 200 characters
    registered = user_registered(name=name[:200])
    await publish(js, from_identity(registered))

    await welcomed(js)

    [welcome] = await notifications_of(
        client, gateway_signer, registered.organization_id, registered.user_id
    )
    assert welcome["title"].startswith("Welcome to Skiff, Hubert Blaine")
    assert welcome["title"].endswith("\u2026")
    assert len(welcome["title"]) <= 200


async def test_the_handler_alone_welcomes_once_per_event(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # The inbox normally stops a repeat; the handler must hold even where it does not.
    registered = user_registered()
    envelope = from_identity(registered)
    for _ in range(2):
        async with sessions() as session, session.begin():
            await handlers.user_registered(session, envelope, registered)

    async with sessions() as session:
        rows = list(await session.scalars(select(Notification)))
    assert [(r.user_id, r.type, r.source_event_id) for r in rows] == [
        (registered.user_id, "welcome", envelope.id)
    ]
