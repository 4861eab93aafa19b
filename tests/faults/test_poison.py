"""Poison through the front door: output, metadata, env and files that escape to far more than
NATS accepts never block the bus, for their tenant or any other (issue 9)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from skiff_cli.supervisor import Stack

from tests.conftest import eventually
from tests.users import bearer, register

pytestmark = pytest.mark.docker

SESSIONS = "/api/v1/sessions"
KIB = 1024
LIMIT = 256 * KIB  # the runner's transcript limit per stream
# Each makes `size` bytes of one kind on stdout and on stderr.
KINDS = {
    "control bytes": "tr '\\0' '\\1'",
    "quotes and backslashes": "tr '\\0' '\"' | sed 's/\"\"/\"\\\\\\\\/g'",
    "NUL bytes": "cat",
    "multi-byte": "tr '\\0' 'a' | sed 's/a/é/g'",
    "binary": "tr '\\0' '\\377'",
}


def _poison(kind: str, size: int) -> str:
    make = KINDS[kind]
    return f"head -c {size} /dev/zero | {make}; head -c {size} /dev/zero | {make} >&2"


async def _tenant(
    gateway: httpx.AsyncClient, name: str, **session: Any
) -> tuple[dict[str, str], str]:
    person = await register(gateway, name)
    auth = await bearer(gateway, person["user"]["email"])
    created = await gateway.post(SESSIONS, json=session, headers=auth, params={"wait": "true"})
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "running", created.text
    return auth, created.json()["id"]


async def test_poison_of_every_kind_is_published_and_other_tenants_go_on(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=60) as gateway:
        escape_heavy = {"note": '\x01"\\' * 400}  # near the metadata limit once escaped
        env = {f"E{i}": "\x02" * 80 for i in range(60)}
        mallory, hers = await _tenant(gateway, "Mallory", metadata=escape_heavy, env=env)
        alice, his = await _tenant(gateway, "Alice")
        upload = await gateway.put(
            f"{SESSIONS}/{hers}/files/content",
            params={"path": "poison.bin"},
            content=bytes(range(256)) * 4096,
            headers=mallory,
        )
        assert upload.status_code in (200, 201), upload.text

        poisoned = []
        for kind in KINDS:
            for size in (LIMIT, LIMIT + 4 * KIB):  # at the limit, and over it (truncated)
                answer = await gateway.post(
                    f"{SESSIONS}/{hers}/tasks",
                    json={"command": _poison(kind, size)},
                    headers=mallory,
                    params={"wait": "true"},
                )
                assert answer.status_code == 200, (kind, size, answer.text[:300])
                assert answer.json()["status"] == "succeeded", (kind, size)
                poisoned.append((kind, size, answer.json()["id"]))

        # Another tenant's task with plenty of output is not stuck behind them.
        normal = await gateway.post(
            f"{SESSIONS}/{his}/tasks",
            json={"command": "seq 1 20000"},
            headers=alice,
            params={"wait": "true"},
        )
        assert normal.status_code == 200
        task_id = normal.json()["id"]

        async def recorded(auth: dict[str, str], task: str) -> dict[str, Any] | None:
            row: dict[str, Any] = (await gateway.get(f"/api/v1/tasks/{task}", headers=auth)).json()
            return row if row["finished_at"] else None

        alice_task = await eventually(lambda: recorded(alice, task_id), within=30)
        assert alice_task["stdout"].endswith("19999\n20000\n")

        # Every poison outcome reached its row, with the whole (bounded) transcript.
        rows = await asyncio.gather(
            *(eventually(lambda t=task: recorded(mallory, t), within=60) for _, _, task in poisoned)
        )
        for (kind, size, _), row in zip(poisoned, rows, strict=True):
            assert row["status"] == "succeeded", (kind, size)
            assert len(row["stdout"].encode()) >= LIMIT - 4, (kind, size)  # U+FFFD may cut a char
            if size > LIMIT:
                assert row["truncated"] is True, (kind, size)
