"""GET /api/v1/credits/transactions: the ledger newest first, in pages, of one organization."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from billing_support import member, open_account, record
from litestar.testing import AsyncTestClient
from skiff_contracts import new_id
from skiff_testing.services import GatewaySigner
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

TRANSACTIONS = "/api/v1/credits/transactions"


async def test_transactions_are_listed_newest_first(
    client: AsyncTestClient[Any],
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
) -> None:
    org = await open_account(sessions)
    now = datetime.now(UTC)
    usage, purchase = await record(
        sessions, org, [("usage", -25, now), ("purchase", 1000, now + timedelta(seconds=1))]
    )

    response = await client.get(TRANSACTIONS, headers=gateway_signer.headers(member(org)))

    assert response.status_code == 200
    body = response.json()
    assert body["next_cursor"] is None
    assert [t["id"] for t in body["data"][:2]] == [purchase, usage]
    assert [(t["type"], t["amount"], t["balance_after"]) for t in body["data"]] == [
        ("purchase", 1000, 1075),
        ("usage", -25, 75),
        ("bonus", 100, 100),
    ]
    assert body["data"][0] == {
        "id": purchase,
        "type": "purchase",
        "amount": 1000,
        "balance_after": 1075,
        "description": "purchase of 1000",
        "reference": f"ref-{purchase}",
        "created_at": (now + timedelta(seconds=1)).isoformat().replace("+00:00", "Z"),
    }
    assert body["data"][2]["reference"] == "signup_bonus"


async def test_transactions_page_with_limit_and_next_cursor(
    client: AsyncTestClient[Any],
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
) -> None:
    org = await open_account(sessions, bonus=0)
    now = datetime.now(UTC)
    ids = await record(sessions, org, [("purchase", 10 * (n + 1), now) for n in range(5)])
    headers = gateway_signer.headers(member(org))

    pages: list[list[str]] = []
    cursor: str | None = None
    for _ in range(5):
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        response = await client.get(TRANSACTIONS, params=params, headers=headers)
        assert response.status_code == 200
        pages.append([t["id"] for t in response.json()["data"]])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break

    newest_first = ids[::-1]
    assert pages == [newest_first[0:2], newest_first[2:4], newest_first[4:]]


async def test_a_full_last_page_has_no_next_cursor(
    client: AsyncTestClient[Any],
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
) -> None:
    org = await open_account(sessions, bonus=0)
    await record(sessions, org, [("purchase", 10, datetime.now(UTC))] * 2)

    response = await client.get(
        TRANSACTIONS, params={"limit": 2}, headers=gateway_signer.headers(member(org))
    )

    assert len(response.json()["data"]) == 2
    assert response.json()["next_cursor"] is None


async def test_transactions_default_to_pages_of_50(
    client: AsyncTestClient[Any],
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
) -> None:
    org = await open_account(sessions, bonus=0)
    await record(sessions, org, [("purchase", 1, datetime.now(UTC))] * 51)
    headers = gateway_signer.headers(member(org))

    first = await client.get(TRANSACTIONS, headers=headers)
    assert len(first.json()["data"]) == 50
    cursor = first.json()["next_cursor"]
    assert cursor is not None

    rest = await client.get(TRANSACTIONS, params={"cursor": cursor}, headers=headers)
    assert len(rest.json()["data"]) == 1
    assert rest.json()["next_cursor"] is None


async def test_transactions_of_another_organization_are_never_listed(
    client: AsyncTestClient[Any],
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
) -> None:
    mine = await open_account(sessions)
    theirs = await open_account(sessions)
    [their_usage] = await record(sessions, theirs, [("usage", -5, datetime.now(UTC))])
    headers = gateway_signer.headers(member(mine))

    response = await client.get(TRANSACTIONS, headers=headers)
    assert response.status_code == 200
    assert [t["reference"] for t in response.json()["data"]] == ["signup_bonus"]
    # A cursor naming the other organization's entry, or past it, is not a cursor of our
    # list: a 400 that says nothing of their ledger.
    for cursor_id in (their_usage, f"{their_usage}z"):
        cursor = base64.urlsafe_b64encode(cursor_id.encode()).decode().rstrip("=")
        refused = await client.get(TRANSACTIONS, params={"cursor": cursor}, headers=headers)
        assert refused.status_code == 400
        assert refused.json()["code"] == "validation_error"
        assert their_usage not in refused.text

    nobody = await client.get(TRANSACTIONS, headers=gateway_signer.headers(member(new_id("org"))))
    assert nobody.json() == {"data": [], "next_cursor": None}


@pytest.mark.parametrize("limit", ["0", "-1", "201", "many"])
async def test_a_limit_outside_1_to_200_is_a_validation_error(
    client: AsyncTestClient[Any],
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
    limit: str,
) -> None:
    org = await open_account(sessions)

    response = await client.get(
        TRANSACTIONS, params={"limit": limit}, headers=gateway_signer.headers(member(org))
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert [f["field"] for f in body["details"]["fields"]] == ["limit"]


@pytest.mark.parametrize("limit", ["1", "200"])
async def test_limits_1_and_200_are_accepted(
    client: AsyncTestClient[Any],
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
    limit: str,
) -> None:
    org = await open_account(sessions)

    response = await client.get(
        TRANSACTIONS, params={"limit": limit}, headers=gateway_signer.headers(member(org))
    )

    assert response.status_code == 200
    assert len(response.json()["data"]) == 1


@pytest.mark.parametrize("cursor", ["not-a-cursor!", "AAAA", "x" * 201])
async def test_a_forged_cursor_is_a_validation_error(
    client: AsyncTestClient[Any],
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
    cursor: str,
) -> None:
    org = await open_account(sessions)

    response = await client.get(
        TRANSACTIONS, params={"cursor": cursor}, headers=gateway_signer.headers(member(org))
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert [f["field"] for f in body["details"]["fields"]] == ["cursor"]
