"""One stack for every contract test: the OpenAPI document, the matrix, hostile input, a
generated client and README's walk-through all ask the same running Skiff.

Starting a stack costs tens of seconds on two cores; these modules only read the contract or
make resources in organizations of their own, so they share one (package scope). Limits are
raised as for a load test: the matrix and the fuzz make thousands of calls from one key, one
user and one address, and rate limits have tests of their own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from skiff_cli.supervisor import Stack
from skiff_testing.databases import TestDatabase, create_database, drop_database

from tests.matrix.stack import running_stack

CONTRACT_SETTINGS = {
    "SKIFF_RATELIMIT_KEY_PER_MINUTE": "1000000",
    "SKIFF_RATELIMIT_USER_PER_HOUR": "1000000",
    "SKIFF_THROTTLE_ACCOUNT_MAX_FAILURES": "1000000",
    "SKIFF_THROTTLE_IP_MAX_FAILURES": "1000000",
    "SKIFF_THROTTLE_TOKEN_MAX_FAILURES": "1000000",
    "SKIFF_THROTTLE_MAIL_MAX_REQUESTS": "1000000",
    "SKIFF_MAX_SESSIONS_PER_ORGANIZATION": "100",
}


@pytest.fixture(scope="package")
async def contract_database(postgres_admin_dsn: str) -> AsyncIterator[TestDatabase]:
    database = await create_database(postgres_admin_dsn)
    yield database
    await drop_database(database)


@pytest.fixture(scope="package")
async def stack(
    contract_database: TestDatabase,
    nats_server_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    """Every service on the local sandbox backend, limits raised (see above)."""
    directory = tmp_path_factory.mktemp("contract")
    async with running_stack(
        contract_database, nats_server_url, directory, CONTRACT_SETTINGS
    ) as running:
        yield running
