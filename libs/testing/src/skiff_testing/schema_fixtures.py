"""The database fixtures every service's tests share: its schema migrated once, emptied per test.

In a service's `conftest.py`:

    migrated_database, database_url, engine, sessions = schema_fixtures("billing", MIGRATIONS)

CREATE DATABASE costs about half a second, so a run shares one migrated database per service
and each test starts by emptying its tables instead of getting a fresh one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from skiff_kit.db import create_engine, create_session_factory
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from skiff_testing.bus import empty_schema
from skiff_testing.databases import create_database, drop_database
from skiff_testing.services import migrated_schema


def schema_fixtures(
    schema: str, migrations: Path
) -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
    """`migrated_database` (session), `database_url`, `engine` and `sessions` for `schema`."""

    @pytest.fixture(scope="session")
    async def migrated_database(postgres_admin_dsn: str) -> AsyncIterator[str]:
        """One database per run with the schema migrated; the URL of the service's own role."""
        database = await create_database(postgres_admin_dsn)
        url = await migrated_schema(database, schema=schema, migrations=migrations)
        yield url
        await drop_database(database)

    @pytest.fixture
    async def database_url(migrated_database: str) -> str:
        """The migrated schema with every table empty."""
        await empty_schema(migrated_database, schema)
        return migrated_database

    @pytest.fixture
    async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
        """An engine as the service's role, on its schema (to arrange rows and look at them)."""
        engine = create_engine(database_url, schema=schema, pool_size=2)
        yield engine
        await engine.dispose()

    @pytest.fixture
    def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
        return create_session_factory(engine)

    return migrated_database, database_url, engine, sessions
