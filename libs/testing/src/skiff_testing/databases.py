"""Per-test databases: created empty (or from a template), dropped afterwards."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import asyncpg

_counter = itertools.count(1)


@dataclass(frozen=True)
class TestDatabase:
    """A database of one test, on the run's server."""

    __test__ = False  # not a test class, despite the name

    name: str
    admin_dsn: str

    def dsn(self, user: str | None = None, password: str | None = None) -> str:
        """A libpq URL of this database, as the superuser or as `user`."""
        return with_database(self.admin_dsn, self.name, user=user, password=password)

    def sqlalchemy_url(self, user: str | None = None, password: str | None = None) -> str:
        """The same, in SQLAlchemy's asyncpg form."""
        return self.dsn(user, password).replace("postgresql://", "postgresql+asyncpg://", 1)


def with_database(
    dsn: str, database: str, *, user: str | None = None, password: str | None = None
) -> str:
    """Replace the database (and optionally the credentials) of a libpq URL."""
    parts = urlsplit(dsn)
    netloc = parts.netloc
    if user is not None:
        host = netloc.rsplit("@", 1)[-1]
        netloc = f"{user}:{password}@{host}" if password else f"{user}@{host}"
    return urlunsplit((parts.scheme, netloc, f"/{database}", parts.query, parts.fragment))


async def create_database(admin_dsn: str, *, template: str | None = None) -> TestDatabase:
    """CREATE DATABASE with a unique name (optionally copied from a template database)."""
    name = f"test_{os.getpid()}_{next(_counter)}"
    connection = await asyncpg.connect(admin_dsn)
    try:
        clause = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
        await connection.execute(f'CREATE DATABASE "{name}"{clause}')
    finally:
        await connection.close()
    return TestDatabase(name=name, admin_dsn=admin_dsn)


async def drop_database(database: TestDatabase) -> None:
    """DROP DATABASE, closing whatever connections a test left open."""
    connection = await asyncpg.connect(database.admin_dsn)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')
    finally:
        await connection.close()
