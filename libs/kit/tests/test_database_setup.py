"""Bootstrap: each service's role owns its schema and can touch nothing else."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import asyncpg
import pytest
from skiff_kit.database_setup import bootstrap_database, quote_identifier, quote_literal
from skiff_testing.databases import TestDatabase, with_database

ROLES = {"kit_alpha": "alpha-pass'1", "kit_beta": "beta-pass-2"}


@pytest.fixture
async def bootstrapped(fresh_database: TestDatabase, postgres_admin_dsn: str) -> TestDatabase:
    await bootstrap_database(postgres_admin_dsn, database=fresh_database.name, roles=ROLES)
    return fresh_database


@pytest.fixture
async def alpha(bootstrapped: TestDatabase) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(bootstrapped.dsn("skiff_kit_alpha", ROLES["kit_alpha"]))
    yield connection
    await connection.close()


async def test_role_works_in_its_own_schema(alpha: asyncpg.Connection) -> None:
    assert await alpha.fetchval("show search_path") == "kit_alpha"
    await alpha.execute("create table accounts (id int primary key)")
    await alpha.execute("insert into accounts values (1)")
    assert await alpha.fetchval("select count(*) from kit_alpha.accounts") == 1


async def test_role_cannot_touch_a_foreign_schema(
    bootstrapped: TestDatabase, alpha: asyncpg.Connection
) -> None:
    beta = await asyncpg.connect(bootstrapped.dsn("skiff_kit_beta", ROLES["kit_beta"]))
    try:
        await beta.execute("create table secrets (value text)")
        await beta.execute("insert into secrets values ('beta only')")
    finally:
        await beta.close()
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
        await alpha.fetch("select * from kit_beta.secrets")
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
        await alpha.execute("create table kit_beta.intruder (id int)")
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
        await alpha.execute("create table public.shared (id int)")


async def test_idempotent_and_changes_passwords(
    bootstrapped: TestDatabase, postgres_admin_dsn: str, alpha: asyncpg.Connection
) -> None:
    await alpha.execute("create table kept (id int)")
    new_roles = {**ROLES, "kit_alpha": "rotated"}
    await bootstrap_database(postgres_admin_dsn, database=bootstrapped.name, roles=new_roles)
    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(bootstrapped.dsn("skiff_kit_alpha", ROLES["kit_alpha"]))
    again = await asyncpg.connect(bootstrapped.dsn("skiff_kit_alpha", "rotated"))
    try:
        assert await again.fetchval("select count(*) from kit_alpha.kept") == 0
    finally:
        await again.close()


async def test_creates_a_missing_database(postgres_admin_dsn: str) -> None:
    name = f"kit_boot_{os.getpid()}"
    await bootstrap_database(postgres_admin_dsn, database=name, roles={"kit_gamma": "g"})
    try:
        connection = await asyncpg.connect(
            with_database(postgres_admin_dsn, name, user="skiff_kit_gamma", password="g")
        )
        try:
            assert await connection.fetchval("select current_schema()") == "kit_gamma"
        finally:
            await connection.close()
    finally:
        admin = await asyncpg.connect(postgres_admin_dsn)
        try:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def test_refuses_odd_names(postgres_admin_dsn: str) -> None:
    with pytest.raises(ValueError, match="identifier"):
        await bootstrap_database(postgres_admin_dsn, database="x", roles={"Bad-Name": "p"})


def test_quoting() -> None:
    assert quote_identifier("billing") == '"billing"'
    assert quote_literal("it's") == "'it''s'"
    with pytest.raises(ValueError):
        quote_identifier('x"; drop table y; --')
