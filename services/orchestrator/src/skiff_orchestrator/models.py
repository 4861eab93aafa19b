"""The orchestrator's tables: sandbox sessions and the tasks run in them (schema `orchestrator`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from skiff_kit.idempotency import idempotency_table
from skiff_messaging.tables import messaging_tables
from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    metadata = MetaData()


MESSAGING = messaging_tables(Base.metadata)
IDEMPOTENCY_KEYS = idempotency_table(Base.metadata)

LIVE_SESSION_STATUSES = ("starting", "running", "paused", "stopping")
TERMINAL_SESSION_STATUSES = ("stopped", "failed")
# `ix_sessions_live` holds only these (migration 0006): a query reading it names them as constants.
LIVE_SESSION_PREDICATE = f"status IN ({', '.join(repr(s) for s in LIVE_SESSION_STATUSES)})"
TERMINAL_TASK_STATUSES = ("succeeded", "failed", "cancelled", "timed_out")


class Session(Base):
    """A sandbox session; `status_changed_at` orders the runner's events (never backwards)."""

    __tablename__ = "sessions"
    __table_args__ = (
        Index("ix_sessions_organization", "organization_id", "id"),
        Index("ix_sessions_organization_status", "organization_id", "status", "id"),
        Index(
            "ix_sessions_live",
            "status",
            "created_at",
            postgresql_where=text(LIVE_SESSION_PREDICATE),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    organization_id: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    image: Mapped[str] = mapped_column(String(300))
    cpu: Mapped[float] = mapped_column(Float)
    memory_mb: Mapped[int] = mapped_column(Integer)
    network: Mapped[str] = mapped_column(String(10))
    timeout_seconds: Mapped[int] = mapped_column(Integer)
    idle_timeout_seconds: Mapped[int] = mapped_column(Integer)
    env: Mapped[dict[str, Any]] = mapped_column(JSONB)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSONB)
    runner_id: Mapped[str | None] = mapped_column(String(200))
    stop_reason: Mapped[str | None] = mapped_column(String(100))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    credits_used: Mapped[int] = mapped_column(Integer, default=0)
    active_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    running_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    stopped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Task(Base):
    """One command run in a session, with its final status and a bounded transcript."""

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_session", "session_id", "id"),
        Index("ix_tasks_status", "status", "session_id", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"))
    organization_id: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    command: Mapped[str] = mapped_column(Text)
    env: Mapped[dict[str, Any]] = mapped_column(JSONB)
    cwd: Mapped[str | None] = mapped_column(Text)
    timeout_seconds: Mapped[int] = mapped_column(Integer)
    exit_code: Mapped[int | None] = mapped_column(Integer)
    stdout: Mapped[str] = mapped_column(Text, default="")
    stderr: Mapped[str] = mapped_column(Text, default="")
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
