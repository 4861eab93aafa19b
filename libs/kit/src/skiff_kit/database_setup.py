"""Idempotent database bootstrap: the database, and one login role owning each service schema."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from skiff_kit.catalog import role_name
from skiff_kit.logging import get_logger

_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# Any constant works; it only has to be the same for every bootstrap on a cluster.
_ADVISORY_LOCK_KEY = 0x5C1FF
_log = get_logger("skiff.database_setup")


def quote_identifier(name: str) -> str:
    """`name` as a SQL identifier; only plain lower-case names are accepted."""
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"not a plain identifier: {name!r}")
    return f'"{name}"'


def quote_literal(value: str) -> str:
    """`value` as a SQL string literal (DDL such as PASSWORD cannot take parameters)."""
    if "\x00" in value:
        raise ValueError("a NUL byte cannot be part of a SQL literal")
    return "'" + value.replace("'", "''") + "'"


def _with_database(dsn: str, database: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


async def _ensure_database(admin: asyncpg.Connection, database: str) -> None:
    exists = await admin.fetchval("select 1 from pg_database where datname = $1", database)
    if exists:
        return
    try:
        await admin.execute(f"CREATE DATABASE {quote_identifier(database)}")
        _log.info("database_created", database=database)
    except asyncpg.DuplicateDatabaseError:
        pass


async def _ensure_role(connection: asyncpg.Connection, role: str, password: str) -> None:
    exists = await connection.fetchval("select 1 from pg_roles where rolname = $1", role)
    verb = "ALTER" if exists else "CREATE"
    statement = (
        f"{verb} ROLE {quote_identifier(role)} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
        f"PASSWORD {quote_literal(password)}"
    )
    try:
        await connection.execute(statement)
    except asyncpg.DuplicateObjectError:
        await connection.execute(statement.replace("CREATE ROLE", "ALTER ROLE", 1))


async def _ensure_schema(
    connection: asyncpg.Connection, database: str, schema: str, password: str
) -> None:
    role = role_name(schema)
    quoted_role, quoted_schema = quote_identifier(role), quote_identifier(schema)
    await _ensure_role(connection, role, password)
    for statement in (
        f"GRANT CONNECT, TEMPORARY ON DATABASE {quote_identifier(database)} TO {quoted_role}",
        f"CREATE SCHEMA IF NOT EXISTS {quoted_schema} AUTHORIZATION {quoted_role}",
        f"ALTER SCHEMA {quoted_schema} OWNER TO {quoted_role}",
        f"REVOKE ALL ON SCHEMA {quoted_schema} FROM PUBLIC",
        f"ALTER ROLE {quoted_role} IN DATABASE {quote_identifier(database)} "
        f"SET search_path = {quoted_schema}",
    ):
        await connection.execute(statement)


async def bootstrap_database(admin_dsn: str, *, database: str, roles: Mapping[str, str]) -> None:
    """Create `database` if missing; for each schema → password, a role `skiff_<schema>` owning it.

    Each role can use only its own schema: nobody may create in `public`, and a schema's
    privileges are revoked from PUBLIC. Safe to run on every start, and concurrently.
    """
    for schema in roles:
        quote_identifier(schema)
    admin = await asyncpg.connect(admin_dsn)
    try:
        # Roles are cluster-wide: one bootstrap at a time on a cluster.
        await admin.execute("select pg_advisory_lock($1)", _ADVISORY_LOCK_KEY)
        try:
            await _ensure_database(admin, database)
            connection = await asyncpg.connect(_with_database(admin_dsn, database))
            try:
                await connection.execute(
                    f"REVOKE ALL ON DATABASE {quote_identifier(database)} FROM PUBLIC"
                )
                await connection.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
                for schema, password in roles.items():
                    await _ensure_schema(connection, database, schema, password)
            finally:
                await connection.close()
        finally:
            await admin.execute("select pg_advisory_unlock($1)", _ADVISORY_LOCK_KEY)
    finally:
        await admin.close()
    _log.info("database_bootstrapped", database=database, schemas=sorted(roles))
