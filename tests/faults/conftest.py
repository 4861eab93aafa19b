"""Fault tests: servers of their own that a test may kill and start again, and stacks on them.

Every other test shares the run's PostgreSQL and NATS; these kill theirs with SIGKILL, so
they get servers of their own (loopback, free ports, data in the module's temp folder).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path

import aiodocker
import pytest
from skiff_cli.supervisor import Stack
from skiff_embedded import EmbeddedNats, EmbeddedPostgres, free_port
from skiff_testing.databases import TestDatabase, create_database, drop_database

from tests.conftest import stack_config

RUNNER_ID = "fault-runner"


class Restartable:
    """A server a test can kill (SIGKILL, as a crash would) and start again on the same port
    and data, counting how long it was away."""

    def __init__(self, server: EmbeddedNats | EmbeddedPostgres) -> None:
        self.server = server

    def kill(self) -> None:
        pid = self.server.pid
        assert pid is not None, "the server is not running"
        os.killpg(pid, signal.SIGKILL)  # the whole group: postgres has children
        process = self.server._process
        if process is not None:
            process.wait(10)
        self.server._process = None

    def start(self) -> None:
        self.server.start()

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture(scope="module")
def own_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Restartable]:
    """A NATS server of this module's own (JetStream, file storage in a temp folder)."""
    nats = Restartable(EmbeddedNats(tmp_path_factory.mktemp("nats"), port=free_port()))
    nats.start()
    yield nats
    nats.stop()


@pytest.fixture(scope="module")
def own_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Restartable]:
    """A PostgreSQL server of this module's own. Durable: with synchronous_commit off, a
    SIGKILL would lose the last commits, which a real crash of a real server does not."""
    server = EmbeddedPostgres(
        tmp_path_factory.mktemp("pg") / "data",
        port=free_port(),
        admin_password="fault-admin",
        durable=True,
    )
    postgres = Restartable(server)
    postgres.start()
    yield postgres
    postgres.stop()


def fault_stack(
    database: TestDatabase,
    nats_url: str,
    log_dir: Path,
    *,
    scale: Mapping[str, int] | None = None,
    env: Mapping[str, str] | None = None,
) -> Stack:
    """A stack on the Docker backend (fixed runner id, so its containers can be cleared)."""
    config = stack_config(database, nats_url, log_dir)
    extra = {**config.extra_env, "SKIFF_BACKEND": "docker", "SKIFF_RUNNER_ID": RUNNER_ID}
    return Stack(
        dataclasses.replace(config, scale=dict(scale or {}), extra_env={**extra, **(env or {})})
    )


async def run_stack(stack: Stack) -> AsyncIterator[Stack]:
    """Start `stack`, yield it, stop it and remove the runner's containers."""
    await asyncio.to_thread(stack.start)
    try:
        yield stack
    finally:
        await asyncio.to_thread(stack.stop)
        await remove_containers()


async def remove_containers() -> None:
    docker = aiodocker.Docker()
    try:
        for container in await docker.containers.list(
            all=True, filters={"label": [f"skiff.runner={RUNNER_ID}"]}
        ):
            await container.delete(force=True)
    finally:
        await docker.close()


@pytest.fixture(scope="module")
async def database(postgres_admin_dsn: str) -> AsyncIterator[TestDatabase]:
    """A database of the module's own, on the run's PostgreSQL (a module that kills PostgreSQL
    brings its own server instead)."""
    created = await create_database(postgres_admin_dsn)
    yield created
    await drop_database(created)


@pytest.fixture(scope="module")
async def stack(
    sandbox_image: str,
    database: TestDatabase,
    own_nats: Restartable,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    """Every service on the module's NATS, sandboxes on Docker."""
    nats_url = own_nats.server.url  # type: ignore[union-attr]
    async for running in run_stack(
        fault_stack(database, nats_url, tmp_path_factory.mktemp("logs"))
    ):
        yield running
