"""PATCH /api/v1/notifications/{id} and POST /read-all: only the recipient marks, and 404 else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from notification_support import InboxOf
from skiff_contracts import new_id

LIST = "/api/v1/notifications"
UNREAD = f"{LIST}/unread-count"
READ_ALL = f"{LIST}/read-all"


async def test_patch_marks_read_and_unread_again(
    client: AsyncTestClient[Any], inbox_of: InboxOf
) -> None:
    inbox = inbox_of()
    [notification_id, other] = await inbox.add(("welcome", False), ("credits_low", False))

    read = await client.patch(
        f"{LIST}/{notification_id}", json={"read": True}, headers=inbox.headers
    )

    assert read.status_code == 200
    assert read.json()["id"] == notification_id
    assert read.json()["read"] is True
    read_at = datetime.fromisoformat(read.json()["read_at"])
    assert abs(datetime.now(UTC) - read_at) < timedelta(minutes=1)
    assert await inbox.read_at(notification_id) == read_at
    assert await inbox.unread_ids() == {other}
    assert (await client.get(UNREAD, headers=inbox.headers)).json() == {"unread": 1}

    unread = await client.patch(
        f"{LIST}/{notification_id}", json={"read": False}, headers=inbox.headers
    )

    assert unread.status_code == 200
    assert (unread.json()["read"], unread.json()["read_at"]) == (False, None)
    assert await inbox.unread_ids() == {notification_id, other}


async def test_marking_read_twice_keeps_the_first_time(
    client: AsyncTestClient[Any], inbox_of: InboxOf
) -> None:
    inbox = inbox_of()
    [notification_id] = await inbox.add(("welcome", True))
    first = await inbox.read_at(notification_id)

    response = await client.patch(f"{LIST}/{notification_id}", json={}, headers=inbox.headers)

    assert response.status_code == 200
    assert response.json()["read_at"] == "2025-06-01T12:00:30Z"
    assert await inbox.read_at(notification_id) == first


async def test_an_empty_patch_marks_read(client: AsyncTestClient[Any], inbox_of: InboxOf) -> None:
    inbox = inbox_of()
    [notification_id] = await inbox.add(("welcome", False))

    response = await client.patch(f"{LIST}/{notification_id}", json={}, headers=inbox.headers)

    assert response.status_code == 200
    assert response.json()["read"] is True
    assert await inbox.unread_ids() == set()


async def test_someone_elses_notification_is_not_found(
    client: AsyncTestClient[Any], inbox_of: InboxOf
) -> None:
    owner = inbox_of()
    [notification_id] = await owner.add(("welcome", False))
    colleague = inbox_of(org=owner.org)
    elsewhere = inbox_of(user=owner.user)  # the owner, acting in another organization

    for stranger in (colleague, elsewhere):
        response = await client.patch(
            f"{LIST}/{notification_id}", json={"read": True}, headers=stranger.headers
        )
        assert response.status_code == 404
        assert response.json()["code"] == "notification_not_found"
    unknown = await client.patch(f"{LIST}/{new_id('ntf')}", json={}, headers=owner.headers)
    assert unknown.status_code == 404

    assert await owner.unread_ids() == {notification_id}


@pytest.mark.parametrize(
    "body", [{"read": True, "archived": True}, {"seen": True}, {"read": "yes"}, [True]]
)
async def test_a_malformed_patch_body_is_a_validation_error(
    client: AsyncTestClient[Any], inbox_of: InboxOf, body: Any
) -> None:
    inbox = inbox_of()
    [notification_id] = await inbox.add(("welcome", False))

    response = await client.patch(f"{LIST}/{notification_id}", json=body, headers=inbox.headers)

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert await inbox.unread_ids() == {notification_id}


async def test_read_all_marks_every_unread_notification_of_the_caller(
    client: AsyncTestClient[Any], inbox_of: InboxOf
) -> None:
    inbox = inbox_of()
    already_read, *_ = await inbox.add(("welcome", True), ("a", False), ("b", False), ("c", False))
    before = await inbox.read_at(already_read)
    colleague = inbox_of(org=inbox.org)
    [theirs] = await colleague.add(("welcome", False))

    response = await client.post(READ_ALL, headers=inbox.headers)

    assert response.status_code == 200
    assert response.json() == {"marked": 3}
    assert await inbox.unread_ids() == set()
    assert await inbox.read_at(already_read) == before
    assert (await client.get(UNREAD, headers=inbox.headers)).json() == {"unread": 0}
    assert await colleague.unread_ids() == {theirs}

    again = await client.post(READ_ALL, headers=inbox.headers)
    assert again.json() == {"marked": 0}
