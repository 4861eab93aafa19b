"""SKIFF_TEST_INFRA picks where the servers come from; the older variables keep working."""

import pytest
from skiff_testing.infra import (
    NATS_URL,
    POSTGRES_DSN,
    SETTING,
    InfraSource,
    external_address,
    infra_source,
)


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for variable in (SETTING, POSTGRES_DSN, NATS_URL):
        monkeypatch.delenv(variable, raising=False)
    return monkeypatch


def test_the_wheels_are_the_default(clean_environment: pytest.MonkeyPatch) -> None:
    assert infra_source(POSTGRES_DSN) is InfraSource.EMBEDDED
    assert infra_source(NATS_URL) is InfraSource.EMBEDDED


def test_an_external_address_alone_still_means_external_for_that_server(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    clean_environment.setenv(POSTGRES_DSN, "postgresql://postgres@db.example:5432/postgres")
    assert infra_source(POSTGRES_DSN) is InfraSource.EXTERNAL
    assert infra_source(NATS_URL) is InfraSource.EMBEDDED


def test_the_setting_wins_over_an_external_address(clean_environment: pytest.MonkeyPatch) -> None:
    clean_environment.setenv(POSTGRES_DSN, "postgresql://postgres@db.example:5432/postgres")
    clean_environment.setenv(SETTING, " TestContainers ")
    assert infra_source(POSTGRES_DSN) is InfraSource.TESTCONTAINERS
    assert infra_source(NATS_URL) is InfraSource.TESTCONTAINERS


def test_an_unknown_source_is_a_usage_error_naming_the_choices(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    clean_environment.setenv(SETTING, "docker")
    with pytest.raises(pytest.UsageError, match="embedded, testcontainers, external"):
        infra_source(NATS_URL)


def test_external_needs_the_address(clean_environment: pytest.MonkeyPatch) -> None:
    clean_environment.setenv(SETTING, "external")
    with pytest.raises(pytest.UsageError, match=NATS_URL):
        external_address(NATS_URL)
    clean_environment.setenv(NATS_URL, "nats://nats.example:4222")
    assert external_address(NATS_URL) == "nats://nats.example:4222"
