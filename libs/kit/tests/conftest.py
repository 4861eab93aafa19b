"""Fixtures of the kit's tests: settings, a signing key pair, apps under a test client."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest
from skiff_kit.internal_token import InternalTokenSigner, generate_keypair
from skiff_kit.settings import ServiceSettings
from skiff_testing.databases import TestDatabase


@pytest.fixture(scope="session")
def keypair() -> tuple[str, str]:
    """(private PEM, public PEM) shared by the run."""
    return generate_keypair()


@pytest.fixture
def make_settings(keypair: tuple[str, str]) -> Callable[..., ServiceSettings]:
    """Settings of a test service that trusts `keypair` under kid `k1`."""

    def make(**overrides: Any) -> ServiceSettings:
        values: dict[str, Any] = {
            "service_name": "kit-test",
            "version": "1.2.3",
            "git_revision": "abc123",
            "log_format": "json",
            "internal_public_keys": json.dumps({"k1": keypair[1]}),
        }
        values.update(overrides)
        return ServiceSettings(**values)

    return make


@pytest.fixture
def signer(keypair: tuple[str, str]) -> InternalTokenSigner:
    """Signs tokens the test services accept."""
    return InternalTokenSigner(keypair[0], "k1", ttl_seconds=60)


@pytest.fixture
async def notes_db(fresh_database: TestDatabase) -> TestDatabase:
    """A fresh database with a `notes (id, body)` table to write."""
    connection = await asyncpg.connect(fresh_database.dsn())
    try:
        await connection.execute("create table notes (id serial primary key, body text not null)")
    finally:
        await connection.close()
    return fresh_database
