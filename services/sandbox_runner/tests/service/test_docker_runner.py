"""The runner on the docker backend: a session is a hardened container, files are the sandbox's."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from runner_support import completed, exec_task, start, stop, wait_for
from skiff_contracts import new_id
from skiff_contracts.events.sandbox import SandboxStarted, SandboxStopped
from skiff_sandbox_runner.app import create
from skiff_sandbox_runner.settings import SandboxRunnerSettings
from skiff_testing.services import GatewaySigner

pytestmark = pytest.mark.docker

RUNNER_LABEL = "skiff.runner"  # docs/sandboxes.md: containers carry skiff.runner=<runner_id>


@pytest.fixture
async def docker_runner(
    make_settings: Callable[..., SandboxRunnerSettings],
    sandbox_image: str,
    js: JetStreamContext,
    runner_id: str,
) -> AsyncIterator[AsyncTestClient[Any]]:
    """`SKIFF_BACKEND=auto` with an engine and the image: the runner picks docker."""
    settings = make_settings(
        backend="auto", default_image=sandbox_image, egress_network=f"skiff-egress-{runner_id}"
    )
    async with AsyncTestClient(create(settings)) as client:
        yield client
    for container in containers(runner_id):
        docker("rm", "-f", container)
    docker("network", "rm", f"skiff-egress-{runner_id}")


def docker(*args: str) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, check=False)
    return done.stdout


def containers(runner_id: str) -> list[str]:
    """The runner's containers (the app runs on its own event loop: ask the CLI, not it)."""
    return docker("ps", "-aq", "--filter", f"label={RUNNER_LABEL}={runner_id}").split()


async def test_a_session_runs_in_a_container_with_files_owned_by_the_sandbox_user(
    docker_runner: AsyncTestClient[Any],
    js: JetStreamContext,
    nc: NATS,
    runner_id: str,
    sandbox_image: str,
    gateway_signer: GatewaySigner,
) -> None:
    session = await start(js, image=sandbox_image, memory_mb=256)
    started = await wait_for(js, SandboxStarted, session.session_id)
    assert started.backend == "docker"
    assert len(containers(runner_id)) == 1

    headers = gateway_signer.headers(
        gateway_signer.user(session.organization_id, new_id("usr"), role="member")
    )
    path = f"/api/v1/sessions/{session.session_id}/files/content"
    put = await docker_runner.put(
        path, params={"path": "in/data.txt"}, content=b"from the host\n", headers=headers
    )
    assert put.status_code == 200, put.text
    held = docker_runner.app.state.sandbox_runtime.holdings.get(session.session_id)
    written = Path(held.sandbox.workspace) / "in" / "data.txt"
    assert written.stat().st_uid == 1000

    task_id = await exec_task(
        nc, runner_id, session, "id -u; cat in/data.txt; echo changed > in/data.txt"
    )
    outcome = await completed(js, session.session_id, task_id)
    assert (outcome.status, outcome.stdout) == ("succeeded", "1000\nfrom the host\n")
    back = await docker_runner.get(path, params={"path": "in/data.txt"}, headers=headers)
    assert back.content == b"changed\n"

    await stop(js, session, runner_id)
    assert (await wait_for(js, SandboxStopped, session.session_id)).reason == "requested"
    assert containers(runner_id) == []
