"""Everything the runner's parts share once it has started: backend, database, bus, memory."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from skiff_sandbox_runner.backends.base import SandboxBackend
from skiff_sandbox_runner.held import Holdings
from skiff_sandbox_runner.live import LivePublisher
from skiff_sandbox_runner.registry import Registry
from skiff_sandbox_runner.settings import SandboxRunnerSettings
from skiff_sandbox_runner.tasks.staged_outputs import StagedOutputs
from skiff_sandbox_runner.warm_pool import WarmPool

log = structlog.get_logger("skiff_sandbox_runner")


@dataclass
class Runtime:
    """The started runner: passed to every handler, command, loop and route."""

    settings: SandboxRunnerSettings
    runner_id: str
    backend: SandboxBackend
    sessions: async_sessionmaker[AsyncSession]
    live: LivePublisher
    registry: Registry
    warm_pool: WarmPool
    outputs: StagedOutputs
    holdings: Holdings = field(default_factory=Holdings)
    # Background work that must not be garbage-collected mid-flight (refills, placements).
    background: set[asyncio.Task[Any]] = field(default_factory=set)

    def spawn(self, work: Coroutine[Any, Any, object], *, name: str) -> asyncio.Task[Any]:
        """Run `work` in the background, keeping a reference to it until it ends."""
        task = asyncio.create_task(work, name=name)
        self.background.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self.background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background work failed", task=task.get_name(), error=repr(task.exception()))
