"""One transaction per request: committed when the handler returns, rolled back when it raises."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar import post
from litestar.params import JSONBody
from litestar.testing import AsyncTestClient
from skiff_kit.app import create_app
from skiff_kit.db import DbSession, asyncpg_url, create_engine
from skiff_kit.errors import Conflict
from skiff_kit.settings import ServiceSettings
from skiff_testing.databases import TestDatabase
from sqlalchemy import text


class Note(msgspec.Struct):
    """A row to write."""

    body: str
    then: str = "return"


@post("/notes")
async def add_note(data: JSONBody[Note], db_session: DbSession) -> dict[str, int]:
    """Insert a note, then return or fail as asked."""
    result = await db_session.execute(
        text("insert into notes (body) values (:body) returning id"), {"body": data.body}
    )
    note_id = int(result.scalar_one())
    if data.then == "conflict":
        raise Conflict("refused after the insert")
    if data.then == "crash":
        raise RuntimeError("crashed after the insert")
    return {"id": note_id}


@pytest.fixture
async def client(
    notes_db: TestDatabase, make_settings: Callable[..., ServiceSettings]
) -> AsyncIterator[AsyncTestClient[Any]]:
    settings = make_settings(database_url=notes_db.sqlalchemy_url())
    async with AsyncTestClient(create_app(settings, route_handlers=[add_note])) as c:
        yield c


async def stored_bodies(database: TestDatabase) -> list[str]:
    connection = await asyncpg.connect(database.dsn())
    try:
        return [row["body"] for row in await connection.fetch("select body from notes order by id")]
    finally:
        await connection.close()


async def test_commits_when_the_handler_returns(
    client: AsyncTestClient[Any], notes_db: TestDatabase
) -> None:
    response = await client.post("/notes", json={"body": "kept"})
    assert response.status_code == 201
    assert await stored_bodies(notes_db) == ["kept"]


@pytest.mark.parametrize(("then", "status"), [("conflict", 409), ("crash", 500)])
async def test_rolls_back_when_the_handler_raises(
    client: AsyncTestClient[Any], notes_db: TestDatabase, then: str, status: int
) -> None:
    response = await client.post("/notes", json={"body": "dropped", "then": then})
    assert response.status_code == status
    assert await stored_bodies(notes_db) == []
    ok = await client.post("/notes", json={"body": "after"})
    assert ok.status_code == 201
    assert await stored_bodies(notes_db) == ["after"]


async def test_ready_checks_the_database(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok"}}


async def test_no_database_configured(make_settings: Callable[..., ServiceSettings]) -> None:
    async with AsyncTestClient(create_app(make_settings(), route_handlers=[add_note])) as c:
        response = await c.post("/notes", json={"body": "x"})
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"


async def test_engine_pins_the_search_path(fresh_database: TestDatabase) -> None:
    engine = create_engine(fresh_database.sqlalchemy_url(), schema="elsewhere")
    try:
        async with engine.connect() as connection:
            assert (await connection.execute(text("show search_path"))).scalar_one() == "elsewhere"
    finally:
        await engine.dispose()


async def test_a_connection_the_server_closed_is_replaced_at_checkout(
    fresh_database: TestDatabase,
) -> None:
    # What pool_pre_ping did, without a round trip: the next transaction just works.
    engine = create_engine(fresh_database.sqlalchemy_url(), schema=None, pool_size=1)
    pid_query = text("select pg_backend_pid()")
    try:
        async with engine.connect() as connection:
            pid = (await connection.execute(pid_query)).scalar_one()
        admin = await asyncpg.connect(fresh_database.dsn())
        try:
            assert await admin.fetchval("select pg_terminate_backend($1)", pid)
            for _ in range(100):  # until the backend is gone (its socket closed)
                if not await admin.fetchval(GONE_YET, pid):
                    break
                await asyncio.sleep(0.05)
        finally:
            await admin.close()
        await asyncio.sleep(0.1)  # the event loop reads the closed socket
        async with engine.connect() as connection:
            assert (await connection.execute(pid_query)).scalar_one() != pid
    finally:
        await engine.dispose()


GONE_YET = "select exists (select 1 from pg_stat_activity where pid = $1)"


def test_asyncpg_url() -> None:
    assert asyncpg_url("postgresql://u:p@h:5/d") == "postgresql+asyncpg://u:p@h:5/d"
    assert asyncpg_url("postgres://h/d") == "postgresql+asyncpg://h/d"
    assert asyncpg_url("postgresql+asyncpg://h/d") == "postgresql+asyncpg://h/d"
