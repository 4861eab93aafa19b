"""The runner as a whole: starts the backend, adopts, then keeps registry, pool and loop going."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import structlog
from skiff_messaging.connection import connect, drain_then_close, on_reconnect
from skiff_messaging.streams import ensure_live_stream

from skiff_sandbox_runner.adoption import RESTARTED, adopt
from skiff_sandbox_runner.backend_choice import choose_backend
from skiff_sandbox_runner.backends.base import SandboxBackend
from skiff_sandbox_runner.lifecycle import run_lifecycle
from skiff_sandbox_runner.live import LivePublisher
from skiff_sandbox_runner.registry import Registry
from skiff_sandbox_runner.runtime import Runtime
from skiff_sandbox_runner.settings import SandboxRunnerSettings
from skiff_sandbox_runner.tasks.staged_outputs import StagedOutputs
from skiff_sandbox_runner.warm_pool import WarmPool

log = structlog.get_logger("skiff_sandbox_runner")

SHUTDOWN_TASKS_GRACE_SECONDS = 5.0


class SandboxRunner:
    """Built with the app; `lifespan` starts it, and handlers `await runtime()` before acting.

    Its lifespan runs before the bus's, so consumers and responders only see a runner that
    has adopted its sandboxes; `runtime()` still waits, in case a message comes early.
    """

    def __init__(
        self, settings: SandboxRunnerSettings, *, backend: SandboxBackend | None = None
    ) -> None:
        self.settings = settings
        self.runner_id = settings.resolved_runner_id()
        self.url = settings.resolved_url()
        self._backend = backend
        self._runtime: Runtime | None = None
        self._ready = asyncio.Event()

    async def runtime(self) -> Runtime:
        """The started runner (waits while it is starting)."""
        await self._ready.wait()
        assert self._runtime is not None
        return self._runtime

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Any) -> AsyncIterator[None]:
        sessions = app.state.get("db_session_factory")
        if sessions is None:
            raise RuntimeError("the sandbox runner needs SKIFF_DATABASE_URL")
        nc = await connect(self.settings.nats_url, name=f"sandbox_runner-{self.runner_id}")
        js = nc.jetstream()
        backend = self._backend or await choose_backend(self.settings, self.runner_id)
        background: list[asyncio.Task[None]] = []
        rt: Runtime | None = None
        try:
            await ensure_live_stream(js)
            on_reconnect(nc, lambda: ensure_live_stream(js))
            registry = Registry(
                js,
                runner_id=self.runner_id,
                url=self.url,
                backend=backend.name,
                ttl=self.settings.registry_ttl_seconds,
            )
            await registry.open()
            rt = Runtime(
                settings=self.settings,
                runner_id=self.runner_id,
                backend=backend,
                sessions=sessions,
                live=LivePublisher(js),
                registry=registry,
                warm_pool=WarmPool(backend, self.settings),
                outputs=StagedOutputs(sessions, js, self.runner_id),
            )
            await adopt(rt)
            await registry.announce()
            background = [
                asyncio.create_task(registry.heartbeat(self.settings.heartbeat_interval_seconds)),
                asyncio.create_task(run_lifecycle(rt)),
                asyncio.create_task(rt.warm_pool.run()),
                asyncio.create_task(rt.outputs.run()),
            ]
            app.state.sandbox_runtime = rt
            self._runtime = rt
            self._ready.set()
            log.info(
                "sandbox runner started",
                runner_id=self.runner_id,
                backend=backend.name,
                url=self.url,
                adopted=len(rt.holdings),
            )
            yield
        finally:
            self._ready.clear()
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            if rt is not None:
                await _stop_tasks(rt)
                await rt.warm_pool.drain()
            await backend.close()
            await drain_then_close(nc)


async def _stop_tasks(rt: Runtime) -> None:
    """Running tasks cannot outlive the runner that streams them: they fail, with why."""
    runs = [run for held in rt.holdings for run in held.tasks.values()]
    for run in runs:
        await run.cancel(RESTARTED, failed=True)
    if runs:
        await asyncio.gather(*(run.wait(SHUTDOWN_TASKS_GRACE_SECONDS) for run in runs))
