"""What `python -m skiff_cli.container` does: secrets on first start, settings files, bootstrap."""

from __future__ import annotations

import importlib.util
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import msgspec
import structlog
from msgspec.structs import replace
from skiff_kit.catalog import SERVICES
from skiff_kit.settings import ServiceSettings, load_settings
from skiff_messaging import connect
from skiff_messaging.connection import drain_then_close
from skiff_messaging.streams import ensure_streams

from skiff_cli.config import StackConfig
from skiff_cli.credentials import KeyPair, Secrets, load_or_create
from skiff_cli.environment import GATEWAY, service_environment
from skiff_cli.errors import StackError
from skiff_cli.files import write_atomically

log = structlog.get_logger("skiff")

# What a service's settings file holds: its secrets and what is derived from them.
SECRET_SETTINGS = (
    "SKIFF_DATABASE_URL",
    "SKIFF_DATABASE_SCHEMA",
    "SKIFF_INTERNAL_KEY_ID",
    "SKIFF_INTERNAL_PUBLIC_KEYS",
    "SKIFF_INTERNAL_PRIVATE_KEY",
    "SKIFF_ACCESS_TOKEN_KEY_ID",
    "SKIFF_ACCESS_TOKEN_PUBLIC_KEYS",
    "SKIFF_ACCESS_TOKEN_PRIVATE_KEY",
    "SKIFF_UPSTREAMS",
)


class ContainerSettings(ServiceSettings, kw_only=True):
    """`SKIFF_*` variables of the container commands (docs/deploy.md); `nats_url` is inherited."""

    secrets_dir: str = "/run/skiff/secrets"
    """Where `secrets` keeps `secrets.json` and `postgres-password` (the `secrets` volume)."""
    settings_root: str = "/run/skiff/settings"
    """Where `secrets` writes each service's settings file, `<service>/settings.json` (one
    volume each)."""
    admin_dsn: str = ""
    """A PostgreSQL superuser URL for `bootstrap` and `migrate`; empty: built from
    `SKIFF_POSTGRES_*` and the generated password."""
    postgres_host: str = "postgres"
    """The PostgreSQL server's host."""
    postgres_port: int = 5432
    """The PostgreSQL server's port."""
    postgres_user: str = "postgres"
    """The PostgreSQL superuser."""
    postgres_password: str = ""
    """An external server's superuser password; empty: generated on the first start."""
    database: str = "skiff"
    """The database that holds every service's schema."""
    nats_url: str = "nats://nats:4222"
    """NATS, where `bootstrap` creates the JetStream streams (the compose service's)."""
    stream_replicas: int = 1
    """Replicas of each JetStream stream: 3 on a 3-node NATS cluster."""
    upstream_url: str = "http://{host}:{port}"
    """The gateway's address of each service; `{host}` is the service's name with `-`,
    `{port}` its port."""
    postgres_uid: int = 999
    """Owner of `postgres-password` (the PostgreSQL image's user)."""
    service_uid: int = 10001
    """Owner of the other files (the service image's user)."""


def container_settings() -> ContainerSettings:
    """The settings from the environment (raises SettingsError naming a bad variable)."""
    return load_settings(ContainerSettings)


def read_secrets(settings: ContainerSettings) -> Secrets | None:
    """The generated secrets when this container is given them (compose); else None."""
    path = Path(settings.secrets_dir) / "secrets.json"
    if not path.exists():
        return None
    return msgspec.json.decode(path.read_bytes(), type=Secrets)


def schemas() -> list[str]:
    """Every service schema, in catalog order."""
    return [spec.schema for spec in SERVICES if spec.schema is not None]


def write_secrets(settings: ContainerSettings) -> Secrets:
    """Generate the secrets on first start (kept after), then each service's settings file."""
    directory = Path(settings.secrets_dir)
    secrets = load_or_create(directory / "secrets.json", schemas())
    if settings.postgres_password and settings.postgres_password != secrets.postgres_password:
        secrets = replace(secrets, postgres_password=settings.postgres_password)
        _write(directory / "secrets.json", msgspec.json.encode(secrets), settings.service_uid)
    _chown(directory / "secrets.json", settings.service_uid)
    password = secrets.postgres_password.encode() + b"\n"  # `read` wants a whole line
    _write(directory / "postgres-password", password, settings.postgres_uid)
    config = stack_config(settings, admin_dsn(settings, secrets), secrets)
    for spec in SERVICES:
        values = service_settings(config, spec.name, settings.upstream_url)
        target = Path(settings.settings_root) / spec.name / "settings.json"
        _write(target, msgspec.json.encode(values), settings.service_uid)
    log.info("secrets ready", directory=str(directory), services=len(SERVICES))
    return secrets


def service_settings(config: StackConfig, name: str, upstream_url: str) -> dict[str, str]:
    """The secret settings of one service, as `skiff up` would give them to its process."""
    spec = config.spec(name)
    env = service_environment(config, spec, replica=0, private_port=0, base={})
    values = {key: value for key, value in env.items() if key in SECRET_SETTINGS}
    if name == GATEWAY:
        values["SKIFF_UPSTREAMS"] = msgspec.json.encode(
            {
                other.name: upstream_url.format(host=other.name.replace("_", "-"), port=other.port)
                for other in config.services
                if other.name != GATEWAY
            }
        ).decode()
    return values


def admin_dsn(settings: ContainerSettings, secrets: Secrets | None) -> str:
    """`SKIFF_ADMIN_DSN`, or the superuser URL of the configured server."""
    if settings.admin_dsn:
        return settings.admin_dsn
    password = settings.postgres_password or (secrets.postgres_password if secrets else "")
    if not password:
        raise StackError("no PostgreSQL superuser password: set SKIFF_ADMIN_DSN or run `secrets`")
    return (
        f"postgresql://{quote(settings.postgres_user, safe='')}:{quote(password, safe='')}"
        f"@{settings.postgres_host}:{settings.postgres_port}/postgres"
    )


def role_secrets(environ: Mapping[str, str]) -> Secrets:
    """Secrets holding only role passwords, read from `SKIFF_DATABASE_URL_<SCHEMA>` (Kubernetes:
    the same Secret keys the services connect with, so the two never disagree)."""
    roles: dict[str, str] = {}
    for schema in schemas():
        name = f"SKIFF_DATABASE_URL_{schema.upper()}"
        url = environ.get(name, "")
        password = urlsplit(url).password if url else None
        if not password:
            raise StackError(f"{name} is not set (or has no password); bootstrap needs it")
        roles[schema] = unquote(password)
    unused = KeyPair("", "", "")
    return Secrets(postgres_password="", roles=roles, internal_token=unused, access_token=unused)


def stack_config(settings: ContainerSettings, dsn: str, secrets: Secrets) -> StackConfig:
    """A StackConfig for the servers of this deployment (migration logs go to a temp folder)."""
    return StackConfig(
        admin_dsn=dsn,
        nats_url=settings.nats_url,
        secrets=secrets,
        log_dir=Path(tempfile.gettempdir()) / "skiff-migrate",
        database=settings.database,
        log_format="json",
    )


def migrate_in_process(config: StackConfig) -> None:
    """Every service's migrations, one after another in this process, each as its own role.

    The same migrations as `python -m skiff_<name> migrate`, without five interpreters
    importing five services at once (on a small host that is most of a compose start).
    """
    from skiff_kit.migrations import upgrade  # alembic is needed here only

    for spec in config.services:
        if spec.schema is None:
            continue
        found = importlib.util.find_spec(spec.package)
        if found is None or found.origin is None:
            raise StackError(f"{spec.package} is not installed in this image")
        location = Path(found.origin).resolve().parents[2] / "migrations"
        try:
            upgrade(
                database_url=config.database_url(spec.schema),
                schema=spec.schema,
                script_location=str(location),
            )
        except Exception as error:  # alembic and the driver share no base class to name
            raise StackError(f"migrations of {spec.name} failed: {error!r}") from error
        log.info("migrated", service=spec.name)


async def ensure_all_streams(settings: ContainerSettings) -> None:
    """Every event stream, with the deployment's replica count."""
    nats = await connect(settings.nats_url, name="skiff-bootstrap")
    try:
        await ensure_streams(nats.jetstream(), replicas=settings.stream_replicas)
    finally:
        await drain_then_close(nats)
    log.info("streams ready", replicas=settings.stream_replicas)


def _write(path: Path, data: bytes, owner: int) -> None:
    write_atomically(path, data, mode=0o400)
    _chown(path, owner)


def _chown(path: Path, owner: int) -> None:
    """Give a file to the user that reads it (only root can; otherwise it is already ours)."""
    if os.geteuid() == 0:
        os.chown(path, owner, owner)
