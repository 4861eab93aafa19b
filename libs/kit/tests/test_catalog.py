"""The service catalog the CLI, the gateway and the tests share."""

from __future__ import annotations

import pytest
from skiff_kit.catalog import SERVICES, role_name, service


def test_the_six_services_with_distinct_ports_and_streams() -> None:
    assert [spec.name for spec in SERVICES] == [
        "gateway",
        "identity",
        "billing",
        "orchestrator",
        "sandbox_runner",
        "notification",
    ]
    assert [spec.port for spec in SERVICES] == [8080, 8081, 8082, 8083, 8084, 8085]
    assert len({spec.stream for spec in SERVICES}) == len(SERVICES)


def test_lookup_by_name() -> None:
    runner = service("sandbox_runner")
    assert runner.package == "skiff_sandbox_runner"
    assert runner.schema == "sandbox"
    assert runner.stream == "SANDBOX"
    assert runner.role == "skiff_sandbox"
    assert service("sandbox-runner") == runner
    assert service("gateway").schema is None
    assert service("gateway").role is None
    with pytest.raises(KeyError, match="unknown service"):
        service("payments")


def test_role_name() -> None:
    assert role_name("billing") == "skiff_billing"
