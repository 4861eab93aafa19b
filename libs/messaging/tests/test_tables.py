"""The migration helper and the Core table definitions describe the same tables."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from messaging_helpers import ServiceDb, operations_on
from skiff_messaging import drop_messaging_tables, messaging_tables
from sqlalchemy import Connection, MetaData, inspect


async def test_migration_matches_the_table_definitions(service_db: ServiceDb) -> None:
    metadata = MetaData()
    tables = messaging_tables(metadata)
    assert {tables.outbox.name, tables.inbox.name, tables.dead_letters.name} == {
        "outbox",
        "inbox",
        "dead_letters",
    }

    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(
            connection,
            opts={"include_name": lambda name, type_, _parent: name != "applied"},
        )
        return list(compare_metadata(context, metadata))

    async with service_db.engine.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_the_tables_live_in_the_service_schema_and_drop_cleanly(
    service_db: ServiceDb,
) -> None:
    def names(connection: Connection) -> set[str]:
        return set(inspect(connection).get_table_names(schema="svc"))

    async with service_db.engine.begin() as connection:
        assert {"outbox", "inbox", "dead_letters"} <= await connection.run_sync(names)
        await connection.run_sync(lambda c: drop_messaging_tables(operations_on(c)))
        assert await connection.run_sync(names) == {"applied"}
