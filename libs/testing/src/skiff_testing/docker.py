"""Docker fixtures: a real engine and the sandbox image, or a skip that says how to get them.

`docker_engine` (session) answers the engine's version once `docker info` works; without an
engine the test is skipped with the reason, or FAILS when SKIFF_REQUIRE_DOCKER=1 (CI, where
`make docker-engine` must have started one). `sandbox_image` (session) is the image name from
SKIFF_SANDBOX_IMAGE (default `skiff-sandbox:latest`), skipped/failed the same way when the
engine does not have it. Mark such tests `@pytest.mark.docker`.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

DEFAULT_SANDBOX_IMAGE = "skiff-sandbox:latest"


def docker_required() -> bool:
    """True where a missing engine or image is a failure rather than a skip (CI)."""
    return os.environ.get("SKIFF_REQUIRE_DOCKER", "") == "1"


def _unavailable(reason: str) -> None:
    if docker_required():
        pytest.fail(f"{reason} (SKIFF_REQUIRE_DOCKER=1)", pytrace=False)
    pytest.skip(reason)


def _docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=30, check=False
    )


@pytest.fixture(scope="session")
def docker_engine() -> str:
    """The engine's server version; skips (or fails under SKIFF_REQUIRE_DOCKER=1) without one."""
    if shutil.which("docker") is None:
        _unavailable("no docker CLI on this machine; run `make docker-engine`")
    try:
        answer = _docker("info", "--format", "{{.ServerVersion}}")
    except subprocess.TimeoutExpired:
        _unavailable("the Docker engine does not answer; run `make docker-engine`")
        raise  # unreachable: skip/fail raise
    if answer.returncode != 0 or not answer.stdout.strip():
        _unavailable(
            f"no Docker engine answers ({answer.stderr.strip()}); run `make docker-engine`"
        )
    return answer.stdout.strip()


@pytest.fixture(scope="session")
def sandbox_image(docker_engine: str) -> str:
    """The sandbox image to test with; skips (or fails) when the engine does not have it."""
    image = os.environ.get("SKIFF_SANDBOX_IMAGE", DEFAULT_SANDBOX_IMAGE)
    if _docker("image", "inspect", image).returncode != 0:
        _unavailable(f"the image {image} is not built; run `make sandbox-image`")
    return image
