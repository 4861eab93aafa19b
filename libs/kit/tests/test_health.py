"""Liveness, readiness (with named checks, 503 when one fails) and version."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from skiff_embedded import free_port
from skiff_kit.app import create_app
from skiff_kit.health import register_readiness_check, run_readiness_checks
from skiff_kit.settings import ServiceSettings


async def test_health_and_version(make_settings: Callable[..., ServiceSettings]) -> None:
    async with AsyncTestClient(create_app(make_settings())) as client:
        health = (await client.get("/health")).json()
        version = (await client.get("/version")).json()
    assert health["status"] == "ok"
    assert health["service"] == "kit-test"
    assert health["version"] == "1.2.3"
    assert health["uptime_s"] >= 0
    assert version["git_revision"] == "abc123"
    assert set(version) == {"service", "version", "git_revision", "uptime_s"}


async def test_ready_without_checks(make_settings: Callable[..., ServiceSettings]) -> None:
    async with AsyncTestClient(create_app(make_settings())) as client:
        response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {}}


async def test_ready_is_503_when_the_database_is_unreachable(
    make_settings: Callable[..., ServiceSettings],
) -> None:
    url = f"postgresql+asyncpg://nobody:x@127.0.0.1:{free_port()}/nothing"
    async with AsyncTestClient(create_app(make_settings(database_url=url))) as client:
        response = await client.get("/ready")
        assert (await client.get("/health")).status_code == 200
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["database"] != "ok"


async def test_registered_checks_by_name(make_settings: Callable[..., ServiceSettings]) -> None:
    async def nats_ok() -> None:
        return None

    async def cache_down() -> None:
        raise ConnectionError("cache refused the connection")

    @asynccontextmanager
    async def later(app: Litestar) -> AsyncIterator[None]:
        register_readiness_check(app, "cache", cache_down)
        yield

    app = create_app(make_settings(), readiness_checks={"nats": nats_ok}, lifespan=[later])
    async with AsyncTestClient(app) as client:
        response = await client.get("/ready")
    assert response.status_code == 503
    assert response.json()["checks"] == {"nats": "ok", "cache": "cache refused the connection"}


async def test_a_hanging_check_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("skiff_kit.health.CHECK_TIMEOUT_SECONDS", 0.05)

    async def hangs() -> None:
        await asyncio.sleep(10)

    assert await run_readiness_checks({"slow": hangs}) == {"slow": "timed out after 0.05s"}
