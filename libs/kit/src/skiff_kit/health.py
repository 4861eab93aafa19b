"""Liveness, readiness and version routes every service serves (API.md, Health)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import msgspec
from litestar import Litestar, Response, get
from litestar.datastructures import State

from skiff_kit.logging import get_logger

ReadinessCheck = Callable[[], Awaitable[None]]
CHECK_TIMEOUT_SECONDS = 3.0
_MAX_MESSAGE = 200

_log = get_logger("skiff.health")


class HealthBody(msgspec.Struct):
    """Liveness answer."""

    status: str
    service: str
    version: str
    uptime_s: float


class ReadyBody(msgspec.Struct):
    """Readiness answer: each check's `ok` or what went wrong."""

    status: str
    checks: dict[str, str]


class VersionBody(msgspec.Struct):
    """What is running."""

    service: str
    version: str
    git_revision: str
    uptime_s: float


def _uptime(state: State) -> float:
    return round(time.monotonic() - float(state.started_at), 3)


def register_readiness_check(app: Litestar, name: str, check: ReadinessCheck) -> None:
    """Add (or replace) a readiness check, e.g. from a lifespan once a connection exists."""
    app.state.readiness_checks[name] = check


async def _run_check(check: ReadinessCheck) -> str:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await check()
    except TimeoutError:
        return f"timed out after {CHECK_TIMEOUT_SECONDS:g}s"
    except Exception as error:
        message = str(error).strip() or type(error).__name__
        return message[:_MAX_MESSAGE]
    return "ok"


async def run_readiness_checks(checks: Mapping[str, ReadinessCheck]) -> dict[str, str]:
    """Run every check concurrently; name → `ok` or the error message."""
    names = list(checks)
    results = await asyncio.gather(*(_run_check(checks[name]) for name in names))
    return dict(zip(names, results, strict=True))


@get("/health", tags=["health"], sync_to_thread=False)
def health(state: State) -> HealthBody:
    """Liveness: the process answers."""
    settings: Any = state.settings
    return HealthBody(
        status="ok",
        service=settings.service_name,
        version=settings.version,
        uptime_s=_uptime(state),
    )


@get("/ready", tags=["health"])
async def ready(state: State) -> Response[ReadyBody]:
    """Readiness: 200 when every dependency answers, 503 naming what is down."""
    checks = await run_readiness_checks(state.readiness_checks)
    down = {name: message for name, message in checks.items() if message != "ok"}
    if down:
        _log.warning("not_ready", checks=down)
        return Response(ReadyBody(status="not_ready", checks=checks), status_code=503)
    return Response(ReadyBody(status="ready", checks=checks), status_code=200)


@get("/version", tags=["health"], sync_to_thread=False)
def version(state: State) -> VersionBody:
    """Version, git revision and uptime of this process."""
    settings: Any = state.settings
    return VersionBody(
        service=settings.service_name,
        version=settings.version,
        git_revision=settings.git_revision,
        uptime_s=_uptime(state),
    )


HEALTH_ROUTES = (health, ready, version)
