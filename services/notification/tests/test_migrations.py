"""Notification's migrations go down as well as up: recent ones undone and done again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
from alembic import command
from skiff_kit.migrations import alembic_config
from skiff_testing.databases import TestDatabase
from skiff_testing.services import migrated_schema

SCHEMA = "notification"
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


async def _columns(database: TestDatabase, table: str) -> set[str]:
    connection = await asyncpg.connect(database.dsn())
    try:
        rows = await connection.fetch(
            "select column_name from information_schema.columns"
            " where table_schema = $1 and table_name = $2",
            SCHEMA,
            table,
        )
    finally:
        await connection.close()
    return {row["column_name"] for row in rows}


async def _indexes(database: TestDatabase) -> set[str]:
    connection = await asyncpg.connect(database.dsn())
    try:
        rows = await connection.fetch(
            "select indexname from pg_indexes where schemaname = $1", SCHEMA
        )
    finally:
        await connection.close()
    return {row["indexname"] for row in rows}


async def test_the_shared_limits_migration_downgrades_and_upgrades_again(
    fresh_database: TestDatabase,
) -> None:
    url = await migrated_schema(fresh_database, schema=SCHEMA, migrations=MIGRATIONS)
    config = alembic_config(database_url=url, schema=SCHEMA, script_location=str(MIGRATIONS))
    assert {"leases", "rate_tat"} <= await _columns(fresh_database, "webhook_endpoints")

    await asyncio.to_thread(command.downgrade, config, "0004")
    assert not {"leases", "rate_tat"} & await _columns(fresh_database, "webhook_endpoints")

    await asyncio.to_thread(command.upgrade, config, "head")
    assert {"leases", "rate_tat"} <= await _columns(fresh_database, "webhook_endpoints")


async def test_the_filtered_lists_migration_downgrades_and_upgrades_again(
    fresh_database: TestDatabase,
) -> None:
    added = {
        "ix_webhook_messages_endpoint_status",
        "ix_notifications_type",
        "ix_notifications_unread_type",
    }
    kept = {"ix_webhook_messages_endpoint", "ix_notifications_recipient", "ix_notifications_unread"}
    url = await migrated_schema(fresh_database, schema=SCHEMA, migrations=MIGRATIONS)
    config = alembic_config(database_url=url, schema=SCHEMA, script_location=str(MIGRATIONS))
    assert added | kept <= await _indexes(fresh_database)

    await asyncio.to_thread(command.downgrade, config, "0007")
    indexes = await _indexes(fresh_database)
    assert not added & indexes
    assert kept <= indexes

    await asyncio.to_thread(command.upgrade, config, "head")
    assert added | kept <= await _indexes(fresh_database)
