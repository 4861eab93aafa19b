"""Bootstrap and migrations against a real PostgreSQL: each service migrates as its own role."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest
from fakes import SCHEMAS, fake_config
from skiff_cli.errors import StackError
from skiff_cli.supervisor import Stack
from skiff_testing.databases import TestDatabase


async def _tables(database: TestDatabase) -> dict[str, tuple[str, int]]:
    connection = await asyncpg.connect(database.dsn())
    try:
        rows = await connection.fetch(
            "select schemaname, tableowner from pg_tables where tablename = 'migrated'"
        )
        counts = {}
        for row in rows:
            schema = row["schemaname"]
            count = await connection.fetchval(f'select count(*) from "{schema}".migrated')
            counts[schema] = (row["tableowner"], count)
        return counts
    finally:
        await connection.close()


async def test_prepare_creates_roles_and_schemas_then_migrates_each_service(
    tmp_path: Path, postgres_admin_dsn: str, fresh_database: TestDatabase
) -> None:
    config = fake_config(
        tmp_path,
        admin_dsn=postgres_admin_dsn,
        database=fresh_database.name,
        extra_env={"FAKE_MIGRATE_DB": "1"},
    )
    stack = Stack(config)
    stack.prepare()  # called from inside a running event loop on purpose
    stack.prepare()  # and again: bootstrap and migrations are idempotent
    assert await _tables(fresh_database) == {schema: (f"skiff_{schema}", 2) for schema in SCHEMAS}
    assert "identity migrated" in (tmp_path / "identity-migrate.log").read_text()
    assert not (tmp_path / "gateway-migrate.log").exists()  # the gateway has no schema


async def test_a_failing_migration_names_the_service_and_shows_its_log(
    tmp_path: Path, postgres_admin_dsn: str, fresh_database: TestDatabase
) -> None:
    config = fake_config(
        tmp_path,
        admin_dsn=postgres_admin_dsn,
        database=fresh_database.name,
        extra_env={"FAKE_MIGRATE_FAIL": "billing"},
    )
    with pytest.raises(StackError) as failure:
        Stack(config).start()
    message = str(failure.value)
    assert "migrations of billing failed with exit code 4" in message
    assert "migration of billing went wrong: relation does not exist" in message
    assert str(tmp_path / "billing-migrate.log") in message
    assert "identity" not in message
