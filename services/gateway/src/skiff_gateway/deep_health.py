"""Deep health: every service's readiness, PostgreSQL as they report it, the gateway's NATS."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

import httpx
import msgspec
from nats.aio.client import Client as NATS

CHECK_SECONDS = 3


class Component(msgspec.Struct, omit_defaults=True):
    """One component's state: `ok` or `down`, with how long the check took."""

    status: str
    critical: bool
    latency_ms: float | None = None
    error: str | None = None
    reported_by: list[str] | None = None
    checks: dict[str, str] | None = None


class DeepHealth(msgspec.Struct):
    """The answer of `/api/v1/health/deep`."""

    status: str  # ok, degraded (an optional one is down) or down (a critical one is)
    components: dict[str, Component]


async def _ready(client: httpx.AsyncClient, name: str, url: str, critical: bool) -> Component:
    started = time.perf_counter()
    try:
        answer = await client.get(url + "/ready")
        latency = round((time.perf_counter() - started) * 1000, 2)
        body = answer.json() if answer.headers.get("content-type", "").startswith("app") else {}
    except (httpx.HTTPError, ValueError) as error:
        latency = round((time.perf_counter() - started) * 1000, 2)
        message = str(error) or type(error).__name__
        return Component("down", critical, latency, error=f"{name}: {message}"[:200])
    checks = body.get("checks") if isinstance(body, dict) else None
    checks = {str(k): str(v) for k, v in checks.items()} if isinstance(checks, dict) else None
    status = "ok" if answer.status_code == 200 else "down"
    problem = None if status == "ok" else f"/ready answered {answer.status_code}"
    return Component(status, critical, latency, error=problem, checks=checks)


async def _nats(connections: list[NATS]) -> Component:
    started = time.perf_counter()
    connected = [connection for connection in connections if connection.is_connected]
    if not connected:
        return Component("down", True, None, error="the gateway is not connected to NATS")
    try:
        await connected[0].flush(timeout=CHECK_SECONDS)
    except Exception as error:
        latency = round((time.perf_counter() - started) * 1000, 2)
        return Component("down", True, latency, error=str(error) or type(error).__name__)
    return Component("ok", True, round((time.perf_counter() - started) * 1000, 2))


def _postgres(services: Mapping[str, Component]) -> Component:
    """PostgreSQL as the services see it: their readiness check named `database`."""
    reporters = {
        name: component.checks["database"]
        for name, component in services.items()
        if component.checks and "database" in component.checks
    }
    if not reporters:
        return Component("unknown", False, error="no service reported its database")
    failing = {name: state for name, state in reporters.items() if state != "ok"}
    if failing:
        first = next(iter(failing.items()))
        return Component(
            "down", True, error=f"{first[0]}: {first[1]}"[:200], reported_by=sorted(reporters)
        )
    return Component("ok", True, reported_by=sorted(reporters))


async def check(
    upstreams: Mapping[str, str],
    nats_connections: Callable[[], list[NATS]],
    *,
    optional: Collection[str],
) -> DeepHealth:
    """Check everything at once (each within 3 s); down if a critical component is."""
    async with httpx.AsyncClient(timeout=CHECK_SECONDS) as client:
        names = sorted(upstreams)
        results = await asyncio.gather(
            *(_ready(client, n, upstreams[n], n not in optional) for n in names),
            _nats(nats_connections()),
        )
    components: dict[str, Any] = dict(zip(names, results[:-1], strict=True))
    services = dict(components)
    components["nats"] = results[-1]
    components["postgres"] = _postgres(services)
    if any(c.status == "down" and c.critical for c in components.values()):
        status = "down"
    elif any(c.status == "down" for c in components.values()):
        status = "degraded"
    else:
        status = "ok"
    return DeepHealth(status, components)
