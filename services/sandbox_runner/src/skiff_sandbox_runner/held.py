"""What the runner holds in memory: each live session's sandbox, clocks and running tasks.

The `sandboxes` table is the durable half (adoption after a restart reads it); this is the
fast half the lifecycle loop, the commands and the file routes read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from skiff_contracts.events.orchestrator import SandboxSpec

from skiff_sandbox_runner.backends.base import Sandbox
from skiff_sandbox_runner.metering import active_seconds

if TYPE_CHECKING:
    from skiff_sandbox_runner.tasks.execution import TaskRun

HeldStatus = Literal["running", "paused", "stopping"]


@dataclass(frozen=True)
class Ending:
    """Why a session ends: `stopped` with a reason (requested, idle_timeout...) or `failed`."""

    reason: str
    failed: bool = False


@dataclass
class Held:
    """One live session's sandbox on this runner."""

    sandbox: Sandbox
    session_id: str
    organization_id: str
    spec: SandboxSpec
    status: HeldStatus
    active_seconds_before: float
    running_since: datetime | None
    last_activity: datetime
    minutes_reported: int
    tasks: dict[str, TaskRun] = field(default_factory=dict)
    # A stop decided but not yet recorded (the lifecycle loop retries it).
    pending: Ending | None = None
    ending_now: bool = False
    # Serializes pause, resume, metering and stop of this one session.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def active_seconds(self, now: datetime) -> float:
        """Running time so far (paused time excluded)."""
        return active_seconds(self.active_seconds_before, self.running_since, now)

    def idle_seconds(self, now: datetime) -> float:
        """How long nothing happened; zero while a task runs or while paused."""
        if self.tasks or self.status != "running":
            return 0.0
        return max(0.0, (now - self.last_activity).total_seconds())

    def touch(self, now: datetime) -> None:
        """Something used the session: the idle clock starts again."""
        self.last_activity = max(self.last_activity, now)


class Holdings:
    """The live sessions of this runner, by session id."""

    def __init__(self) -> None:
        self._by_session: dict[str, Held] = {}

    def add(self, held: Held) -> None:
        self._by_session[held.session_id] = held

    def drop(self, session_id: str) -> Held | None:
        return self._by_session.pop(session_id, None)

    def get(self, session_id: str, organization_id: str | None = None) -> Held | None:
        """The session, if held here (and in `organization_id`, when given)."""
        held = self._by_session.get(session_id)
        if held is None or organization_id not in (None, held.organization_id):
            return None
        return held

    def __iter__(self) -> Iterator[Held]:
        return iter(list(self._by_session.values()))

    def __len__(self) -> int:
        return len(self._by_session)
