"""The reaper: sessions whose runner vanished, sessions nobody started, tasks never handed over.

Runs every `reaper_interval_seconds` (first right at start, which is the start-up
reconciliation). Each replica may run it: every change re-checks the row under a lock.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import structlog
from nats.aio.client import Client as NATS
from nats.js.errors import BucketNotFoundError, KeyNotFoundError
from skiff_contracts.live import RUNNERS_BUCKET
from skiff_messaging.aio import raise_if_cancelled
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from skiff_orchestrator.live.announce import LiveAnnouncer
from skiff_orchestrator.models import LIVE_SESSION_STATUSES
from skiff_orchestrator.sessions import lifecycle
from skiff_orchestrator.sessions import repository as sessions
from skiff_orchestrator.settings import OrchestratorSettings
from skiff_orchestrator.tasks import repository as tasks

log = structlog.get_logger("skiff_orchestrator.reaper")

NEVER_DISPATCHED = "the orchestrator restarted before handing the task to its runner"


class Reaper:
    """Remembers since when each runner is missing from `sandbox-runners`."""

    def __init__(
        self,
        *,
        nc: NATS,
        session_factory: async_sessionmaker[AsyncSession],
        live: LiveAnnouncer,
        settings: OrchestratorSettings,
    ) -> None:
        self.nc = nc
        self.session_factory = session_factory
        self.live = live
        self.settings = settings
        self.missing_since: dict[str, float] = {}

    async def run(self) -> None:
        while True:
            raise_if_cancelled()  # a cancel swallowed inside nats-py must still stop the loop
            try:
                await self.reap()
            except Exception as exc:
                log.warning("reaper pass failed", error=repr(exc))
            await asyncio.sleep(self.settings.reaper_interval_seconds)

    async def reap(self) -> None:
        """One pass."""
        await self._fail_sessions_of_lost_runners()
        await self._fail_unscheduled_sessions()
        await self._fail_never_dispatched_tasks()

    async def _present(self, runner_ids: set[str]) -> set[str]:
        """Which of these runners are in `sandbox-runners` now (direct gets, no consumer).

        Raises if the registry cannot be read: then nobody is declared lost on this pass.
        """
        if not runner_ids:
            return set()
        try:
            bucket = await self.nc.jetstream().key_value(RUNNERS_BUCKET)
        except BucketNotFoundError:
            return set()
        present = set()
        for runner_id in runner_ids:
            try:
                await bucket.get(runner_id)
            except KeyNotFoundError:  # never there, deleted, or expired (TTL)
                continue
            present.add(runner_id)
        return present

    def _lost(self, runner_ids: set[str], present: set[str]) -> set[str]:
        now = time.monotonic()
        for gone in set(self.missing_since) - runner_ids:
            del self.missing_since[gone]
        lost = set()
        for runner_id in runner_ids:
            if runner_id in present:
                self.missing_since.pop(runner_id, None)
                continue
            since = self.missing_since.setdefault(runner_id, now)
            if now - since >= self.settings.runner_lost_seconds:
                lost.add(runner_id)
        return lost

    async def _fail_sessions_of_lost_runners(self) -> None:
        async with self.session_factory() as db_session, db_session.begin():
            live = await sessions.live_with_runner(db_session)
            runner_ids = {s.runner_id for s in live if s.runner_id}
            lost = self._lost(runner_ids, await self._present(runner_ids))
            for candidate in live:
                if candidate.runner_id not in lost:
                    continue
                session = await sessions.by_id_for_update(db_session, candidate.id)
                if (
                    session is not None
                    and session.status in LIVE_SESSION_STATUSES
                    and session.runner_id in lost
                ):
                    log.warning("runner lost", session_id=session.id, runner_id=session.runner_id)
                    await lifecycle.fail(db_session, self.live, session, reason="runner_lost")

    async def _fail_unscheduled_sessions(self) -> None:
        deadline = datetime.now(UTC) - timedelta(seconds=self.settings.start_deadline_seconds)
        async with self.session_factory() as db_session, db_session.begin():
            for session in await sessions.starting_since_for_update(db_session, deadline):
                log.warning("session never started", session_id=session.id)
                await lifecycle.fail(db_session, self.live, session, reason="not_scheduled")

    async def _fail_never_dispatched_tasks(self) -> None:
        cutoff = datetime.now(UTC) - timedelta(seconds=self.settings.stale_queued_task_seconds)
        async with self.session_factory() as db_session, db_session.begin():
            for task in await tasks.never_accepted_for_update(db_session, cutoff):
                task.status = "failed"
                task.error = NEVER_DISPATCHED
                task.finished_at = datetime.now(UTC)
