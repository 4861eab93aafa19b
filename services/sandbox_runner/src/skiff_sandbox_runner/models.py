"""The runner's tables (schema `sandbox`): the sandboxes it holds and the tasks running in them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from skiff_messaging.tables import messaging_tables
from sqlalchemy import DateTime, Float, Integer, LargeBinary, MetaData, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

LIVE_STATUSES = ("starting", "running", "paused")


class Base(DeclarativeBase):
    metadata = MetaData()


MESSAGING = messaging_tables(Base.metadata)


class SandboxRow(Base):
    """One sandbox of a session on one runner; the durable half of what the runner holds.

    Running time is `active_seconds_before` plus, while running, now - `running_since`:
    paused time is never counted, and a restarted runner meters on from what is stored.
    """

    __tablename__ = "sandboxes"

    sandbox_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    session_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    organization_id: Mapped[str] = mapped_column(String(40))
    runner_id: Mapped[str] = mapped_column(String(200))
    backend: Mapped[str] = mapped_column(String(20))
    handle: Mapped[str] = mapped_column(Text, default="")
    spec: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    active_seconds_before: Mapped[float] = mapped_column(Float, default=0.0)
    running_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_activity_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    minutes_reported: Mapped[int] = mapped_column(Integer, default=0)
    stopped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    stop_reason: Mapped[str | None] = mapped_column(Text)


class TaskRow(Base):
    """A task this runner started; one left `running` by a crash is failed on restart."""

    __tablename__ = "tasks"

    task_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(40))
    organization_id: Mapped[str] = mapped_column(String(40))
    runner_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StagedOutput(Base):
    """A finished task whose transcript is too large for its event, not yet announced.

    `completed` is its whole `sandbox.task.completed` (msgpack), transcript included; the row
    goes once the transcript is in the Object Store and the excerpted event is in the outbox.
    """

    __tablename__ = "task_outputs"

    task_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    runner_id: Mapped[str] = mapped_column(String(200))
    completed: Mapped[bytes] = mapped_column(LargeBinary)
    staged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
