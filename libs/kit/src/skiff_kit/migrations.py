"""Alembic helpers: a service's `env.py` is one call, and `upgrade` runs it from code."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from skiff_kit.db import asyncpg_url, engine_options

T = TypeVar("T")
SCHEMA_ATTRIBUTE = "skiff_schema"


def _run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` to completion, in a worker thread if this thread already has a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    result: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coroutine))
        except BaseException as error:
            failure.append(error)

    worker = threading.Thread(target=target, name="alembic-migrations")
    worker.start()
    worker.join()
    if failure:
        raise failure[0]
    return result[0]


def _configure(schema: str, target_metadata: MetaData | None, **options: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        version_table_schema=schema,
        include_schemas=False,
        transaction_per_migration=True,
        compare_type=True,
        **options,
    )


def _migrate(connection: Connection, schema: str, target_metadata: MetaData | None) -> None:
    _configure(schema, target_metadata, connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def _migrate_async(url: str, schema: str, target_metadata: MetaData | None) -> None:
    engine = create_async_engine(
        asyncpg_url(url), poolclass=pool.NullPool, connect_args=engine_options(schema=schema)
    )
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_migrate, schema, target_metadata)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_online(*, schema: str, target_metadata: MetaData | None = None) -> None:
    """The body of a service's `migrations/env.py`: migrate `schema` at `sqlalchemy.url`.

    The schema given to `upgrade()` wins over `schema`, which serves the plain `alembic` CLI.
    Offline mode (`alembic upgrade --sql`) prints the SQL instead.
    """
    config = context.config
    schema = config.attributes.get(SCHEMA_ATTRIBUTE) or schema
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no sqlalchemy.url in the Alembic config")
    if context.is_offline_mode():
        _configure(schema, target_metadata, url=url, literal_binds=True)
        with context.begin_transaction():
            context.execute(f'SET search_path TO "{schema}"')
            context.run_migrations()
        return
    _run_sync(_migrate_async(url, schema, target_metadata))


def alembic_config(*, database_url: str, schema: str, script_location: str) -> Config:
    """An Alembic config without an ini file (`script_location` may be `package:folder`)."""
    config = Config()
    config.set_main_option("script_location", script_location)
    # ConfigParser interpolates `%`, which URL-encoded passwords often contain.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes[SCHEMA_ATTRIBUTE] = schema
    return config


def upgrade(
    *, database_url: str, schema: str, script_location: str, revision: str = "head"
) -> None:
    """`alembic upgrade head` for one service's schema, from code."""
    command.upgrade(
        alembic_config(database_url=database_url, schema=schema, script_location=script_location),
        revision,
    )
