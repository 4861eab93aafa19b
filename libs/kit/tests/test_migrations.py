"""Migrations land in the service's schema, as its own role, and can be run again safely."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest
from skiff_kit.database_setup import bootstrap_database
from skiff_kit.migrations import upgrade
from skiff_testing.databases import TestDatabase

SCRIPTS = str(Path(__file__).parent / "sample_migrations")
PASSWORD = "mig-pass%20with%25percent"


@pytest.fixture
async def migrator_url(fresh_database: TestDatabase, postgres_admin_dsn: str) -> str:
    roles = {"kit_mig": PASSWORD, "kit_other": "other"}
    await bootstrap_database(postgres_admin_dsn, database=fresh_database.name, roles=roles)
    # URL-encoded, as a real URL with such a password would be; `%` must survive ConfigParser.
    return fresh_database.sqlalchemy_url("skiff_kit_mig", PASSWORD.replace("%", "%25"))


async def tables(database: TestDatabase) -> set[tuple[str, str]]:
    connection = await asyncpg.connect(database.dsn())
    try:
        rows = await connection.fetch(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema not in ('pg_catalog', 'information_schema')"
        )
    finally:
        await connection.close()
    return {(row["table_schema"], row["table_name"]) for row in rows}


async def test_upgrade_creates_tables_in_the_schema(
    fresh_database: TestDatabase, migrator_url: str
) -> None:
    await asyncio.to_thread(
        upgrade, database_url=migrator_url, schema="kit_mig", script_location=SCRIPTS
    )
    assert await tables(fresh_database) == {("kit_mig", "notes"), ("kit_mig", "alembic_version")}
    connection = await asyncpg.connect(fresh_database.dsn())
    try:
        assert (
            await connection.fetchval("select version_num from kit_mig.alembic_version") == "0002"
        )
        columns = await connection.fetch(
            "select column_name from information_schema.columns "
            "where table_schema = 'kit_mig' and table_name = 'notes' order by ordinal_position"
        )
        owner = await connection.fetchval(
            "select tableowner from pg_tables where schemaname = 'kit_mig' and tablename = 'notes'"
        )
    finally:
        await connection.close()
    assert [c["column_name"] for c in columns] == ["id", "body", "author"]
    assert owner == "skiff_kit_mig"


async def test_upgrade_twice_is_a_no_op(fresh_database: TestDatabase, migrator_url: str) -> None:
    upgrade(database_url=migrator_url, schema="kit_mig", script_location=SCRIPTS)
    upgrade(database_url=migrator_url, schema="kit_mig", script_location=SCRIPTS)
    assert ("kit_mig", "notes") in await tables(fresh_database)


async def test_upgrade_to_a_revision(fresh_database: TestDatabase, migrator_url: str) -> None:
    upgrade(database_url=migrator_url, schema="kit_mig", script_location=SCRIPTS, revision="0001")
    connection = await asyncpg.connect(fresh_database.dsn())
    try:
        assert (
            await connection.fetchval("select version_num from kit_mig.alembic_version") == "0001"
        )
    finally:
        await connection.close()


async def test_a_role_cannot_migrate_a_foreign_schema(migrator_url: str) -> None:
    with pytest.raises(Exception, match="permission denied"):
        upgrade(database_url=migrator_url, schema="kit_other", script_location=SCRIPTS)
