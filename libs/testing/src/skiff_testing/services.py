"""Helpers to test one service in-process: its migrated schema, and gateway-signed requests."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from skiff_kit.catalog import role_name
from skiff_kit.database_setup import bootstrap_database
from skiff_kit.internal_token import (
    INTERNAL_TOKEN_HEADER,
    InternalTokenSigner,
    Principal,
    anonymous,
    generate_keypair,
)
from skiff_kit.migrations import upgrade

from skiff_testing.databases import TestDatabase


def test_password(schema: str) -> str:
    """The password of a service role in tests (roles are shared by the whole test server)."""
    return f"test-{schema}-password"


async def migrated_schema(database: TestDatabase, *, schema: str, migrations: Path) -> str:
    """Bootstrap the service's role and schema in `database`, apply its migrations.

    Returns the SQLAlchemy URL the service itself would use (its own role).
    """
    password = test_password(schema)
    await bootstrap_database(database.admin_dsn, database=database.name, roles={schema: password})
    url = database.sqlalchemy_url(role_name(schema), password)
    await asyncio.to_thread(
        upgrade, database_url=url, schema=schema, script_location=str(migrations)
    )
    return url


class GatewaySigner:
    """Plays the gateway: signs internal tokens that the service under test accepts."""

    def __init__(self) -> None:
        private_pem, public_pem = generate_keypair()
        self._signer = InternalTokenSigner(private_pem, "test")
        self.public_keys_json = json.dumps({"test": public_pem})

    def headers(self, principal: Principal | None = None) -> dict[str, str]:
        """Headers of a request from `principal` (an anonymous caller when None)."""
        return {INTERNAL_TOKEN_HEADER: self._signer.sign(principal or anonymous())}

    @staticmethod
    def user(organization_id: str, user_id: str, role: str = "owner") -> Principal:
        """A signed-in user's principal."""
        return Principal(organization_id=organization_id, user_id=user_id, role=role, via="session")
