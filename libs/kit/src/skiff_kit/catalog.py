"""The services of Skiff: name, package, port, schema and stream (used by the CLI and tests)."""

from __future__ import annotations

import msgspec


class ServiceSpec(msgspec.Struct, frozen=True):
    """One service as the runtime sees it."""

    name: str
    package: str
    port: int
    schema: str | None
    stream: str | None

    @property
    def role(self) -> str | None:
        """Its database role (`skiff_<schema>`), or None when it has no schema."""
        return role_name(self.schema) if self.schema else None


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("gateway", "skiff_gateway", 8080, None, "GATEWAY"),
    ServiceSpec("identity", "skiff_identity", 8081, "identity", "IDENTITY"),
    ServiceSpec("billing", "skiff_billing", 8082, "billing", "BILLING"),
    ServiceSpec("orchestrator", "skiff_orchestrator", 8083, "orchestrator", "ORCHESTRATOR"),
    ServiceSpec("sandbox_runner", "skiff_sandbox_runner", 8084, "sandbox", "SANDBOX"),
    ServiceSpec("notification", "skiff_notification", 8085, "notification", "NOTIFICATION"),
)

_BY_NAME = {spec.name: spec for spec in SERVICES}


def service(name: str) -> ServiceSpec:
    """The spec of service `name` (`sandbox-runner` and `sandbox_runner` both work)."""
    try:
        return _BY_NAME[name.replace("-", "_")]
    except KeyError:
        known = ", ".join(sorted(_BY_NAME))
        raise KeyError(f"unknown service {name!r}; known: {known}") from None


def role_name(schema: str) -> str:
    """The database role that owns `schema`."""
    return f"skiff_{schema}"
