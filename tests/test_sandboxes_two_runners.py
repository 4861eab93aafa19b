"""Two sandbox-runners at once: each session is pinned to one, and its tasks and files reach it.

Then one runner is killed for good: its sessions become `failed` within a bounded time, and
the other runner's sessions keep working. Local backend (the routing is the same on docker).
"""

from __future__ import annotations

import asyncio
import dataclasses
import signal
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from skiff_cli.supervisor import Stack
from skiff_testing.databases import TestDatabase
from skiff_testing.nats_reset import reset_jetstream

from tests.conftest import eventually, stack_config
from tests.users import bearer, register

SESSIONS = "/api/v1/sessions"
FAST_FAILURE = {
    "SKIFF_BACKEND": "local",
    # A runner's registry entry lapses 3 s after its last heartbeat; the orchestrator gives up
    # on its sessions 2 s after that.
    "SKIFF_HEARTBEAT_INTERVAL_SECONDS": "1",
    "SKIFF_REGISTRY_TTL_SECONDS": "3",
    "SKIFF_RUNNER_LOST_SECONDS": "2",
    "SKIFF_REAPER_INTERVAL_SECONDS": "1",
}


@pytest.fixture(scope="module")
async def stack(
    e2e_database: TestDatabase, nats_server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    await reset_jetstream(nats_server_url)
    config = stack_config(e2e_database, nats_server_url, tmp_path_factory.mktemp("logs"))
    config = dataclasses.replace(
        config, scale={"sandbox_runner": 2}, extra_env={**config.extra_env, **FAST_FAILURE}
    )
    running = Stack(config)
    await asyncio.to_thread(running.start)
    yield running
    await asyncio.to_thread(running.stop)


async def session_status(client: httpx.AsyncClient, session_id: str) -> dict[str, Any]:
    body: dict[str, Any] = (await client.get(f"{SESSIONS}/{session_id}")).json()
    return body


async def test_sessions_are_pinned_and_a_lost_runner_fails_only_its_own(
    gateway: httpx.AsyncClient, stack: Stack
) -> None:
    body = await register(gateway)
    headers = await bearer(gateway, body["user"]["email"])
    client = httpx.AsyncClient(base_url=str(gateway.base_url), headers=headers, timeout=60)

    by_runner: dict[str, list[str]] = {}
    for _ in range(8):  # until both runners hold sessions (the organization allows 10)
        created = await client.post(SESSIONS, json={})
        assert created.status_code == 201, created.text
        session_id = created.json()["id"]

        async def running(sid: str = session_id) -> dict[str, Any] | None:
            status = await session_status(client, sid)
            return status if status["status"] == "running" else None

        runner_id = (await eventually(running, within=30))["runner_id"]
        by_runner.setdefault(runner_id, []).append(session_id)
        if len(by_runner) == 2 and all(len(s) >= 1 for s in by_runner.values()):
            break
    assert len(by_runner) == 2, f"every session went to one runner: {by_runner}"

    everyone = [sid for sessions in by_runner.values() for sid in sessions]
    for sid in everyone:  # each file lands in its own session, each task runs where it lives
        put = await client.put(
            f"{SESSIONS}/{sid}/files/content", params={"path": "me.txt"}, content=sid.encode()
        )
        assert put.status_code == 200, put.text
    for sid in everyone:
        read = await client.post(
            f"{SESSIONS}/{sid}/tasks?wait=true", json={"command": "cat me.txt"}
        )
        assert read.json()["stdout"] == sid
        got = await client.get(f"{SESSIONS}/{sid}/files/content", params={"path": "me.txt"})
        assert got.content == sid.encode()

    lost, kept = sorted(by_runner)  # the replica index is the runner id's last part
    replica = int(lost.rsplit("-", 1)[1])
    await asyncio.to_thread(stack.kill, "sandbox_runner", replica, signal.SIGKILL)

    async def all_failed() -> bool | None:
        statuses = [(await session_status(client, sid))["status"] for sid in by_runner[lost]]
        return True if all(s == "failed" for s in statuses) else None

    await eventually(all_failed, within=30)
    for sid in by_runner[lost]:
        assert (await session_status(client, sid))["failure_reason"] == "runner_lost"
    for sid in by_runner[kept]:
        assert (await session_status(client, sid))["status"] == "running"
        again = await client.post(f"{SESSIONS}/{sid}/tasks?wait=true", json={"command": "echo ok"})
        assert again.json()["stdout"] == "ok\n"
    await client.aclose()
