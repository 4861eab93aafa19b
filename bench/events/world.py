"""The benchmark's world: real PostgreSQL and NATS from the wheels, two service schemas."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from alembic.migration import MigrationContext
from alembic.operations import Operations
from skiff_embedded import EmbeddedNats, EmbeddedPostgres, free_port
from skiff_messaging import create_messaging_tables
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

DATABASE = "bench"
PASSWORD = "bench"


@dataclass
class Servers:
    """URLs of the running servers."""

    admin_dsn: str
    nats_url: str


@contextmanager
def servers(root: Path, *, durable: bool) -> Iterator[Servers]:
    """PostgreSQL (fsync on when `durable`) and NATS with JetStream on file storage."""
    postgres = EmbeddedPostgres(
        root / "postgres", port=free_port(), admin_password=secrets.token_hex(8), durable=durable
    )
    nats = EmbeddedNats(root / "nats", port=free_port())
    postgres.start()
    try:
        nats.start()
        try:
            yield Servers(postgres.admin_dsn, nats.url)
        finally:
            nats.stop()
    finally:
        postgres.stop()


@dataclass
class Service:
    """One service's schema, login role and SQLAlchemy engine."""

    schema: str
    dsn: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]


async def create_database(admin_dsn: str) -> str:
    """The benchmark database; its libpq URL without credentials."""
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f"CREATE DATABASE {DATABASE}")
    finally:
        await admin.close()
    host = admin_dsn.rsplit("@", 1)[1].rsplit("/", 1)[0]
    return f"{host}/{DATABASE}"


async def service(admin_dsn: str, location: str, schema: str, domain_ddl: str) -> Service:
    """A schema owned by its own role, migrated like a service: messaging tables + a domain one."""
    admin = await asyncpg.connect(f"{admin_dsn.rsplit('/', 1)[0]}/{DATABASE}")
    try:
        await admin.execute(f"CREATE ROLE {schema} LOGIN PASSWORD '{PASSWORD}'")
        await admin.execute(f"CREATE SCHEMA {schema} AUTHORIZATION {schema}")
    finally:
        await admin.close()
    dsn = f"postgresql://{schema}:{PASSWORD}@{location}"
    engine = create_async_engine(
        dsn.replace("postgresql://", "postgresql+asyncpg://"),
        connect_args={"server_settings": {"search_path": schema}},
    )

    def migrate(connection: Connection) -> None:
        operations = Operations(MigrationContext.configure(connection))
        create_messaging_tables(operations)
        operations.execute(domain_ddl)

    async with engine.begin() as connection:
        await connection.run_sync(migrate)
    return Service(schema, dsn, engine, async_sessionmaker(engine, expire_on_commit=False))
