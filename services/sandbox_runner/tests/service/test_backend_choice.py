"""`SKIFF_BACKEND=auto`: docker only when its engine answers and the image is there."""

from __future__ import annotations

from pathlib import Path

import pytest
from skiff_sandbox_runner.backend_choice import choose_backend, docker_unusable
from skiff_sandbox_runner.settings import SandboxRunnerSettings


async def test_without_an_engine_auto_falls_back_to_local_and_says_why(tmp_path: Path) -> None:
    settings = SandboxRunnerSettings(
        backend="auto",
        docker_url=f"unix://{tmp_path}/no-engine.sock",
        workspace_root=str(tmp_path / "sandboxes"),
    )
    reason = await docker_unusable(settings)
    assert reason is not None
    assert "does not answer" in reason
    backend = await choose_backend(settings, "runner-a")
    assert backend.name == "local"
    await backend.close()


@pytest.mark.docker
async def test_an_engine_without_the_image_is_not_used(docker_engine: str) -> None:
    settings = SandboxRunnerSettings(default_image="skiff-no-such-image:never")
    reason = await docker_unusable(settings)
    assert reason is not None
    assert "skiff-no-such-image:never" in reason


@pytest.mark.docker
async def test_an_engine_with_the_image_is_used(sandbox_image: str) -> None:
    assert await docker_unusable(SandboxRunnerSettings(default_image=sandbox_image)) is None
