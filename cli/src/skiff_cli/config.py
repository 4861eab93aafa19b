"""What a supervised stack is made of: servers to use, services to run, ports, secrets."""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

from skiff_embedded import free_port
from skiff_kit.catalog import SERVICES, ServiceSpec, role_name

from skiff_cli.credentials import Secrets
from skiff_cli.process import RestartPolicy

Command = Callable[[ServiceSpec], Sequence[str]]


def module_command(spec: ServiceSpec) -> list[str]:
    """`python -m skiff_<name>` with this interpreter (the workspace venv)."""
    return [sys.executable, "-m", spec.package]


# Processes the stack runs besides the services (cli/standins.py): they take a port too.
EXTRA_PROCESSES = ("payments_standin",)


def free_ports(
    services: Sequence[ServiceSpec] = SERVICES, avoid: Collection[int] = ()
) -> dict[str, int]:
    """A free public port for each service (and the payment stand-ins), for tests that must not
    collide with a real stack. Each differs from the others and from `avoid`: none is bound
    until its process starts."""
    ports: dict[str, int] = {}
    for name in [*(spec.name for spec in services), *EXTRA_PROCESSES]:
        ports[name] = free_port(avoid={*avoid, *ports.values()})
    return ports


@dataclass(frozen=True)
class StackConfig:
    """Everything a `Stack` needs; PostgreSQL and NATS must already run."""

    admin_dsn: str  # a superuser URL of the server (its database part is ignored)
    nats_url: str
    secrets: Secrets
    log_dir: Path
    sandbox_dir: Path | None = None  # the runners' workspaces (default: their own setting)
    database: str = "skiff"
    services: Sequence[ServiceSpec] = SERVICES
    ports: Mapping[str, int] = field(default_factory=dict)  # service -> public port override
    scale: Mapping[str, int] = field(default_factory=dict)  # service -> replicas (default 1)
    host: str = "127.0.0.1"
    log_format: str = "console"
    log_level: str = "info"
    command: Command = module_command
    extra_env: Mapping[str, str] = field(default_factory=dict)
    restart: RestartPolicy = field(default_factory=RestartPolicy)
    health_timeout: float = 60.0
    stop_timeout: float = 25.0  # the services allow 20 s for a graceful shutdown
    # Run the Stripe and Polar stand-ins for providers without keys (cli/standins.py).
    payment_standins: bool = False
    # The server's Unix-socket directory when it runs on this machine (the embedded one):
    # services then connect through the socket rather than TCP on the admin URL's host.
    socket_dir: Path | None = None

    def __post_init__(self) -> None:
        known = {spec.name for spec in self.services}
        for option, names in (("scale", self.scale), ("ports", self.ports)):
            if option == "ports":
                names = {name: port for name, port in names.items() if name not in EXTRA_PROCESSES}
            unknown = sorted(set(names) - known)
            if unknown:
                raise ValueError(f"{option}: unknown service(s) {', '.join(unknown)}")
        negative = [name for name, count in self.scale.items() if count < 0]
        if negative:
            raise ValueError(f"scale: replicas must be 0 or more ({', '.join(negative)})")

    def spec(self, name: str) -> ServiceSpec:
        """The catalog entry of a service."""
        for spec in self.services:
            if spec.name == name:
                return spec
        raise KeyError(f"no service named {name!r}")

    def port(self, name: str) -> int:
        """The public port a service's replicas share."""
        return self.ports.get(name, self.spec(name).port)

    def replicas(self, name: str) -> int:
        """How many processes of a service to run."""
        return self.scale.get(name, 1)

    def schemas(self) -> list[str]:
        """Every schema of the stack's services, in catalog order."""
        return [spec.schema for spec in self.services if spec.schema is not None]

    def database_url(self, schema: str) -> str:
        """The SQLAlchemy URL a service connects with, as its own role."""
        server = urlsplit(self.admin_dsn)
        password = quote(self.secrets.roles[schema], safe="")
        host = server.hostname or "127.0.0.1"
        port = server.port or 5432
        role = role_name(schema)
        if self.socket_dir is not None:
            # libpq's form, which asyncpg and SQLAlchemy read: no host, the socket's directory
            # and port (the socket file's suffix) as parameters.
            directory = quote(str(self.socket_dir), safe="/")
            return (
                f"postgresql+asyncpg://{role}:{password}@/{self.database}"
                f"?host={directory}&port={port}"
            )
        return f"postgresql+asyncpg://{role}:{password}@{host}:{port}/{self.database}"

    def gateway_url(self) -> str:
        """Where users reach the stack."""
        host = "localhost" if self.host in ("127.0.0.1", "0.0.0.0") else self.host
        return f"http://{host}:{self.port('gateway')}"
