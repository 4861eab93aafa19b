"""An owner whose sign-up events never reached notification (the bus keeps them 7 days) is
still told when their webhook endpoint is disabled: notification asks identity who the owners
are (`rpc.identity.organizations.owners`), and remembers the answer.

Identity and notification run as their apps, in this process, on the run's PostgreSQL and
NATS; the receiver of the endpoint is on loopback and answers 410 Gone.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import nats
import pytest
from litestar.testing import AsyncTestClient
from skiff_identity.app import create as create_identity
from skiff_identity.settings import IdentitySettings
from skiff_kit.internal_token import generate_keypair
from skiff_messaging.streams import ensure_streams
from skiff_notification.app import create as create_notification
from skiff_notification.settings import NotificationSettings
from skiff_testing.databases import TestDatabase
from skiff_testing.http_receiver import Reply, receiving
from skiff_testing.services import GatewaySigner, migrated_schema

pytestmark = pytest.mark.timeout(120)

SERVICES = Path(__file__).resolve().parents[1] / "services"


@asynccontextmanager
async def identity_running(
    database: TestDatabase, nats_url: str, signer: GatewaySigner
) -> AsyncIterator[AsyncTestClient[Any]]:
    url = await migrated_schema(
        database, schema="identity", migrations=SERVICES / "identity" / "migrations"
    )
    settings = IdentitySettings(
        database_url=url,
        database_schema="identity",
        nats_url=nats_url,
        internal_public_keys=signer.public_keys_json,
        access_token_private_key=generate_keypair()[0],
        password_time_cost=1,
        password_memory_kib=8192,
        log_level="warning",
    )
    async with AsyncTestClient(create_identity(settings)) as client:
        yield client


async def notification_settings(
    database: TestDatabase, nats_url: str, signer: GatewaySigner
) -> NotificationSettings:
    url = await migrated_schema(
        database, schema="notification", migrations=SERVICES / "notification" / "migrations"
    )
    return NotificationSettings(
        database_url=url,
        database_schema="notification",
        nats_url=nats_url,
        internal_public_keys=signer.public_keys_json,
        webhooks_allowed_cidrs="127.0.0.1/32",
        webhooks_allow_http=True,
        log_level="warning",
    )


async def forget_identity_events(nats_url: str) -> None:
    """Wait until identity's relay has published its events, then drop them from the stream,
    as the 7-day limit would have on an older installation."""
    connection = await nats.connect(nats_url)
    try:
        js = connection.jetstream()
        await ensure_streams(js, ["IDENTITY"])
        deadline = time.monotonic() + 20
        while (await js.stream_info("IDENTITY")).state.messages == 0:
            assert time.monotonic() < deadline, "identity published nothing"
            await asyncio.sleep(0.05)
        await js.purge_stream("IDENTITY")
    finally:
        await connection.drain()


async def test_an_owner_notification_never_heard_of_is_told_of_a_disabled_endpoint(
    fresh_database: TestDatabase, nats_url: str, gateway_signer: GatewaySigner
) -> None:
    settings = await notification_settings(fresh_database, nats_url, gateway_signer)
    async with (
        identity_running(fresh_database, nats_url, gateway_signer) as identity,
        receiving(lambda _: Reply(status=410)) as gone,
    ):
        signed_up = await identity.post(
            "/api/v1/auth/register",
            json={"email": "early@example.com", "password": "correct-horse-42", "name": "Ed"},
            headers=gateway_signer.headers(),
        )
        assert signed_up.status_code == 201, signed_up.text
        org, user = signed_up.json()["organization"]["id"], signed_up.json()["user"]["id"]
        await forget_identity_events(nats_url)

        async with AsyncTestClient(create_notification(settings)) as notification:
            owner = gateway_signer.headers(gateway_signer.user(org, user))
            made = await notification.post(
                "/api/v1/webhooks", json={"url": gone.url, "events": ["*"]}, headers=owner
            )
            assert made.status_code == 201, made.text
            ping = await notification.post(
                f"/api/v1/webhooks/{made.json()['id']}/test", headers=owner
            )
            assert ping.status_code in (200, 201, 202), ping.text

            async def told() -> list[dict[str, Any]]:
                answer = await notification.get(
                    "/api/v1/notifications?type=webhook_disabled", headers=owner
                )
                assert answer.status_code == 200, answer.text
                data: list[dict[str, Any]] = answer.json()["data"]
                return data

            deadline = time.monotonic() + 20
            while not (notes := await told()):
                assert time.monotonic() < deadline, "the owner was never told in the app"
                await asyncio.sleep(0.1)

    assert len(gone.received) == 1
    assert notes[0]["title"] == "A webhook endpoint was disabled"
    connection = await asyncpg.connect(fresh_database.dsn())
    try:
        mails = await connection.fetch(
            "select to_address from notification.email_outbox where kind = 'webhook_disabled'"
        )
        known = await connection.fetch(
            "select m.role, u.email from notification.directory_members m"
            " join notification.directory_users u using (user_id)"
            " where m.organization_id = $1",
            org,
        )
    finally:
        await connection.close()
    assert [m["to_address"] for m in mails] == ["early@example.com"]
    # Remembered: the next notice finds the owner in notification's own directory.
    assert [(k["role"], k["email"]) for k in known] == [("owner", "early@example.com")]
