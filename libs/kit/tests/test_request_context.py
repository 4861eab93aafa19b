"""`X-Request-Id` is echoed when sane, made otherwise, and present on every response."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from litestar import Request, get
from litestar.testing import AsyncTestClient
from litestar.types import Receive, Scope, Send
from skiff_kit.app import create_app
from skiff_kit.request_context import RequestContextMiddleware, request_id_of, sane_request_id
from skiff_kit.settings import ServiceSettings


@get("/whoami")
async def whoami(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The request id as the handler sees it."""
    return {"request_id": request_id_of(request)}


@pytest.fixture
async def client(
    make_settings: Callable[..., ServiceSettings],
) -> AsyncIterator[AsyncTestClient[Any]]:
    async with AsyncTestClient(create_app(make_settings(), route_handlers=[whoami])) as c:
        yield c


async def test_echoes_a_sane_incoming_id(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/whoami", headers={"X-Request-Id": "gw.abc-123_XYZ"})
    assert response.headers["x-request-id"] == "gw.abc-123_XYZ"
    assert response.json() == {"request_id": "gw.abc-123_XYZ"}


async def test_makes_one_when_absent(client: AsyncTestClient[Any]) -> None:
    first = await client.get("/whoami")
    second = await client.get("/whoami")
    assert first.headers["x-request-id"].startswith("req_")
    assert first.json()["request_id"] == first.headers["x-request-id"]
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


@pytest.mark.parametrize("bad", [b"has space", b"x" * 129, b"semi;colon", b"", "ünï".encode()])
async def test_replaces_an_insane_id(client: AsyncTestClient[Any], bad: bytes) -> None:
    response = await client.get("/whoami", headers={"X-Request-Id": bad})
    assert response.headers["x-request-id"].startswith("req_")
    assert response.headers.get_list("x-request-id") == [response.headers["x-request-id"]]


async def test_on_errors_and_health_too(client: AsyncTestClient[Any]) -> None:
    for response in (
        await client.get("/missing", headers={"X-Request-Id": "r1"}),
        await client.post("/whoami", headers={"X-Request-Id": "r2"}),
        await client.get("/health", headers={"X-Request-Id": "r3"}),
    ):
        assert response.headers["x-request-id"] in ("r1", "r2", "r3")
    assert (await client.get("/missing", headers={"X-Request-Id": "r1"})).json()[
        "request_id"
    ] == "r1"


def test_sane_request_id() -> None:
    assert sane_request_id("a" * 128) == "a" * 128
    assert sane_request_id("a" * 129) is None
    assert sane_request_id(None) is None
    assert sane_request_id("abc/def") is None


async def test_an_error_outside_the_framework_is_a_500_in_the_error_shape() -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("a bug in a raw ASGI layer")

    app = create_app(ServiceSettings(service_name="sample"))
    context = app.asgi_handler
    assert isinstance(context, RequestContextMiddleware)
    context.app = broken  # as the gateway puts its door inside the middleware
    async with AsyncTestClient(app) as client:
        response = await client.get("/anything", headers={"X-Request-Id": "req-broken"})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "req-broken"
    assert response.json() == {
        "error": "Internal server error",
        "code": "internal_error",
        "details": {},
        "request_id": "req-broken",
    }
