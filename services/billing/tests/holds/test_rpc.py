"""rpc.billing.holds.*: reserve, capture, release over NATS request/reply, against the app."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import nats
import pytest
from billing_support import open_account
from litestar.testing import AsyncTestClient
from nats.js import JetStreamContext
from skiff_billing.app import create
from skiff_billing.models import Account, Hold
from skiff_billing.settings import BillingSettings
from skiff_contracts.rpc.billing import (
    HOLD_CAPTURE_SUBJECT,
    HOLD_RELEASE_SUBJECT,
    HOLD_RESERVE_SUBJECT,
    HoldCapture,
    HoldRelease,
    HoldReply,
    HoldReserve,
)
from skiff_messaging.errors import RemoteError
from skiff_messaging.rpc import request
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


async def account_of(sessions: async_sessionmaker[AsyncSession], org: str) -> Account:
    async with sessions() as session:
        found = await session.scalar(select(Account).where(Account.organization_id == org))
        assert found is not None
        return found


async def test_64_concurrent_reserves_admit_what_the_balance_fits(
    client: AsyncTestClient[Any], nats_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    org = await open_account(sessions, bonus=100)  # fits 10 holds of 10
    connection = await nats.connect(nats_url)

    async def reserve(n: int) -> HoldReply | RemoteError:
        body = HoldReserve(organization_id=org, amount=10, reference=f"deploy-{n}")
        try:
            return await request(connection, HOLD_RESERVE_SUBJECT, body, HoldReply, timeout=20)
        except RemoteError as refused:
            return refused

    answers = await asyncio.gather(*(reserve(n) for n in range(64)))
    await connection.drain()

    admitted = [a for a in answers if isinstance(a, HoldReply)]
    refused = [a for a in answers if isinstance(a, RemoteError)]
    assert len(admitted) == 10
    assert {r.code for r in refused} == {"insufficient_credits"}
    assert all(r.details["required"] == 10 for r in refused)
    account = await account_of(sessions, org)
    assert (account.balance, account.reserved, account.available) == (100, 100, 0)
    async with sessions() as session:
        pending = await session.scalar(
            select(func.sum(Hold.amount)).where(
                Hold.organization_id == org, Hold.status == "pending"
            )
        )
    assert pending == 100


async def test_capture_part_release_the_rest_and_each_call_is_idempotent(
    client: AsyncTestClient[Any], nats_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    org = await open_account(sessions, bonus=100)
    connection = await nats.connect(nats_url)
    try:
        body = HoldReserve(organization_id=org, amount=30, reference="dep_1", expires_in=600)
        hold = await request(connection, HOLD_RESERVE_SUBJECT, body, HoldReply)
        again = await request(connection, HOLD_RESERVE_SUBJECT, body, HoldReply)
        assert again.id == hold.id
        assert (await account_of(sessions, org)).reserved == 30

        capture = HoldCapture(hold_id=hold.id, amount=12)
        captured = await request(connection, HOLD_CAPTURE_SUBJECT, capture, HoldReply)
        repeated = await request(connection, HOLD_CAPTURE_SUBJECT, capture, HoldReply)
        assert (captured.status, captured.captured) == ("captured", 12)
        assert repeated == captured
        account = await account_of(sessions, org)
        assert (account.balance, account.reserved) == (88, 0)

        with pytest.raises(RemoteError) as resolved:
            await request(connection, HOLD_RELEASE_SUBJECT, HoldRelease(hold_id=hold.id), HoldReply)
        assert resolved.value.code == "hold_already_resolved"

        other = await request(
            connection,
            HOLD_RESERVE_SUBJECT,
            HoldReserve(organization_id=org, amount=5, reference="dep_2"),
            HoldReply,
        )
        release = HoldRelease(hold_id=other.id)
        released = await request(connection, HOLD_RELEASE_SUBJECT, release, HoldReply)
        assert released.status == "released"
        assert (await request(connection, HOLD_RELEASE_SUBJECT, release, HoldReply)) == released
        account = await account_of(sessions, org)
        assert (account.balance, account.reserved) == (88, 0)
    finally:
        await connection.drain()


async def test_a_hold_past_its_time_is_released_by_billing(
    make_settings: Callable[..., BillingSettings],
    js: JetStreamContext,
    nats_url: str,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    org = await open_account(sessions, bonus=100)
    async with AsyncTestClient(create(make_settings(hold_sweep_seconds=0.2))):
        connection = await nats.connect(nats_url)
        body = HoldReserve(organization_id=org, amount=40, reference="dep_x", expires_in=1)
        hold = await request(connection, HOLD_RESERVE_SUBJECT, body, HoldReply)
        assert (await account_of(sessions, org)).reserved == 40
        for _ in range(100):
            async with sessions() as session:
                found = await session.get(Hold, hold.id)
            if found is not None and found.status == "expired":
                break
            await asyncio.sleep(0.1)
        assert found is not None
        assert found.status == "expired"
        assert (await account_of(sessions, org)).reserved == 0
        with pytest.raises(RemoteError) as late:
            await request(connection, HOLD_CAPTURE_SUBJECT, HoldCapture(hold_id=hold.id), HoldReply)
        assert late.value.details == {"status": "expired"}
        await connection.drain()
