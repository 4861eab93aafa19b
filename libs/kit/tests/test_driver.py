"""Bare connections from an engine's pool (skiff_kit.driver): lent, kept between uses, closed
with the engine."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from skiff_kit.db import create_engine
from skiff_kit.driver import driver_connection
from skiff_testing.databases import TestDatabase
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

GONE_YET = "select exists (select 1 from pg_stat_activity where pid = $1)"


@pytest.fixture
async def engine(notes_db: TestDatabase) -> AsyncIterator[AsyncEngine]:
    """Pool of 4: two spares kept at most."""
    engine = create_engine(notes_db.sqlalchemy_url(), schema=None, pool_size=4, max_overflow=0)
    try:
        yield engine
    finally:
        await engine.dispose()


async def alive(database: TestDatabase, pids: list[int]) -> int:
    admin = await asyncpg.connect(database.dsn())
    try:
        count: int = await admin.fetchval(
            "select count(*) from pg_stat_activity where pid = any($1::int[])", pids
        )
        return count
    finally:
        await admin.close()


async def test_driver_connection_is_the_pools_own_and_commits_each_statement(
    notes_db: TestDatabase,
) -> None:
    engine = create_engine(notes_db.sqlalchemy_url(), schema=None, pool_size=1, max_overflow=0)
    try:
        async with driver_connection(engine) as connection:
            first = connection
            await connection.execute("insert into notes (body) values ('alone')")
        async with driver_connection(engine) as connection:
            assert connection is first  # back in the pool, taken again
            tx = connection.transaction()
            await tx.start()
            await connection.execute("insert into notes (body) values ('left open')")
        assert first.is_closed()  # not pooled inside its transaction
        async with engine.connect() as other:  # the pool of one was given its connection back
            bodies = (await other.execute(text("select body from notes"))).scalars().all()
        assert bodies == ["alone"]  # the open transaction was rolled back
    finally:
        await engine.dispose()


async def test_driver_connections_past_the_pool_size_are_closed_when_given_back(
    notes_db: TestDatabase,
) -> None:
    engine = create_engine(notes_db.sqlalchemy_url(), schema=None, pool_size=1, max_overflow=1)
    try:
        async with driver_connection(engine) as first, driver_connection(engine) as second:
            pids = [first.get_server_pid(), second.get_server_pid()]
        # The pool keeps one; the other is closed (it used to be left open, unpooled).
        assert sorted([first.is_closed(), second.is_closed()]) == [False, True]
        assert await alive(notes_db, pids) == 1
    finally:
        await engine.dispose()


async def test_a_connection_given_back_is_kept_for_the_next_use(engine: AsyncEngine) -> None:
    async with driver_connection(engine) as connection:
        first = connection
    assert engine.pool.checkedout() == 1  # kept aside, not checked in
    async with driver_connection(engine) as connection:
        assert connection is first
        assert await connection.fetchval("select 1") == 1


async def test_at_most_half_the_pool_is_kept(engine: AsyncEngine) -> None:
    async with (
        driver_connection(engine) as a,
        driver_connection(engine) as b,
        driver_connection(engine) as c,
    ):
        assert len({a, b, c}) == 3
        assert engine.pool.checkedout() == 3
    assert engine.pool.checkedout() == 2  # two kept, the third back in the pool
    assert not any(connection.is_closed() for connection in (a, b, c))
    async with engine.connect() as other:  # sessions still get the rest of the pool
        assert (await other.execute(text("select 1"))).scalar_one() == 1


async def test_a_kept_connection_the_server_closed_is_replaced(
    engine: AsyncEngine, notes_db: TestDatabase
) -> None:
    async with driver_connection(engine) as connection:
        pid = connection.get_server_pid()
    admin = await asyncpg.connect(notes_db.dsn())
    try:
        assert await admin.fetchval("select pg_terminate_backend($1)", pid)
        for _ in range(100):  # until the backend is gone (its socket closed)
            if not await admin.fetchval(GONE_YET, pid):
                break
            await asyncio.sleep(0.05)
    finally:
        await admin.close()
    await asyncio.sleep(0.1)  # the event loop reads the closed socket
    async with driver_connection(engine) as connection:
        assert connection.get_server_pid() != pid
        assert await connection.fetchval("select 1") == 1
    assert engine.pool.checkedout() == 1  # the dead one was given back, not leaked


async def test_disposing_of_the_engine_closes_the_kept_connections(
    notes_db: TestDatabase,
) -> None:
    engine = create_engine(notes_db.sqlalchemy_url(), schema=None, pool_size=4)
    async with driver_connection(engine) as a, driver_connection(engine) as b:
        pids = [a.get_server_pid(), b.get_server_pid()]
    assert not a.is_closed()
    await engine.dispose()
    assert a.is_closed()
    assert b.is_closed()
    for _ in range(100):
        if await alive(notes_db, pids) == 0:
            break
        await asyncio.sleep(0.05)
    assert await alive(notes_db, pids) == 0


async def test_a_block_that_raises_inside_a_transaction_gives_back_a_closed_connection(
    engine: AsyncEngine,
) -> None:
    lent: list[asyncpg.Connection] = []

    async def fail_inside_a_transaction() -> None:
        async with driver_connection(engine) as connection:
            lent.append(connection)
            await connection.execute("begin")
            raise RuntimeError("the block failed mid-way")

    with pytest.raises(RuntimeError, match="mid-way"):
        await fail_inside_a_transaction()
    [connection] = lent
    assert connection.is_closed()  # closed, which rolls it back, not kept
    assert engine.pool.checkedout() == 0
    async with driver_connection(engine) as fresh:
        assert fresh is not connection
        assert not fresh.is_in_transaction()
