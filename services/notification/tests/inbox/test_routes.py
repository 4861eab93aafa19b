"""GET /api/v1/notifications and /unread-count: the signed-in user's own, in one organization."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from notification_support import Inbox, InboxOf
from skiff_contracts import new_id
from skiff_kit.internal_token import Principal
from skiff_testing.services import GatewaySigner

LIST = "/api/v1/notifications"
UNREAD = f"{LIST}/unread-count"
READ_ALL = f"{LIST}/read-all"


async def listed(
    client: AsyncTestClient[Any], inbox: Inbox, **params: Any
) -> tuple[list[str], str | None]:
    response = await client.get(LIST, params=params, headers=inbox.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    return [n["id"] for n in body["data"]], body["next_cursor"]


async def test_notifications_are_listed_newest_first(
    client: AsyncTestClient[Any], inbox_of: InboxOf
) -> None:
    inbox = inbox_of()
    older, newer = await inbox.add(("welcome", True), ("credits_low", False))

    response = await client.get(LIST, headers=inbox.headers)

    assert response.status_code == 200
    assert response.json() == {
        "data": [
            {
                "id": newer,
                "type": "credits_low",
                "title": "credits_low 1",
                "body": "body 1",
                "data": {"n": 1},
                "read": False,
                "read_at": None,
                "created_at": "2025-06-01T12:01:00Z",
            },
            {
                "id": older,
                "type": "welcome",
                "title": "welcome 0",
                "body": "body 0",
                "data": {"n": 0},
                "read": True,
                "read_at": "2025-06-01T12:00:30Z",
                "created_at": "2025-06-01T12:00:00Z",
            },
        ],
        "next_cursor": None,
    }


async def test_the_read_and_type_filters(client: AsyncTestClient[Any], inbox_of: InboxOf) -> None:
    inbox = inbox_of()
    welcome, low_read, low_unread, stopped = await inbox.add(
        ("welcome", False), ("credits_low", True), ("credits_low", False), ("session_stopped", True)
    )

    assert (await listed(client, inbox, read="false"))[0] == [low_unread, welcome]
    assert (await listed(client, inbox, read="true"))[0] == [stopped, low_read]
    assert (await listed(client, inbox, type="credits_low"))[0] == [low_unread, low_read]
    assert (await listed(client, inbox, type="credits_low", read="false"))[0] == [low_unread]
    assert (await listed(client, inbox, type="nothing_like_it"))[0] == []


async def test_pages_follow_next_cursor_and_keep_the_filters(
    client: AsyncTestClient[Any], inbox_of: InboxOf
) -> None:
    inbox = inbox_of()
    ids = await inbox.add(*[("credits_low", n % 2 == 0) for n in range(9)])
    unread_newest_first = [id_ for n, id_ in enumerate(ids) if n % 2 == 1][::-1]

    pages: list[list[str]] = []
    cursor: str | None = None
    for _ in range(5):
        params: dict[str, Any] = {"read": "false", "limit": 3}
        page, cursor = await listed(
            client, inbox, **params, **({"cursor": cursor} if cursor else {})
        )
        pages.append(page)
        if cursor is None:
            break

    assert pages == [unread_newest_first[:3], unread_newest_first[3:]]


async def test_only_the_callers_own_notifications_are_listed(
    client: AsyncTestClient[Any], inbox_of: InboxOf
) -> None:
    mine = inbox_of()
    [my_id] = await mine.add(("welcome", False))
    await inbox_of(org=mine.org).add(("welcome", False))  # a colleague's
    await inbox_of(user=mine.user).add(("welcome", False))  # mine, in another organization

    assert (await listed(client, mine))[0] == [my_id]
    assert (await client.get(UNREAD, headers=mine.headers)).json() == {"unread": 1}


@pytest.mark.parametrize("limit", ["0", "201", "-3", "lots"])
async def test_a_limit_outside_1_to_200_is_a_validation_error(
    client: AsyncTestClient[Any], inbox_of: InboxOf, limit: str
) -> None:
    inbox = inbox_of()

    response = await client.get(LIST, params={"limit": limit}, headers=inbox.headers)

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert [f["field"] for f in response.json()["details"]["fields"]] == ["limit"]


async def test_a_forged_cursor_is_a_validation_error(
    client: AsyncTestClient[Any], inbox_of: InboxOf
) -> None:
    inbox = inbox_of()

    response = await client.get(LIST, params={"cursor": "%%%nope"}, headers=inbox.headers)

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert [f["field"] for f in response.json()["details"]["fields"]] == ["cursor"]


async def test_unread_count_counts_only_unread(
    client: AsyncTestClient[Any], inbox_of: InboxOf
) -> None:
    inbox = inbox_of()
    assert (await client.get(UNREAD, headers=inbox.headers)).json() == {"unread": 0}

    await inbox.add(("welcome", False), ("credits_low", True), ("credits_low", False))

    response = await client.get(UNREAD, headers=inbox.headers)
    assert response.status_code == 200
    assert response.json() == {"unread": 2}


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", LIST), ("GET", UNREAD), ("PATCH", f"{LIST}/ntf_x"), ("POST", READ_ALL)],
)
async def test_without_an_internal_token_every_route_answers_401(
    client: AsyncTestClient[Any], gateway_signer: GatewaySigner, method: str, path: str
) -> None:
    missing = await client.request(method, path, json={} if method == "PATCH" else None)
    assert missing.status_code == 401
    assert missing.json()["code"] == "missing_internal_token"

    anonymous = await client.request(
        method, path, json={} if method == "PATCH" else None, headers=gateway_signer.headers()
    )
    assert anonymous.status_code == 401


async def test_an_api_key_has_no_notifications_of_its_own(
    client: AsyncTestClient[Any], gateway_signer: GatewaySigner
) -> None:
    key = Principal(organization_id=new_id("org"), api_key_id=new_id("key"), via="api_key")

    response = await client.get(LIST, headers=gateway_signer.headers(key))

    assert response.status_code == 403
    assert response.json()["code"] == "user_required"
