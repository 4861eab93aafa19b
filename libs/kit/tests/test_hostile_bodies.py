"""Hostile JSON (too deep, not UTF-8, too big) and an unreachable database never answer 500."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import get, post
from litestar.params import JSONBody
from litestar.testing import AsyncTestClient
from skiff_kit.app import create_app
from skiff_kit.db import DbSession
from skiff_kit.json_guard import MAX_DEPTH, nesting_depth
from skiff_kit.settings import ServiceSettings
from sqlalchemy import text


@post("/anything")
async def anything(data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
    """Echo a free-form body (what `metadata` fields take)."""
    return data


@get("/rows")
async def rows(db_session: DbSession) -> int:
    """A route that needs the database."""
    return int((await db_session.execute(text("select 1"))).scalar_one())


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def client() -> AsyncIterator[AsyncTestClient[Any]]:
    settings = ServiceSettings(
        database_url=f"postgresql+asyncpg://nobody:x@127.0.0.1:{_closed_port()}/none",
        database_schema="public",
        log_level="critical",
    )
    app = create_app(settings, route_handlers=[anything, rows])
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


JSON = {"content-type": "application/json"}


def test_depth_ignores_brackets_inside_strings() -> None:
    assert nesting_depth(b'{"a": "[[[[{{{{", "b": [1, {"c": "]]\\"[["}]}') == 3
    assert nesting_depth(b"[" * 70 + b"]" * 70) == 70
    assert nesting_depth(b'"just a string"') == 0


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 10_000 + b"]" * 10_000,
        b'{"metadata": {"a": ' + b"[" * 10_000 + b"]" * 10_000 + b"}}",
        b'{"env": ' + b'{"a":' * 5_000 + b"1" + b"}" * 5_000 + b"}",
    ],
)
async def test_json_nested_too_deep_is_a_400_naming_the_limit(
    client: AsyncTestClient[Any], body: bytes
) -> None:
    response = await client.post("/anything", content=body, headers=JSON)

    assert response.status_code == 400
    assert response.json()["code"] == "json_too_deep"
    assert response.json()["details"]["max_depth"] == MAX_DEPTH
    assert str(MAX_DEPTH) in response.json()["error"]
    assert response.json()["request_id"] == response.headers["x-request-id"]


async def test_json_at_the_depth_limit_is_accepted(client: AsyncTestClient[Any]) -> None:
    inner = b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1)
    response = await client.post("/anything", content=b'{"a": ' + inner + b"}", headers=JSON)

    assert response.status_code == 201


async def test_invalid_utf8_inside_a_string_is_a_400(client: AsyncTestClient[Any]) -> None:
    response = await client.post("/anything", content=b'{"name": "\xff\xfe"}', headers=JSON)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_utf8"


async def test_a_json_body_over_the_limit_is_a_413(client: AsyncTestClient[Any]) -> None:
    body = b'{"a": "' + b"x" * (5 * 1024 * 1024) + b'"}'

    response = await client.post("/anything", content=body, headers=JSON)

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


async def test_an_unreachable_database_is_a_503_with_retry_after(
    client: AsyncTestClient[Any],
) -> None:
    response = await client.get("/rows")

    assert response.status_code == 503
    assert response.json()["code"] == "database_unavailable"
    assert response.headers["retry-after"] == "5"
    ready = await client.get("/ready")
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] != "ok"
