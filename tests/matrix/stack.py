"""The e2e stack of tests/conftest.py with settings of our own (limits, sandbox backend)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from skiff_cli.supervisor import Stack
from skiff_testing.databases import TestDatabase
from skiff_testing.nats_reset import reset_jetstream

from tests.conftest import stack_config


def sandbox_settings(workspace_root: Path) -> dict[str, str]:
    """Sessions on the runner's `local` backend (no container engine here), in a temp dir."""
    return {"SKIFF_BACKEND": "local", "SKIFF_WORKSPACE_ROOT": str(workspace_root)}


@asynccontextmanager
async def running_stack(
    database: TestDatabase, nats_url: str, directory: Path, extra_env: Mapping[str, str]
) -> AsyncIterator[Stack]:
    """Every service running on `database` with `extra_env` on top of the e2e settings."""
    await reset_jetstream(nats_url)
    (directory / "logs").mkdir(parents=True, exist_ok=True)
    config = stack_config(database, nats_url, directory / "logs")
    env = {**config.extra_env, **sandbox_settings(directory / "sandboxes"), **extra_env}
    running = Stack(dataclasses.replace(config, extra_env=env))
    await asyncio.to_thread(running.start)
    try:
        yield running
    finally:
        await asyncio.to_thread(running.stop)
