"""Billing SIGKILLed between receiving a Stripe webhook and answering it grants once, after the
provider's retry: real processes (gateway, billing, the Stripe stand-in retrying with back-off).

The test holds the organization's account row locked from its own connection, so billing's
webhook handlers stop mid-transaction (their events claimed, not yet committed) where the test
can see them waiting; it then kills billing, releases the lock, checks that the killed
transactions left nothing, starts billing again and lets the stand-in's retries through.
"""

from __future__ import annotations

import asyncio
import signal

import asyncpg
import httpx
import pytest
from skiff_cli.supervisor import Stack
from skiff_kit.catalog import role_name
from skiff_testing.databases import TestDatabase

from tests.conftest import eventually
from tests.users import bearer, register

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

# A Pay press sends both; each grants the same purchase, which must happen once.
EVENTS = ("checkout.session.completed", "payment_intent.succeeded")
BILLING = f"usename = '{role_name('billing')}' and datname = current_database()"
WAITING = f"select count(*) from pg_stat_activity where {BILLING} and wait_event_type = 'Lock'"
CONNECTED = f"select count(*) from pg_stat_activity where {BILLING}"


async def test_billing_killed_mid_webhook_grants_once_after_the_retry(
    stack: Stack, gateway: httpx.AsyncClient, e2e_database: TestDatabase
) -> None:
    created = await register(gateway, "Buyer")
    org = created["organization"]["id"]
    auth = await bearer(gateway, created["user"]["email"])

    async def balance() -> int | None:
        answer = await gateway.get("/api/v1/credits/balance", headers=auth)
        return int(answer.json()["credits"]) if answer.status_code == 200 else None

    assert await eventually(balance) == 100  # the signup bonus
    started = await gateway.post(
        "/api/v1/billing/checkout", json={"package_id": "pkg_1000"}, headers=auth
    )
    assert started.status_code == 201, started.text
    purchase_id, url = started.json()["purchase_id"], started.json()["url"]

    db = await asyncpg.connect(e2e_database.dsn())
    try:
        blocker = db.transaction()
        await blocker.start()
        await db.execute(
            "select 1 from billing.accounts where organization_id = $1 for update", org
        )
        async with httpx.AsyncClient() as browser:  # the customer pays on the hosted page
            paid = await browser.post(url, data={"action": "pay"})
        assert paid.status_code == 303

        # Both webhooks are inside billing's handler, waiting for the account row.
        async def both_waiting() -> bool | None:
            watcher = await asyncpg.connect(e2e_database.dsn())
            try:
                return True if await watcher.fetchval(WAITING) == len(EVENTS) else None
            finally:
                await watcher.close()

        await eventually(both_waiting, within=30)
        await asyncio.to_thread(stack.kill, "billing", 0, signal.SIGKILL)
        await blocker.rollback()

        # The killed transactions end with their server processes: nothing of them is left.
        async def billing_gone() -> bool | None:
            left = await db.fetchval(CONNECTED)
            return True if left == 0 else None

        await eventually(billing_gone, within=30)
        assert await db.fetchval("select count(*) from billing.provider_events") == 0
        assert await _grants(db, purchase_id) == 0
        status = "select status from billing.purchases where id = $1"
        assert await db.fetchval(status, purchase_id) == "pending"

        await asyncio.to_thread(stack.restart, "billing")
        await asyncio.to_thread(stack.wait_healthy, 90)

        # The stand-in retries with back-off (0.5, 1, 2, 5, 10, 30 s) until billing answers 2xx.
        async def both_applied() -> list[str] | None:
            rows = await db.fetch("select type, status from billing.provider_events order by type")
            applied = [row["type"] for row in rows if row["status"] == "applied"]
            return applied if len(applied) == len(EVENTS) else None

        assert await eventually(both_applied, within=120) == sorted(EVENTS)
        await asyncio.sleep(1)  # room for a wrong second grant to show up, if there were one
        assert await _grants(db, purchase_id) == 1
        assert await db.fetchval(status, purchase_id) == "paid"
    finally:
        await db.close()
    assert await balance() == 1100
    shown = await gateway.get(f"/api/v1/billing/purchases/{purchase_id}", headers=auth)
    assert shown.json()["status"] == "paid"


async def _grants(db: asyncpg.Connection, purchase_id: str) -> int:
    count = await db.fetchval(
        "select count(*) from billing.ledger_entries where type = 'purchase' and reference = $1",
        f"purchase:{purchase_id}",
    )
    return int(count)
