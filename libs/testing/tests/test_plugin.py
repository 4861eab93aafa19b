"""The plugin gives each test real servers and a clean slate."""

import asyncpg
import nats
import pytest
from skiff_testing.databases import TestDatabase
from skiff_testing.infra import POSTGRES_DSN, InfraSource, infra_source


async def test_fresh_database_is_a_real_empty_postgres(fresh_database: TestDatabase) -> None:
    connection = await asyncpg.connect(fresh_database.dsn())
    try:
        assert await connection.fetchval("select current_database()") == fresh_database.name
        tables = await connection.fetchval(
            "select count(*) from information_schema.tables where table_schema = 'public'"
        )
        assert tables == 0
        await connection.execute("create table leftover (id int)")
    finally:
        await connection.close()


async def test_each_test_gets_another_database(fresh_database: TestDatabase) -> None:
    connection = await asyncpg.connect(fresh_database.dsn())
    try:
        exists = await connection.fetchval("select to_regclass('public.leftover') is not null")
        assert exists is False
    finally:
        await connection.close()


async def test_streams_of_an_earlier_test_are_gone(nats_url: str) -> None:
    connection = await nats.connect(nats_url)
    try:
        jetstream = connection.jetstream()
        assert [s.config.name for s in await jetstream.streams_info()] == []
        await jetstream.add_stream(name="LEFTOVER", subjects=["leftover.>"])
    finally:
        await connection.drain()


async def test_and_they_stay_gone(nats_url: str) -> None:
    connection = await nats.connect(nats_url)
    try:
        assert [s.config.name for s in await connection.jetstream().streams_info()] == []
    finally:
        await connection.drain()


async def test_the_embedded_postgres_plans_every_statement_generically(
    fresh_database: TestDatabase,
) -> None:
    if infra_source(POSTGRES_DSN) is not InfraSource.EMBEDDED:
        pytest.skip("only the embedded server is started with GENERIC_PLANS")
    connection = await asyncpg.connect(fresh_database.dsn())
    try:
        assert await connection.fetchval("show plan_cache_mode") == "force_generic_plan"
    finally:
        await connection.close()
