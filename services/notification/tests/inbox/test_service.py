"""inbox.service: one notification per event, with its event; marking read is the owner's only."""

from __future__ import annotations

from typing import Any

import pytest
from skiff_contracts import decode_envelope, new_event_id, new_id
from skiff_contracts.events.notification import NotificationCreated
from skiff_kit.errors import NotFound
from skiff_notification.inbox import service
from skiff_notification.models import Notification
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


async def outbox_rows(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, bytes]]:
    async with sessions() as session:
        rows = await session.execute(text("select subject, payload from outbox order by seq"))
        return [(row.subject, row.payload) for row in rows]


async def stored(sessions: async_sessionmaker[AsyncSession]) -> list[Notification]:
    async with sessions() as session:
        return list(await session.scalars(select(Notification).order_by(Notification.id)))


def about(source_event_id: str, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "organization_id": new_id("org"),
        "user_id": new_id("usr"),
        "type_": "welcome",
        "title": "Welcome to Skiff, Ada",
        "body": "Your workspace is ready.",
        "source_event_id": source_event_id,
        "data": {"email": "ada@example.com"},
    }
    return {**values, **overrides}


async def test_notify_stores_the_notification_and_its_event(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    fields = about(new_event_id())
    async with sessions() as session, session.begin():
        assert await service.notify(session, **fields) is True

    [row] = await stored(sessions)
    assert row.id.startswith("ntf_")
    assert (row.organization_id, row.user_id) == (fields["organization_id"], fields["user_id"])
    assert (row.type, row.title, row.body) == ("welcome", "Welcome to Skiff, Ada", fields["body"])
    assert row.data == {"email": "ada@example.com"}
    assert (row.source_event_id, row.read_at) == (fields["source_event_id"], None)

    [(subject, raw)] = await outbox_rows(sessions)
    assert subject == "notification.notification.created"
    envelope = decode_envelope(raw)
    assert (envelope.source, envelope.organization_id) == (
        "skiff/notification",
        fields["organization_id"],
    )
    created = envelope.payload(NotificationCreated)
    assert (created.notification_id, created.user_id, created.type) == (
        row.id,
        fields["user_id"],
        "welcome",
    )


async def test_the_same_event_notifies_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    fields = about(new_event_id())
    async with sessions() as session, session.begin():
        assert await service.notify(session, **fields) is True
    async with sessions() as session, session.begin():
        assert await service.notify(session, **{**fields, "title": "Again"}) is False

    assert [row.title for row in await stored(sessions)] == ["Welcome to Skiff, Ada"]
    assert len(await outbox_rows(sessions)) == 1


async def test_notify_leaves_the_commit_to_the_caller(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        await service.notify(session, **about(new_event_id()))
        await session.rollback()

    assert await stored(sessions) == []
    assert await outbox_rows(sessions) == []


async def test_a_title_too_long_for_its_column_is_shortened(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    title = "Welcome to Skiff, " + "x" * 300
    async with sessions() as session, session.begin():
        assert await service.notify(session, **about(new_event_id(), title=title)) is True

    [row] = await stored(sessions)
    assert len(row.title) == service.TITLE_MAX_LENGTH
    assert row.title == title[: service.TITLE_MAX_LENGTH - 1] + "\u2026"
    [(_, raw)] = await outbox_rows(sessions)
    assert decode_envelope(raw).payload(NotificationCreated).title == row.title


async def test_mark_read_then_unread(sessions: async_sessionmaker[AsyncSession]) -> None:
    fields = about(new_event_id())
    owner = {"organization_id": fields["organization_id"], "user_id": fields["user_id"]}
    async with sessions() as session, session.begin():
        await service.notify(session, **fields)
    [row] = await stored(sessions)

    async with sessions() as session, session.begin():
        first = await service.mark_read(session, row.id, **owner, read=True)
        first_read_at = first.read_at
    assert first_read_at is not None
    async with sessions() as session, session.begin():
        again = await service.mark_read(session, row.id, **owner, read=True)
    assert again.read_at == first_read_at  # the first reading is the one remembered
    [row] = await stored(sessions)
    assert row.read_at == first_read_at

    async with sessions() as session, session.begin():
        await service.mark_read(session, row.id, **owner, read=False)
    [row] = await stored(sessions)
    assert row.read_at is None


async def test_only_the_recipient_can_mark_a_notification(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    fields = about(new_event_id())
    async with sessions() as session, session.begin():
        await service.notify(session, **fields)
    [row] = await stored(sessions)

    strangers = [
        (fields["organization_id"], new_id("usr")),  # a colleague
        (new_id("org"), fields["user_id"]),  # the same user, another organization
    ]
    for organization_id, user_id in strangers:
        async with sessions() as session:
            with pytest.raises(NotFound) as raised:
                await service.mark_read(
                    session, row.id, organization_id=organization_id, user_id=user_id, read=True
                )
        assert raised.value.code == "notification_not_found"
    async with sessions() as session:
        with pytest.raises(NotFound):
            await service.mark_read(
                session,
                new_id("ntf"),
                organization_id=fields["organization_id"],
                user_id=fields["user_id"],
                read=True,
            )
    [row] = await stored(sessions)
    assert row.read_at is None
