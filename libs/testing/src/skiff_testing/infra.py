"""Where the test run's PostgreSQL and NATS come from: the `SKIFF_TEST_INFRA` setting.

- `embedded` (the default): the wheels' servers as child processes (skiff_testing.servers).
- `testcontainers`: containers started for the run (skiff_testing.containers), for CI systems
  that have a container engine.
- `external`: servers started elsewhere, named by `SKIFF_TEST_POSTGRES_DSN` / `SKIFF_TEST_NATS_URL`.

Without `SKIFF_TEST_INFRA`, a set `SKIFF_TEST_POSTGRES_DSN` or `SKIFF_TEST_NATS_URL` still means
`external` for that server alone, as before the setting existed.
"""

from __future__ import annotations

import os
from enum import StrEnum

import pytest

SETTING = "SKIFF_TEST_INFRA"
POSTGRES_DSN = "SKIFF_TEST_POSTGRES_DSN"
NATS_URL = "SKIFF_TEST_NATS_URL"


class InfraSource(StrEnum):
    EMBEDDED = "embedded"
    TESTCONTAINERS = "testcontainers"
    EXTERNAL = "external"


def infra_source(external_variable: str) -> InfraSource:
    """The source of one server; `external_variable` names its external address."""
    raw = os.environ.get(SETTING, "").strip().lower()
    if not raw:
        return InfraSource.EXTERNAL if os.environ.get(external_variable) else InfraSource.EMBEDDED
    try:
        return InfraSource(raw)
    except ValueError:
        allowed = ", ".join(source.value for source in InfraSource)
        raise pytest.UsageError(f"{SETTING}={raw!r}: expected one of {allowed}") from None


def external_address(variable: str) -> str:
    """The value of `variable`, which `external` requires."""
    value = os.environ.get(variable, "").strip()
    if not value:
        raise pytest.UsageError(f"{SETTING}=external needs {variable}")
    return value
