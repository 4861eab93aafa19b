"""The orchestrator SIGKILLed while clients wait on keyed tasks: each client retries with its
Idempotency-Key until it gets the result, and each command ran exactly once (issue 9)."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import httpx
import pytest
from skiff_cli.supervisor import Stack

from tests.users import bearer, register

pytestmark = pytest.mark.docker

SESSIONS = "/api/v1/sessions"
CLIENTS = 6


async def _until_answered(
    gateway: httpx.AsyncClient, path: str, body: dict[str, Any], key: str, auth: dict[str, str]
) -> tuple[dict[str, Any], int]:
    """POST with the key until a 200 comes back (a retry after any failure); the answer and
    how many attempts it took."""
    headers = {**auth, "idempotency-key": key}
    for attempt in range(1, 200):
        try:
            answer = await gateway.post(path, json=body, headers=headers, params={"wait": "true"})
        except httpx.HTTPError:
            answer = None
        if answer is not None and answer.status_code == 200:
            return answer.json(), attempt
        assert answer is None or answer.status_code in (409, 502, 503, 504), answer.text
        await asyncio.sleep(0.25)
    raise AssertionError(f"{key} never answered")


async def test_keyed_waiting_tasks_run_once_across_an_orchestrator_crash(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=60) as gateway:
        owner = await register(gateway, "Crash")
        auth = await bearer(gateway, owner["user"]["email"])
        created = await gateway.post(SESSIONS, json={}, headers=auth, params={"wait": "true"})
        assert created.json()["status"] == "running", created.text
        session = created.json()["id"]
        tasks = f"{SESSIONS}/{session}/tasks"

        clients = [
            asyncio.create_task(
                _until_answered(
                    gateway,
                    tasks,
                    {"command": f"echo ran >> ran-{i}.txt; sleep 3; echo done-{i}"},
                    f"crash-{i}",
                    auth,
                )
            )
            for i in range(CLIENTS)
        ]
        await asyncio.sleep(1.5)  # the tasks are committed and running; the clients wait
        await asyncio.to_thread(stack.kill, "orchestrator", 0, signal.SIGKILL)
        await asyncio.sleep(1)
        await asyncio.to_thread(stack.restart, "orchestrator")
        results = await asyncio.gather(*clients)

        for i, (result, attempts) in enumerate(results):
            assert (result["status"], result["stdout"]) == ("succeeded", f"done-{i}\n"), result
            assert attempts > 1, "the crash should have cut every first attempt"
        for i in range(CLIENTS):
            content = await gateway.get(
                f"{SESSIONS}/{session}/files/content", params={"path": f"ran-{i}.txt"}, headers=auth
            )
            assert content.text == "ran\n", f"command {i} ran {content.text.count('ran')} times"
        listed = (await gateway.get(tasks, headers=auth, params={"limit": 200})).json()["data"]
        assert len(listed) == CLIENTS
