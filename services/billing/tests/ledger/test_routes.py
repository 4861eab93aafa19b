"""GET /api/v1/credits/balance of the caller's organization; who may call the credits routes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from billing_support import api_key, member, open_account, record
from litestar.testing import AsyncTestClient
from skiff_billing.ledger import service
from skiff_contracts import new_id
from skiff_testing.services import GatewaySigner
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

BALANCE = "/api/v1/credits/balance"
TRANSACTIONS = "/api/v1/credits/transactions"


async def test_the_balance_of_a_new_account_is_its_signup_bonus(
    client: AsyncTestClient[Any],
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
) -> None:
    org = await open_account(sessions)

    response = await client.get(BALANCE, headers=gateway_signer.headers(member(org)))

    assert response.status_code == 200
    assert response.json() == {
        "credits": 100,
        "reserved": 0,
        "available": 100,
        "usage_this_month": 0,
        "last_topped_up": None,
    }


async def test_the_balance_counts_reservations_and_this_months_usage(
    client: AsyncTestClient[Any],
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
) -> None:
    topped_up = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    org = await open_account(sessions, reserved=40, last_topped_up_at=topped_up)
    now = datetime.now(UTC)
    last_month = service.month_start(now) - timedelta(seconds=1)
    await record(
        sessions,
        org,
        [
            ("purchase", 1000, last_month - timedelta(days=1)),
            ("usage", -7, last_month),  # last month: not in this month's usage
            ("usage", -30, service.month_start(now)),
            ("usage", -12, now),
            ("refund", 5, now),
        ],
    )

    response = await client.get(BALANCE, headers=gateway_signer.headers(member(org)))

    assert response.status_code == 200
    assert response.json() == {
        "credits": 1056,
        "reserved": 40,
        "available": 1016,
        "usage_this_month": 42,
        "last_topped_up": "2025-01-02T03:04:05Z",
    }


async def test_each_organization_sees_its_own_balance(
    client: AsyncTestClient[Any],
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
) -> None:
    rich = await open_account(sessions, bonus=500)
    poor = await open_account(sessions, bonus=3)

    for org, credits in ((rich, 500), (poor, 3)):
        response = await client.get(BALANCE, headers=gateway_signer.headers(member(org)))
        assert response.status_code == 200
        assert response.json()["credits"] == credits


async def test_an_api_key_reads_its_organizations_balance(
    client: AsyncTestClient[Any],
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
) -> None:
    org = await open_account(sessions, bonus=70)

    response = await client.get(BALANCE, headers=gateway_signer.headers(api_key(org)))

    assert response.status_code == 200
    assert response.json()["credits"] == 70


async def test_an_organization_without_an_account_gets_404(
    client: AsyncTestClient[Any],
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
) -> None:
    await open_account(sessions)  # someone else's

    response = await client.get(BALANCE, headers=gateway_signer.headers(member(new_id("org"))))

    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "account_not_found"
    assert body["error"]
    assert body["request_id"] == response.headers["x-request-id"]


@pytest.mark.parametrize("path", [BALANCE, TRANSACTIONS])
async def test_without_an_internal_token_the_routes_answer_401(
    client: AsyncTestClient[Any], gateway_signer: GatewaySigner, path: str
) -> None:
    missing = await client.get(path)
    assert missing.status_code == 401
    assert missing.json()["code"] == "missing_internal_token"

    anonymous = await client.get(path, headers=gateway_signer.headers())
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "authentication_required"

    forged = GatewaySigner().headers(member(new_id("org")))  # signed with another key
    assert (await client.get(path, headers=forged)).status_code == 401
