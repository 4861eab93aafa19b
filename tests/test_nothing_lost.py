"""A billing process killed with SIGKILL while 200 users register loses nothing, doubles nothing."""

from __future__ import annotations

import asyncio
import signal

import asyncpg
import httpx
from skiff_cli.supervisor import Stack
from skiff_testing.databases import TestDatabase

from tests.conftest import eventually
from tests.users import register

USERS = 200
KILL_AFTER = 60
PARALLEL = 8


async def test_billing_killed_mid_signups_ends_with_one_bonus_each(
    stack: Stack, gateway: httpx.AsyncClient, e2e_database: TestDatabase
) -> None:
    organizations: list[str] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(USERS):
        queue.put_nowait(index)
    killed = asyncio.Event()

    async def sign_up() -> None:
        while not queue.empty():
            index = queue.get_nowait()
            body = await register(gateway, f"User{index}")
            organizations.append(body["organization"]["id"])
            if len(organizations) >= KILL_AFTER and not killed.is_set():
                killed.set()
                # billing is consuming this very moment; SIGKILL gives it no chance to ack
                await asyncio.to_thread(stack.kill, "billing", 0, signal.SIGKILL)

    await asyncio.gather(*(sign_up() for _ in range(PARALLEL)))
    assert killed.is_set()
    assert len(set(organizations)) == USERS
    assert all(not process.alive for process in stack.processes("billing"))

    await asyncio.to_thread(stack.restart, "billing")
    await asyncio.to_thread(stack.wait_healthy, 60)

    connection = await asyncpg.connect(e2e_database.dsn())
    try:

        async def all_accounts() -> int | None:
            count = await connection.fetchval("select count(*) from billing.accounts")
            return int(count) if count == USERS else None

        assert await eventually(all_accounts, within=60) == USERS
        await asyncio.sleep(1)  # room for a wrong duplicate to show up, if there were one
        accounts = await connection.fetch(
            "select organization_id, balance from billing.accounts order by organization_id"
        )
        assert sorted(row["organization_id"] for row in accounts) == sorted(organizations)
        assert {row["balance"] for row in accounts} == {100}
        bonuses = await connection.fetch(
            "select organization_id, count(*) as n from billing.ledger_entries"
            " where type = 'bonus' group by organization_id"
        )
        assert len(bonuses) == USERS
        assert {row["n"] for row in bonuses} == {1}
    finally:
        await connection.close()
