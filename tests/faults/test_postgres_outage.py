"""PostgreSQL killed and started again: 503 `database_unavailable` with `Retry-After` meanwhile
(never a 500), then recovery by itself, and nothing committed before is lost (issue 9)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest
from skiff_cli.supervisor import Stack
from skiff_testing.databases import TestDatabase, create_database, drop_database

from tests.conftest import eventually
from tests.faults.conftest import Restartable, fault_stack, run_stack
from tests.users import bearer, register

# A route of each service that reads its database.
ROUTES = [
    "/api/v1/organizations",  # identity
    "/api/v1/api-keys",  # identity
    "/api/v1/credits/balance",  # billing
    "/api/v1/notifications",  # notification
    "/api/v1/sessions",  # orchestrator
]


@pytest.fixture(scope="module")
async def database(own_postgres: Restartable) -> AsyncIterator[TestDatabase]:
    created = await create_database(own_postgres.server.admin_dsn)  # type: ignore[union-attr]
    yield created
    await drop_database(created)


@pytest.fixture(scope="module")
async def stack(
    database: TestDatabase, own_nats: Restartable, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    built = fault_stack(database, own_nats.server.url, tmp_path_factory.mktemp("logs"))  # type: ignore[union-attr]
    async for running in run_stack(built):
        yield running


async def test_postgres_down_answers_503_then_recovers_with_nothing_lost(
    stack: Stack, own_postgres: Restartable
) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as gateway:
        before = await register(gateway, "Before")
        auth = await bearer(gateway, before["user"]["email"])
        for route in ROUTES:
            assert (await gateway.get(route, headers=auth)).status_code == 200, route

        own_postgres.kill()
        down = Counter[int]()
        for _ in range(3):
            for route in ROUTES:
                answer = await gateway.get(route, headers=auth)
                down[answer.status_code] += 1
                assert answer.status_code == 503, (route, answer.text)
                assert answer.json()["code"] == "database_unavailable", answer.text
                assert answer.headers["retry-after"] == "5"
        health = await gateway.get("/api/v1/health/deep")
        assert health.status_code == 503
        assert "database" in health.text

        own_postgres.start()
        back = time.monotonic()

        async def every_route_answers() -> bool | None:
            statuses = [(await gateway.get(r, headers=auth)).status_code for r in ROUTES]
            assert set(statuses) <= {200, 503}, statuses
            return True if statuses == [200] * len(ROUTES) else None

        await eventually(every_route_answers, within=60)
        print(
            f"\nall routes answered 200 {time.monotonic() - back:.1f} s after PostgreSQL came back"
        )

        # What committed before the outage went on afterwards: the bonus and the welcome note.
        async def settled() -> bool | None:
            balance = (await gateway.get("/api/v1/credits/balance", headers=auth)).json()
            notes = (await gateway.get("/api/v1/notifications", headers=auth)).json()["data"]
            return True if balance["credits"] == 100 and notes else None

        await eventually(settled, within=30)
        after = await register(gateway, "After")  # and new work is accepted again
        assert after["organization"]["id"]
    assert down[503] == 3 * len(ROUTES)
    await asyncio.sleep(0)
    assert all(p.alive and p.restarts == 0 for p in stack.processes()), "no service restarted"
