"""rpc.billing.credits.check over real NATS: what an organization has available, and enough?"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest
from billing_support import open_account
from litestar.testing import AsyncTestClient
from nats.aio.client import Client as NATS
from skiff_contracts import new_id
from skiff_contracts.rpc.billing import CREDIT_CHECK_SUBJECT, CreditCheck, CreditCheckReply
from skiff_messaging.errors import RemoteError
from skiff_messaging.rpc import request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[NATS]:
    """The orchestrator's side of the request."""
    connection = await nats.connect(nats_url)
    yield connection
    await connection.drain()


async def check(nc: NATS, organization_id: str, required: int) -> CreditCheckReply:
    body = CreditCheck(organization_id=organization_id, required=required)
    return await request(nc, CREDIT_CHECK_SUBJECT, body, CreditCheckReply, timeout=5.0)


async def test_enough_credits_are_sufficient(
    client: AsyncTestClient[Any], nc: NATS, sessions: async_sessionmaker[AsyncSession]
) -> None:
    org = await open_account(sessions, bonus=100, reserved=40)

    assert await check(nc, org, 1) == CreditCheckReply(available=60, sufficient=True)
    assert await check(nc, org, 60) == CreditCheckReply(available=60, sufficient=True)


async def test_too_few_credits_are_insufficient(
    client: AsyncTestClient[Any], nc: NATS, sessions: async_sessionmaker[AsyncSession]
) -> None:
    org = await open_account(sessions, bonus=0)

    assert await check(nc, org, 1) == CreditCheckReply(available=0, sufficient=False)
    richer = await open_account(sessions, bonus=5)
    assert await check(nc, richer, 6) == CreditCheckReply(available=5, sufficient=False)


async def test_an_overdrawn_account_has_nothing_available(
    client: AsyncTestClient[Any], nc: NATS, sessions: async_sessionmaker[AsyncSession]
) -> None:
    org = await open_account(sessions, bonus=0, balance=-2)

    assert await check(nc, org, 1) == CreditCheckReply(available=0, sufficient=False)


async def test_an_organization_without_an_account_has_nothing(
    client: AsyncTestClient[Any], nc: NATS
) -> None:
    assert await check(nc, new_id("org"), 1) == CreditCheckReply(available=0, sufficient=False)


async def test_a_negative_requirement_is_a_bad_request(
    client: AsyncTestClient[Any], nc: NATS, sessions: async_sessionmaker[AsyncSession]
) -> None:
    org = await open_account(sessions)

    with pytest.raises(RemoteError) as refused:
        await check(nc, org, -1)

    assert refused.value.code == "bad_request"
