"""Sandbox sessions end to end: every service as a real process, through the gateway only.

The same tests run on the `local` backend and on `docker` (a real engine and the image built by
`make sandbox-image`; skipped with a reason without them, failed in CI).
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import signal
import tarfile
from collections.abc import AsyncIterator
from typing import Any

import aiodocker
import httpx
import pytest
from skiff_cli.supervisor import Stack
from skiff_testing.databases import TestDatabase, create_database, drop_database
from skiff_testing.nats_reset import reset_jetstream

from tests.conftest import eventually, stack_config
from tests.users import bearer, register

SESSIONS = "/api/v1/sessions"
RUNNER_ID = "e2e-runner"


@pytest.fixture(scope="module", params=["local", pytest.param("docker", marks=pytest.mark.docker)])
def backend(request: pytest.FixtureRequest) -> str:
    """The sandbox backend of the module's stack."""
    if request.param == "docker":
        request.getfixturevalue("sandbox_image")  # skips (or fails in CI) without engine + image
    return str(request.param)


@pytest.fixture(scope="module")
async def backend_database(backend: str, postgres_admin_dsn: str) -> AsyncIterator[TestDatabase]:
    """A database per backend: each stack starts from nothing."""
    database = await create_database(postgres_admin_dsn)
    yield database
    await drop_database(database)


@pytest.fixture(scope="module")
async def stack(
    backend: str,
    backend_database: TestDatabase,
    nats_server_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    """The whole stack with the sandbox-runner on `backend`."""
    await reset_jetstream(nats_server_url)
    config = stack_config(backend_database, nats_server_url, tmp_path_factory.mktemp("logs"))
    config = dataclasses.replace(
        config,
        extra_env={**config.extra_env, "SKIFF_BACKEND": backend, "SKIFF_RUNNER_ID": RUNNER_ID},
    )
    running = Stack(config)
    await asyncio.to_thread(running.start)
    yield running
    await asyncio.to_thread(running.stop)
    if backend == "docker":  # a stopped runner leaves its sandboxes for adoption: clear them
        await remove_containers_of(RUNNER_ID)


async def remove_containers_of(runner_id: str) -> None:
    """Delete every container of `runner_id` (the stack is gone; nobody will adopt them)."""
    docker = aiodocker.Docker()
    try:
        for container in await docker.containers.list(
            all=True, filters={"label": [f"skiff.runner={runner_id}"]}
        ):
            await container.delete(force=True)
    finally:
        await docker.close()


@pytest.fixture
async def user(gateway: httpx.AsyncClient) -> httpx.AsyncClient:
    """A client signed in as a new user (owner of their organization, 100 signup credits)."""
    body = await register(gateway)
    headers = await bearer(gateway, body["user"]["email"])
    return httpx.AsyncClient(base_url=str(gateway.base_url), headers=headers, timeout=60)


async def running_session(client: httpx.AsyncClient, **options: Any) -> dict[str, Any]:
    created = await client.post(SESSIONS, json=options)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "starting"
    session_id = created.json()["id"]

    async def is_running() -> dict[str, Any] | None:
        body: dict[str, Any] = (await client.get(f"{SESSIONS}/{session_id}")).json()
        assert body["status"] in ("starting", "running"), body
        return body if body["status"] == "running" else None

    return await eventually(is_running, within=60)


async def test_a_session_runs_commands_and_files_and_is_billed(user: httpx.AsyncClient) -> None:
    session = await running_session(user, env={"GREETING": "ahoy"})
    sid = session["id"]

    done = await user.post(
        f"{SESSIONS}/{sid}/tasks?wait=true",
        json={"command": 'echo "$GREETING"; echo oops >&2; exit 3'},
    )
    assert done.status_code == 200, done.text
    result = done.json()
    assert result["exit_code"] == 3
    assert result["stdout"] == "ahoy\n"
    assert result["stderr"] == "oops\n"

    put = await user.put(
        f"{SESSIONS}/{sid}/files/content", params={"path": "notes/a.txt"}, content=b"hello"
    )
    assert put.status_code in (200, 201), put.text
    read = await user.post(f"{SESSIONS}/{sid}/tasks?wait=true", json={"command": "cat notes/a.txt"})
    assert read.json()["stdout"] == "hello"
    listing = await user.get(f"{SESSIONS}/{sid}/files", params={"path": "notes"})
    assert [e["name"] for e in listing.json()["data"]] == ["a.txt"]
    archive = await user.get(f"{SESSIONS}/{sid}/archive", params={"path": "/"})
    with tarfile.open(fileobj=io.BytesIO(archive.content), mode="r:gz") as tar:
        assert any(name.endswith("notes/a.txt") for name in tar.getnames())
    escape = await user.get(f"{SESSIONS}/{sid}/files/content", params={"path": "../../etc/passwd"})
    assert escape.status_code == 400
    assert escape.json()["code"]

    stopped = await user.delete(f"{SESSIONS}/{sid}")
    assert stopped.status_code in (200, 202, 204)

    seen: list[dict[str, Any]] = []

    async def billed() -> dict[str, Any] | None:
        body: dict[str, Any] = (await user.get(f"{SESSIONS}/{sid}")).json()
        seen.append(body)
        return body if body["status"] == "stopped" and body["credits_used"] >= 1 else None

    try:
        final = await eventually(billed, within=30)
    except AssertionError as exc:  # say which half (the stop or the charge) never came
        raise AssertionError(f"{exc}; last seen: {seen[-1]}") from None
    assert final["credits_used"] == 1  # well under a minute: one started container-minute
    balance = (await user.get("/api/v1/credits/balance")).json()
    assert balance["credits"] == 99
    gone = await user.get(f"{SESSIONS}/{sid}/files", params={"path": "/"})
    assert gone.status_code == 404


async def test_live_output_streams_in_order_and_resumes_after_a_cut(
    user: httpx.AsyncClient,
) -> None:
    session = await running_session(user)
    task = await user.post(
        f"{SESSIONS}/{session['id']}/tasks",
        json={"command": "for i in 1 2 3 4 5; do echo line-$i; sleep 0.2; done"},
    )
    assert task.status_code == 202, task.text
    task_id = task.json()["id"]

    first = await read_sse(user, f"/api/v1/tasks/{task_id}/stream", stop_after=2)
    assert [e["data"]["data"] for e in first if e["event"] == "output"][:1] == ["line-1\n"]
    rest = await read_sse(
        user, f"/api/v1/tasks/{task_id}/stream", last_event_id=first[-1]["id"], stop_after=None
    )
    outputs = [e for e in first + rest if e["event"] == "output"]
    text = "".join(e["data"]["data"] for e in outputs)
    assert text == "".join(f"line-{i}\n" for i in range(1, 6))
    ids = [int(e["id"]) for e in first + rest if e.get("id")]
    assert ids == sorted(set(ids))  # no repeat, in order
    assert rest[-1]["event"] == "end"


async def test_other_organizations_see_nothing(
    user: httpx.AsyncClient, gateway: httpx.AsyncClient
) -> None:
    session = await running_session(user)
    stranger_body = await register(gateway, "Eve")
    stranger = await bearer(gateway, stranger_body["user"]["email"])
    for method, path in (
        ("GET", f"{SESSIONS}/{session['id']}"),
        ("GET", f"{SESSIONS}/{session['id']}/files?path=/"),
        ("POST", f"{SESSIONS}/{session['id']}/tasks"),
        ("DELETE", f"{SESSIONS}/{session['id']}"),
    ):
        answer = await gateway.request(method, path, headers=stranger, json={"command": "id"})
        assert answer.status_code == 404, (method, path, answer.text)


async def test_a_runner_killed_with_sigkill_adopts_its_session_on_restart(
    user: httpx.AsyncClient, stack: Stack
) -> None:
    session = await running_session(user)
    sid = session["id"]
    await user.put(f"{SESSIONS}/{sid}/files/content", params={"path": "kept.txt"}, content=b"kept")
    await asyncio.to_thread(stack.kill, "sandbox_runner", 0, signal.SIGKILL)
    await asyncio.to_thread(stack.restart, "sandbox_runner")

    async def served_again() -> str | None:
        answer = await user.get(f"{SESSIONS}/{sid}/files/content", params={"path": "kept.txt"})
        return answer.text if answer.status_code == 200 else None

    assert await eventually(served_again, within=30) == "kept"
    assert (await user.get(f"{SESSIONS}/{sid}")).json()["status"] == "running"
    again = await user.post(f"{SESSIONS}/{sid}/tasks?wait=true", json={"command": "cat kept.txt"})
    assert again.json()["stdout"] == "kept"


async def read_sse(
    client: httpx.AsyncClient,
    path: str,
    *,
    last_event_id: str | None = None,
    stop_after: int | None,
) -> list[dict[str, Any]]:
    """SSE events (`event`, `id`, decoded `data`) until `end`, or after `stop_after` events."""
    headers = {"last-event-id": last_event_id} if last_event_id else {}
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    async with client.stream("GET", path, headers=headers) as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                current["event"] = line[6:].strip()
            elif line.startswith("id:"):
                current["id"] = line[3:].strip()
            elif line.startswith("data:"):
                raw = line[5:].strip()
                current["data"] = json.loads(raw) if raw.startswith("{") else raw
            elif line == "" and current:
                if current.get("event") != "heartbeat":
                    events.append(current)
                current = {}
                if events and (
                    events[-1].get("event") == "end"
                    or (stop_after is not None and len(events) >= stop_after)
                ):
                    break
    return events
