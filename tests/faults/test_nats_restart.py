"""NATS killed with SIGKILL mid-flow and started again: nothing is lost, and every feature works
again without restarting any service (issue 9).

One stack (two gateway replicas, the Docker backend) on a NATS of its own. While users sign
up, NATS dies for a few seconds; afterwards LIVE (`?wait`, SSE) and the rate-limit bucket,
which lived only in NATS's memory, come back by themselves, the API key directory follows
revocations again, and every signup got its bonus.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from skiff_cli.supervisor import Stack
from skiff_testing.databases import TestDatabase

from tests.conftest import eventually
from tests.faults.conftest import Restartable, fault_stack, run_stack
from tests.users import bearer, register

pytestmark = pytest.mark.docker

SESSIONS = "/api/v1/sessions"
ME = "/api/v1/auth/me"
PROBE_LIMIT = 25  # per hour on /auth/me, shared by both replicas
SIGNUPS = 40
DOWN_SECONDS = 4.0


@pytest.fixture(scope="module")
async def stack(
    sandbox_image: str,
    database: TestDatabase,
    own_nats: Restartable,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    rule = [{"prefix": ME, "limit": PROBE_LIMIT, "window_seconds": 3600, "name": "probe"}]
    built = fault_stack(
        database,
        own_nats.server.url,  # type: ignore[union-attr]
        tmp_path_factory.mktemp("logs"),
        scale={"gateway": 2},
        env={"SKIFF_RATELIMIT_ROUTES": json.dumps(rule)},
    )
    async for running in run_stack(built):
        yield running


REFUSED: list[str] = []  # what a signup attempt got while NATS was away (reported below)


async def _signups(gateway: httpx.AsyncClient, count: int, started: asyncio.Event) -> list[str]:
    """Register `count` users, 4 at a time, retrying a refused attempt; their organizations."""
    organizations: list[str] = []
    queue = list(range(count))

    async def worker() -> None:
        while queue:
            index = queue.pop()
            while True:
                try:
                    body = await register(gateway, f"Fault{index}")
                    break
                except (AssertionError, httpx.HTTPError) as refused:
                    REFUSED.append(str(refused)[:80])
                    await asyncio.sleep(0.2)  # a 5xx while NATS is away is allowed: retry
            organizations.append(body["organization"]["id"])
            if len(organizations) >= 8:
                started.set()

    await asyncio.gather(*(worker() for _ in range(4)))
    return organizations


async def _fresh(url: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One request on a connection of its own: the kernel picks one of the two replicas."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        return await client.request(method, path, **kwargs)


async def test_nats_killed_mid_flow_loses_nothing_and_every_feature_comes_back(
    stack: Stack, own_nats: Restartable, database: TestDatabase
) -> None:
    url = stack.gateway_url
    async with httpx.AsyncClient(base_url=url, timeout=60) as gateway:
        owner = await register(gateway, "Owner")
        auth = await bearer(gateway, owner["user"]["email"])
        session = await gateway.post(SESSIONS, json={}, headers=auth, params={"wait": "true"})
        assert session.json()["status"] == "running", session.text
        tasks = f"{SESSIONS}/{session.json()['id']}/tasks"

        started = asyncio.Event()
        signing_up = asyncio.create_task(_signups(gateway, SIGNUPS, started))
        await started.wait()
        own_nats.kill()
        await asyncio.sleep(DOWN_SECONDS)
        own_nats.start()
        back = time.monotonic()
        organizations = await signing_up

        # LIVE is back (re-made by the services themselves): a waiting task answers again.
        async def waited() -> dict[str, Any] | None:
            answer = await gateway.post(
                tasks, json={"command": "echo back"}, headers=auth, params={"wait": "true"}
            )
            return answer.json() if answer.status_code == 200 else None

        result = await eventually(waited, within=60)
        recovered = time.monotonic() - back
        assert (result["status"], result["stdout"]) == ("succeeded", "back\n")
        print(f"\n?wait task answered {recovered:.1f} s after NATS came back")
        print(f"signup attempts refused while NATS was away: {len(REFUSED)} {REFUSED[:3]}")

        # SSE works on a new stream: output, then `end`.
        queued = await gateway.post(tasks, json={"command": "echo streamed"}, headers=auth)
        stream = await gateway.get(f"/api/v1/tasks/{queued.json()['id']}/stream", headers=auth)
        assert stream.status_code == 200
        assert "streamed" in stream.text
        assert "event: end" in stream.text

    # Shared limits: the two replicas together admit at most the limit again.
    admitted = await _burst(url, auth)
    assert 0 < admitted <= PROBE_LIMIT, f"{admitted} admitted; the shared limit is {PROBE_LIMIT}"

    # The key directory follows changes again: a revoked key is refused everywhere within 1 s.
    await _revocation_applies_within_a_second(url, auth)

    # Nothing lost: every signup made through the outage got its account and one bonus.
    await _every_organization_has_one_bonus(database, [*organizations, owner["organization"]["id"]])
    assert all(p.alive and p.restarts == 0 for p in stack.processes()), "no service restarted"


async def _burst(url: str, auth: dict[str, str]) -> int:
    """Twice the limit on fresh connections, all within one hour window."""
    while True:
        hour = datetime.now(UTC).hour
        answers = await asyncio.gather(
            *(_fresh(url, "GET", ME, headers=auth) for _ in range(2 * PROBE_LIMIT))
        )
        if datetime.now(UTC).hour == hour:
            break
    statuses = [answer.status_code for answer in answers]
    assert set(statuses) <= {200, 429}, statuses
    return statuses.count(200)


async def _revocation_applies_within_a_second(url: str, auth: dict[str, str]) -> None:
    created = await _fresh(url, "POST", "/api/v1/api-keys", json={"name": "probe"}, headers=auth)
    assert created.status_code == 201, created.text
    key = {"x-api-key": created.json()["key"]}

    async def usable() -> bool | None:
        return (
            True if (await _fresh(url, "GET", "/api/v1/api-keys", headers=key)).is_success else None
        )

    await eventually(usable, within=10)
    key_id = created.json()["api_key"]["id"]
    revoked = await _fresh(url, "POST", f"/api/v1/api-keys/{key_id}/revoke", headers=auth)
    assert revoked.status_code == 200, revoked.text
    at = time.monotonic()
    while True:
        answers = await asyncio.gather(
            *(_fresh(url, "GET", "/api/v1/api-keys", headers=key) for _ in range(8))
        )
        if all(answer.status_code == 401 for answer in answers):
            break
        assert time.monotonic() - at < 1.0, [answer.status_code for answer in answers]
    assert {answer.json()["code"] for answer in answers} == {"api_key_revoked"}


async def _every_organization_has_one_bonus(
    database: TestDatabase, organizations: list[str]
) -> None:
    assert len(set(organizations)) == len(organizations) == SIGNUPS + 1
    connection = await asyncpg.connect(database.dsn())
    try:

        async def all_bonuses() -> list[asyncpg.Record] | None:
            rows = await connection.fetch(
                "select organization_id, count(*) as n from billing.ledger_entries"
                " where type = 'bonus' and organization_id = any($1) group by organization_id",
                organizations,
            )
            return rows if len(rows) == len(organizations) else None

        rows = await eventually(all_bonuses, within=60)
        assert {row["n"] for row in rows} == {1}
    finally:
        await connection.close()
