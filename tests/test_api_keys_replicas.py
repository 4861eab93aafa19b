"""A key works the moment its creation answers, on every gateway replica (issue 10).

Two gateway replicas; 200 times a key is created through one and used at once through the
other (each replica reached on its own private port): not one refusal. The view of keys is
still event-fed, so revocation within a second and keys outliving identity
(tests/test_api_keys_e2e.py) hold as before; a miss is looked up in identity, bounded.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest
from skiff_cli.supervisor import Stack
from skiff_testing.databases import TestDatabase
from skiff_testing.nats_reset import reset_jetstream

from tests.conftest import stack_config
from tests.users import bearer, register

pytestmark = pytest.mark.e2e
LOOPS = 200


@pytest.fixture(scope="module")
async def stack(
    e2e_database: TestDatabase, nats_server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    await reset_jetstream(nats_server_url)
    config = stack_config(e2e_database, nats_server_url, tmp_path_factory.mktemp("logs"))
    limits = {"SKIFF_RATELIMIT_USER_PER_HOUR": "100000", "SKIFF_RATELIMIT_KEY_PER_MINUTE": "100000"}
    running = Stack(
        dataclasses.replace(config, scale={"gateway": 2}, extra_env={**config.extra_env, **limits})
    )
    await asyncio.to_thread(running.start)
    yield running
    await asyncio.to_thread(running.stop)


async def test_a_new_key_works_at_once_on_every_replica(stack: Stack) -> None:
    replicas = [f"http://127.0.0.1:{p.private_port}" for p in stack.processes("gateway")]
    assert len(replicas) == 2
    first, second = (httpx.AsyncClient(base_url=url, timeout=30) for url in replicas)
    async with first, second:
        person = await register(first, "Scripter")
        auth = await bearer(first, person["user"]["email"])
        refused: list[tuple[int, str]] = []
        for loop in range(LOOPS):
            maker, user = (first, second) if loop % 2 == 0 else (second, first)
            created = await maker.post("/api/v1/api-keys", json={"name": f"k{loop}"}, headers=auth)
            assert created.status_code == 201, created.text
            used = await user.get("/api/v1/auth/me", headers={"x-api-key": created.json()["key"]})
            if used.status_code != 200:
                refused.append((loop, used.text))
            rolled = await maker.post(
                f"/api/v1/api-keys/{created.json()['api_key']['id']}/roll", headers=auth
            )
            again = await user.get("/api/v1/auth/me", headers={"x-api-key": rolled.json()["key"]})
            if again.status_code != 200:
                refused.append((loop, again.text))

    assert refused == []
