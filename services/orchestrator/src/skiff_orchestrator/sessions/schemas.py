"""HTTP bodies of the session routes; unknown fields are refused."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

Network = Literal["none", "egress"]


class Resources(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    cpu: float | None = None
    memory_mb: int | None = None


class CreateSession(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Everything is optional: the operator's defaults fill the gaps."""

    image: str | None = None
    timeout_seconds: int | None = None
    idle_timeout_seconds: int | None = None
    env: dict[str, str] | None = None
    resources: Resources | None = None
    network: Network | None = None
    metadata: dict[str, str] | None = None


class ResourcesOut(msgspec.Struct, kw_only=True):
    cpu: float
    memory_mb: int


class SessionOut(msgspec.Struct, kw_only=True):
    """A session as every route shows it; env values are never echoed (they may be secrets)."""

    id: str
    status: str
    image: str
    resources: ResourcesOut
    network: str
    timeout_seconds: int
    idle_timeout_seconds: int
    env_keys: list[str]
    metadata: dict[str, Any]
    runner_id: str | None
    stop_reason: str | None
    failure_reason: str | None
    credits_used: int
    running_seconds: float
    created_at: datetime
    started_at: datetime | None
    paused_at: datetime | None
    stopped_at: datetime | None
