"""Warm sandboxes of the default spec, started ahead so a matching session starts at once.

Warm sandboxes have no row: a runner that restarts finds them among its managed sandboxes
without a live session and removes them, so none leaks across restarts.
"""

from __future__ import annotations

import asyncio

import structlog
from skiff_contracts import new_id
from skiff_contracts.events.orchestrator import SandboxSpec
from skiff_messaging.aio import raise_if_cancelled

from skiff_sandbox_runner.backends.base import BackendError, Sandbox, SandboxBackend
from skiff_sandbox_runner.settings import SandboxRunnerSettings

log = structlog.get_logger("skiff_sandbox_runner.warm_pool")

RETRY_SECONDS = 5.0


class WarmPool:
    """Keeps `warm_pool_size` started sandboxes; `claim` hands one over, `run` refills."""

    def __init__(self, backend: SandboxBackend, settings: SandboxRunnerSettings) -> None:
        self.backend = backend
        self.settings = settings
        self.size = settings.warm_pool_size
        self.spec = settings.warm_spec()
        self._ready: list[Sandbox] = []
        self._wake = asyncio.Event()

    def __len__(self) -> int:
        return len(self._ready)

    def claim(self, spec: SandboxSpec) -> Sandbox | None:
        """A warm sandbox for a session of `spec`, if it matches the pool's and one is ready."""
        if not self._ready or not self.settings.matches_warm_spec(spec):
            return None
        return self._ready.pop(0)

    def refill_later(self) -> None:
        """Ask the background refill to top the pool up."""
        self._wake.set()

    async def run(self) -> None:
        """Top the pool up now and after every claim, until cancelled."""
        while True:
            raise_if_cancelled()
            while len(self._ready) < self.size:
                try:
                    sandbox = await self.backend.start(new_id("sbx"), self.spec, None)
                except BackendError as exc:
                    log.warning("warm sandbox did not start", reason=exc.reason)
                    await asyncio.sleep(RETRY_SECONDS)
                    continue
                self._ready.append(sandbox)
            self._wake.clear()
            await self._wake.wait()

    async def drain(self) -> None:
        """Remove every unclaimed warm sandbox (at shutdown)."""
        while self._ready:
            sandbox = self._ready.pop()
            try:
                await self.backend.remove(sandbox)
            except BackendError as exc:
                log.warning("warm sandbox not removed", reason=exc.reason)
